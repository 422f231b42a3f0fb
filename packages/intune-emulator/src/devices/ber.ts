/**
 * A small DER -> BER re-encoder: chosen constructed elements get the indefinite length form (`0x80` ... `00 00`)
 * and chosen OCTET STRINGs become constructed, chunked ones, as a streaming CMS encoder (Apple's) writes them.
 * Everything else is copied byte for byte, so signed attributes keep their DER (the signature covers it).
 */

interface Tlv {
  /** Identifier octets. */
  id: Buffer;
  constructed: boolean;
  /** Contents (primitive) or the children (constructed). */
  content: Buffer;
  children: Tlv[];
}

function parse(b: Buffer, pos: number, end: number, depth: number): { tlv: Tlv; next: number } {
  if (depth > 64) throw new RangeError('ber: nesting too deep');
  const start = pos;
  if (pos >= end) throw new RangeError('ber: truncated element');
  const constructed = (b[pos]! & 0x20) !== 0;
  if ((b[pos++]! & 0x1f) === 0x1f) while (pos < end && b[pos++]! & 0x80);
  const id = b.subarray(start, pos);
  const first = b[pos++];
  if (first === undefined || first === 0x80)
    throw new RangeError('ber: input must be DER (definite lengths)');
  let len = first;
  if (first & 0x80) {
    len = 0;
    for (let i = 0; i < (first & 0x7f); i++) len = len * 256 + (b[pos++] ?? 0);
  }
  const contentEnd = pos + len;
  if (contentEnd > end) throw new RangeError('ber: length exceeds the data');
  const content = b.subarray(pos, contentEnd);
  const children: Tlv[] = [];
  if (constructed) {
    for (let p = pos; p < contentEnd;) {
      const child = parse(b, p, contentEnd, depth + 1);
      children.push(child.tlv);
      p = child.next;
    }
  }
  return { tlv: { id, constructed, content, children }, next: contentEnd };
}

function definite(id: Buffer, body: Buffer): Buffer {
  const n = body.length;
  if (n < 0x80) return Buffer.concat([id, Buffer.from([n]), body]);
  const len: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) len.unshift(v & 0xff);
  return Buffer.concat([id, Buffer.from([0x80 | len.length, ...len]), body]);
}

const EOC = Buffer.from([0, 0]);
const OCTET_STRING = 0x04;

/** What to do with the element at `path` (child indexes from the root; `[]` is the root). */
export type BerRule = (path: readonly number[], tag: number) => 'indefinite' | 'chunked' | 'keep';

function encode(t: Tlv, path: number[], rule: BerRule, chunk: number): Buffer {
  const action = rule(path, t.id[0]!);
  if (!t.constructed) {
    if (action !== 'chunked' || t.id[0] !== OCTET_STRING) return definite(t.id, t.content);
    // RFC 5652 §5.2 / X.690 §8.7.3: a constructed OCTET STRING of primitive segments, indefinite length.
    const parts: Buffer[] = [Buffer.from([0x24, 0x80])];
    for (let i = 0; i < t.content.length; i += chunk) {
      parts.push(definite(Buffer.from([OCTET_STRING]), t.content.subarray(i, i + chunk)));
    }
    parts.push(EOC);
    return Buffer.concat(parts);
  }
  const body = Buffer.concat(t.children.map((c, i) => encode(c, [...path, i], rule, chunk)));
  if (action === 'indefinite') return Buffer.concat([t.id, Buffer.from([0x80]), body, EOC]);
  return definite(t.id, body);
}

/** Re-encodes one DER element by `rule`; OCTET STRINGs marked `chunked` are split in `chunkBytes` segments. */
export function reencodeBer(der: Uint8Array, rule: BerRule, chunkBytes = 1000): Buffer {
  const b = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const { tlv, next } = parse(b, 0, b.length, 0);
  if (next !== b.length) throw new RangeError('ber: trailing bytes');
  return encode(tlv, [], rule, chunkBytes);
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
  const b = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const signedData = parse(b, 0, b.length, 0).tlv.children[1]?.children[0];
  const lastIndex = (signedData?.children.length ?? 0) - 1;
  const indefinite = [[], [1], [1, 0], [1, 0, 2], [1, 0, 2, 1], [1, 0, lastIndex]];
  return reencodeBer(der, (path, tag) => {
    if (indefinite.some((p) => same(p, path))) return 'indefinite';
    // certificates [0] IMPLICIT SET OF Certificate, right after encapContentInfo.
    if (same(path, [1, 0, 3]) && tag === 0xa0) return 'indefinite';
    if (same(path, [1, 0, 2, 1, 0])) return 'chunked';
    return 'keep';
  });
}
