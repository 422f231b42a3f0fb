// @peculiar/x509 needs the Reflect metadata polyfill (tsyringe) loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { CaError } from '../errors.js';

/** Name DER from an RFC 4514-style string (`CN=scepkit CA, O=Example`), via @peculiar/x509. */
export function nameFromString(dn: string): Uint8Array {
  try {
    return new Uint8Array(new x509.Name(dn).toArrayBuffer());
  } catch (err) {
    throw new CaError('bad-name', `invalid distinguished name`, err);
  }
}

/** RFC 4514 string of a Name DER (for display and the store's `subject` column). */
export function nameToString(der: Uint8Array, tree?: asn1js.AsnType): string {
  return plainNameToString(der, tree) ?? new x509.Name(der).toString();
}

/** @peculiar/x509's short names (its `toString` writes these; any other type as its dotted OID). */
const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'E',
  '2.5.4.42': 'G',
  '2.5.4.43': 'I',
  '2.5.4.4': 'SN',
  '2.5.4.12': 'T',
};

/** UTF8String, PrintableString, IA5String: for ASCII contents, each reads as its bytes. */
const ASCII_STRING_TAGS = new Set([12, 19, 22]);

/**
 * The common case without @peculiar/x509's schema parse (a third of a millisecond per request): every attribute
 * a known short name with a string of printable ASCII that needs no escaping (no `,+"\<>;#`, no leading or
 * trailing space). Gives exactly what @peculiar/x509 would (a test compares them); anything else: undefined.
 */
export function plainNameToString(der: Uint8Array, tree?: asn1js.AsnType): string | undefined {
  let name = tree;
  if (name === undefined) {
    const parsed = asn1js.fromBER(der, { parseEmbedded: false });
    if (parsed.offset !== der.byteLength) return undefined;
    name = parsed.result;
  }
  if (!(name instanceof asn1js.Sequence)) return undefined;
  const rdns: string[] = [];
  for (const rdn of name.valueBlock.value) {
    if (!(rdn instanceof asn1js.Set) || rdn.valueBlock.value.length === 0) return undefined;
    const parts: string[] = [];
    for (const atv of rdn.valueBlock.value) {
      const [type, value, extra] = atv instanceof asn1js.Sequence ? atv.valueBlock.value : [];
      if (!(type instanceof asn1js.ObjectIdentifier) || value === undefined || extra !== undefined)
        return undefined;
      const short = SHORT_NAMES[type.valueBlock.toString()];
      const { tagClass, tagNumber, isConstructed } = value.idBlock;
      if (!short || tagClass !== 1 || isConstructed || !ASCII_STRING_TAGS.has(tagNumber)) return undefined;
      const bytes = (value.valueBlock as unknown as { valueHexView: Uint8Array }).valueHexView;
      if (!plainAscii(bytes)) return undefined;
      parts.push(
        `${short}=${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')}`,
      );
    }
    rdns.push(parts.join('+'));
  }
  return rdns.join(', ');
}

/** Bytes that RFC 4514 escapes: comma, plus, quote, backslash, angle brackets, semicolon, and # (when leading). */
const SPECIALS = new Set([0x2c, 0x2b, 0x22, 0x5c, 0x3c, 0x3e, 0x3b, 0x23]);

/** Printable ASCII without RFC 4514 specials, not starting or ending with a space. */
function plainAscii(b: Uint8Array): boolean {
  if (b.length === 0 || b[0] === 0x20 || b[b.length - 1] === 0x20) return false;
  for (const c of b) if (c < 0x20 || c > 0x7e || SPECIALS.has(c)) return false;
  return true;
}
