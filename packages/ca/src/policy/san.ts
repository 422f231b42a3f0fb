import * as asn1js from 'asn1js';
import { toArrayBuffer } from '../bytes.js';
import { PolicyError } from '../errors.js';
import { INTUNE_SID_URI_PREFIX, OID } from '../oids.js';

/** SAN kinds the policy can allow. `sid` is Intune's `tag:microsoft.com,2022-09-14:sid:<SID>` URI. */
export type SanType = 'email' | 'dns' | 'uri' | 'upn' | 'ip' | 'sid' | 'other';

/** One GeneralName of a subjectAltName, with its exact DER. */
export interface SanEntry {
  type: SanType;
  /** Printable value (IP in dotted/colon form); empty for `other`. */
  value: string;
  der: Uint8Array;
}

/** Parse a subjectAltName extension value (GeneralNames, RFC 5280 §4.2.1.6). */
export function parseSan(extnValue: Uint8Array): SanEntry[] {
  const parsed = asn1js.fromBER(toArrayBuffer(extnValue));
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) {
    throw new PolicyError('badRequest', 'malformed subjectAltName');
  }
  return parsed.result.valueBlock.value.map((gn) => {
    const der = new Uint8Array(gn.valueBeforeDecodeView);
    if (gn.idBlock.tagClass !== 3) throw new PolicyError('badRequest', 'malformed GeneralName');
    const raw = () => Buffer.from((gn as asn1js.Primitive).valueBlock.valueHexView);
    switch (gn.idBlock.tagNumber) {
      case 1:
        return { type: 'email' as const, value: raw().toString('latin1'), der };
      case 2:
        return { type: 'dns' as const, value: raw().toString('latin1'), der };
      case 6: {
        const value = raw().toString('latin1');
        return {
          type: value.startsWith(INTUNE_SID_URI_PREFIX) ? ('sid' as const) : ('uri' as const),
          value,
          der,
        };
      }
      case 7:
        return { type: 'ip' as const, value: formatIp(raw()), der };
      case 0: {
        const upn = readUpn(gn);
        return upn === null
          ? { type: 'other' as const, value: '', der }
          : { type: 'upn' as const, value: upn, der };
      }
      default:
        return { type: 'other' as const, value: '', der };
    }
  });
}

/** GeneralNames DER of these entries (their bytes reused as received). */
export function encodeSan(entries: readonly SanEntry[]): Uint8Array {
  const seq = new asn1js.Sequence({
    value: entries.map((e) => asn1js.fromBER(toArrayBuffer(e.der)).result),
  });
  return new Uint8Array(seq.toBER());
}

/** The store's SAN string form (`dns:x`, `email:x`, `upn:x`, `uri:x`, `ip:x`). */
export function sanToStoreString(entry: SanEntry): string | null {
  const prefix = entry.type === 'sid' ? 'uri' : entry.type;
  if (prefix === 'other') return null;
  return `${prefix}:${entry.value.replace(/[\r\n]/g, '')}`;
}

// otherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }; the UPN value is a UTF8String.
function readUpn(gn: asn1js.BaseBlock): string | null {
  const parts = (gn as asn1js.Constructed).valueBlock.value ?? [];
  const oid = parts[0];
  const wrapped = parts[1];
  if (!(oid instanceof asn1js.ObjectIdentifier) || oid.valueBlock.toString() !== OID.upn) return null;
  const inner = (wrapped as asn1js.Constructed | undefined)?.valueBlock.value?.[0];
  return inner instanceof asn1js.Utf8String ? inner.valueBlock.value : null;
}

function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) return (bytes.toString('hex').match(/.{4}/g) ?? []).join(':');
  return bytes.toString('hex');
}
