import * as asn1js from 'asn1js';
import { ScepError } from './errors.js';

/** Bounds applied to every DER/BER structure before it is handed to asn1js. */
export interface DerLimits {
  /** Maximum nesting depth of constructed elements. */
  maxDepth: number;
  /** Maximum total size in bytes. */
  maxBytes: number;
}

export const DEFAULT_DER_LIMITS: DerLimits = { maxDepth: 40, maxBytes: 1024 * 1024 };

/**
 * Walks the TLV structure once (BER, including indefinite lengths as iOS sends them) and checks lengths and
 * nesting depth, so that asn1js never sees a structure that could exhaust the stack or claim more bytes than given.
 * Returns the offset just past the element.
 */
function scanElement(b: Uint8Array, pos: number, end: number, depth: number, maxDepth: number): number {
  if (depth > maxDepth) throw new ScepError('limitExceeded', `ASN.1 nesting deeper than ${maxDepth}`);
  if (pos >= end) throw new ScepError('malformed', 'truncated ASN.1 element');
  const tag = b[pos++]!;
  const constructed = (tag & 0x20) !== 0;
  if ((tag & 0x1f) === 0x1f) {
    // high tag number form: base-128 digits, at most 4 of them
    let n = 0;
    while (pos < end && (b[pos]! & 0x80) !== 0) {
      pos++;
      if (++n > 4) throw new ScepError('malformed', 'ASN.1 tag number too long');
    }
    pos++;
  }
  if (pos >= end) throw new ScepError('malformed', 'truncated ASN.1 length');
  const first = b[pos++]!;
  if (first === 0x80) {
    if (!constructed) throw new ScepError('malformed', 'indefinite length on a primitive element');
    for (;;) {
      if (pos + 1 < end && b[pos] === 0 && b[pos + 1] === 0) return pos + 2;
      if (pos >= end) throw new ScepError('malformed', 'missing end-of-contents octets');
      pos = scanElement(b, pos, end, depth + 1, maxDepth);
    }
  }
  let len = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new ScepError('malformed', 'unsupported ASN.1 length form');
    if (pos + n > end) throw new ScepError('malformed', 'truncated ASN.1 length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[pos++]!;
  }
  const contentEnd = pos + len;
  if (contentEnd > end) throw new ScepError('malformed', 'ASN.1 length exceeds the data');
  if (constructed) {
    while (pos < contentEnd) pos = scanElement(b, pos, contentEnd, depth + 1, maxDepth);
  }
  return contentEnd;
}

/** Checks bounds, then parses one complete BER/DER element with asn1js. Trailing bytes are an error. */
export function parseDer(
  bytes: Uint8Array,
  what: string,
  limits: DerLimits = DEFAULT_DER_LIMITS,
): asn1js.AsnType {
  if (bytes.length === 0) throw new ScepError('malformed', `${what}: empty input`);
  if (bytes.length > limits.maxBytes) {
    throw new ScepError('limitExceeded', `${what}: ${bytes.length} bytes exceeds ${limits.maxBytes}`);
  }
  let end: number;
  try {
    end = scanElement(bytes, 0, bytes.length, 0, limits.maxDepth);
  } catch (e) {
    if (e instanceof ScepError) throw new ScepError(e.code, `${what}: ${e.message}`);
    throw e;
  }
  if (end !== bytes.length)
    throw new ScepError('malformed', `${what}: trailing bytes after the ASN.1 element`);
  const parsed = asn1js.fromBER(bytes);
  if (parsed.offset === -1) throw new ScepError('malformed', `${what}: ${parsed.result.error || 'bad BER'}`);
  return parsed.result;
}

/** Runs a pkijs schema constructor and turns its exceptions into a typed error. */
export function fromSchema<T>(what: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    throw new ScepError('malformed', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** The bytes of an OCTET STRING, joining the chunks of a constructed (BER) one. */
export function octetStringBytes(os: asn1js.OctetString): Uint8Array {
  if (!os.idBlock.isConstructed) return new Uint8Array(os.valueBlock.valueHexView);
  const parts: Uint8Array[] = [];
  for (const chunk of os.valueBlock.value) {
    if (!(chunk instanceof asn1js.OctetString))
      throw new ScepError('malformed', 'constructed OCTET STRING chunk');
    parts.push(octetStringBytes(chunk));
  }
  return Buffer.concat(parts);
}

/** The bytes a parsed element was decoded from. */
export function encodedBytes(el: { valueBeforeDecodeView: Uint8Array }): Uint8Array {
  return el.valueBeforeDecodeView;
}

/** A Buffer view over any byte source, without copying. */
export function asBuffer(b: Uint8Array | ArrayBuffer): Buffer {
  if (b instanceof ArrayBuffer) return Buffer.from(b);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** DER of one TLV: `tag`, a definite length, then the contents (concatenated). */
export function encodeTlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(contents);
  const n = body.length;
  let header: number[];
  if (n < 0x80) header = [tag, n];
  else if (n < 0x100) header = [tag, 0x81, n];
  else if (n < 0x10000) header = [tag, 0x82, n >> 8, n & 0xff];
  else if (n < 0x1000000) header = [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  else header = [tag, 0x84, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  return new Uint8Array(Buffer.concat([Buffer.from(header), body]));
}
