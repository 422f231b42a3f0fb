import * as asn1js from 'asn1js';
import { encodedElement } from '@scepkit/scep';

/**
 * A DER -> BER re-encoder built on asn1js: chosen constructed elements get the indefinite length form (`0x80` ... `00 00`)
 * and chosen OCTET STRINGs become constructed, chunked ones, as a streaming CMS encoder (Apple's) writes them.
 * Everything else is copied byte for byte, so signed attributes keep their DER (the signature covers it).
 */

const OCTET_STRING = 0x04;

/** What to do with the element at `path` (child indexes from the root; `[]` is the root). */
export type BerRule = (path: readonly number[], tag: number) => 'indefinite' | 'chunked' | 'keep';

/** One parsed DER element with its bytes (for the parts copied unchanged). */
function parse(der: Uint8Array): asn1js.AsnType {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1) throw new RangeError(`ber: ${parsed.result.error}`);
  if (parsed.offset !== der.byteLength) throw new RangeError('ber: trailing bytes');
  return parsed.result;
}

function hasIndefinite(el: asn1js.AsnType): boolean {
  if (el.lenBlock.isIndefiniteForm) return true;
  const value = (el.valueBlock as { value?: unknown }).value;
  return el.idBlock.isConstructed && Array.isArray(value) && (value as asn1js.AsnType[]).some(hasIndefinite);
}

/**
 * The element re-expressed by `rule` as asn1js elements: unchanged subtrees are their own bytes
 * (`encodedElement`), changed constructed ones are rebuilt with the same tag around their re-expressed children.
 */
function express(
  el: asn1js.AsnType,
  path: number[],
  rule: BerRule,
  chunk: number,
): { el: asn1js.AsnType; changed: boolean } {
  // encodedElement copies what it keeps: the view into the parsed input is enough here.
  const bytes = el.valueBeforeDecodeView;
  const action = rule(path, bytes[0]!);
  if (!el.idBlock.isConstructed) {
    if (action !== 'chunked' || bytes[0] !== OCTET_STRING)
      return { el: encodedElement(bytes), changed: false };
    // RFC 5652 §5.2 / X.690 §8.7.3: a constructed OCTET STRING of primitive segments, indefinite length.
    const content = (el as asn1js.OctetString).valueBlock.valueHexView;
    const segments: asn1js.OctetString[] = [];
    for (let i = 0; i < content.length; i += chunk) {
      segments.push(new asn1js.OctetString({ valueHex: content.slice(i, i + chunk) }));
    }
    return {
      el: new asn1js.OctetString({
        isConstructed: true,
        isIndefiniteForm: true,
        value: segments,
      }),
      changed: true,
    };
  }
  const children = (el.valueBlock as unknown as { value: asn1js.AsnType[] }).value.map((c, i) =>
    express(c, [...path, i], rule, chunk),
  );
  if (action !== 'indefinite' && !children.some((c) => c.changed)) {
    return { el: encodedElement(bytes), changed: false };
  }
  return {
    el: new asn1js.Constructed({
      idBlock: { tagClass: el.idBlock.tagClass, tagNumber: el.idBlock.tagNumber },
      lenBlock: { isIndefiniteForm: action === 'indefinite' },
      value: children.map((c) => c.el),
    }),
    changed: true,
  };
}

/** Re-encodes one DER element by `rule`; OCTET STRINGs marked `chunked` are split in `chunkBytes` segments. */
export function reencodeBer(der: Uint8Array, rule: BerRule, chunkBytes = 1000): Buffer {
  const root = parse(der);
  if (hasIndefinite(root)) throw new RangeError('ber: input must be DER (definite lengths)');
  const { el } = express(root, [], rule, chunkBytes);
  // Encoded through a writer of our own: asn1js's top-level toBER would also make every ancestor of an indefinite
  // element indefinite, and a rule may keep a parent definite around an indefinite child (X.690 allows it).
  const parts: Uint8Array[] = [];
  el.toBER(false, {
    write: (buf: ArrayBuffer) => parts.push(new Uint8Array(buf)),
  } as unknown as asn1js.ViewWriter);
  return Buffer.concat(parts);
}

const same = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * A pkiMessage as iOS/macOS send it (docs/intune-api.md §5, the NDES capture: "BER indefinite-length
 * SignedData"): ContentInfo, its `[0]`, SignedData, encapContentInfo and its `[0]`, the certificates `[0]` and
 * the signerInfos SET in indefinite form, and the eContent OCTET STRING chunked. The SignerInfo (and so its
 * DER signed attributes) and the certificates are unchanged.
 */
export function appleBer(der: Uint8Array): Buffer {
  const contentInfo = parse(der) as asn1js.Sequence;
  const explicit = contentInfo.valueBlock.value[1] as asn1js.Constructed | undefined;
  const signedData = explicit?.valueBlock.value[0] as asn1js.Sequence | undefined;
  const lastIndex = (signedData?.valueBlock.value.length ?? 0) - 1;
  const indefinite = [[], [1], [1, 0], [1, 0, 2], [1, 0, 2, 1], [1, 0, lastIndex]];
  return reencodeBer(der, (path, tag) => {
    if (indefinite.some((p) => same(p, path))) return 'indefinite';
    // certificates [0] IMPLICIT SET OF Certificate, right after encapContentInfo.
    if (same(path, [1, 0, 3]) && tag === 0xa0) return 'indefinite';
    if (same(path, [1, 0, 2, 1, 0])) return 'chunked';
    return 'keep';
  });
}
