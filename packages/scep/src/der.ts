import * as asn1js from 'asn1js';
import { ScepError } from './errors.js';

/** Bounds applied to every DER/BER structure before it is handed to asn1js. */
export interface DerLimits {
  /** Maximum nesting depth of constructed elements. */
  maxDepth: number;
  /** Maximum total size in bytes. */
  maxBytes: number;
  /**
   * Maximum number of ASN.1 elements (default 4,000; a request with 16 certificates has about 1,100). asn1js costs
   * microseconds per element, so this bounds the parse time of a hostile message, not only its memory.
   */
  maxNodes?: number;
}

export const DEFAULT_DER_LIMITS: DerLimits = { maxDepth: 40, maxBytes: 1024 * 1024, maxNodes: 4000 };

/**
 * Walks the TLV structure once (BER, including indefinite lengths as iOS sends them) and checks lengths and
 * nesting depth, so that asn1js never sees a structure that could exhaust the stack or claim more bytes than given.
 * Returns the offset just past the element.
 */
function scanElement(
  b: Uint8Array,
  pos: number,
  end: number,
  depth: number,
  maxDepth: number,
  budget: { nodes: number },
  derLengths = false,
): number {
  if (depth > maxDepth) throw new ScepError('limitExceeded', `ASN.1 nesting deeper than ${maxDepth}`);
  if (--budget.nodes < 0) throw new ScepError('limitExceeded', 'too many ASN.1 elements');
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
    if (derLengths) throw new ScepError('malformed', 'indefinite length (not DER)');
    if (!constructed) throw new ScepError('malformed', 'indefinite length on a primitive element');
    for (;;) {
      if (pos + 1 < end && b[pos] === 0 && b[pos + 1] === 0) return pos + 2;
      if (pos >= end) throw new ScepError('malformed', 'missing end-of-contents octets');
      pos = scanElement(b, pos, end, depth + 1, maxDepth, budget);
    }
  }
  let len = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new ScepError('malformed', 'unsupported ASN.1 length form');
    if (pos + n > end) throw new ScepError('malformed', 'truncated ASN.1 length');
    if (derLengths && b[pos] === 0)
      throw new ScepError('malformed', 'length with leading zero octets (not DER)');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[pos++]!;
    if (derLengths && len < 128) throw new ScepError('malformed', 'long-form length under 128 (not DER)');
  }
  const contentEnd = pos + len;
  if (contentEnd > end) throw new ScepError('malformed', 'ASN.1 length exceeds the data');
  if (constructed) {
    while (pos < contentEnd) pos = scanElement(b, pos, contentEnd, depth + 1, maxDepth, budget, derLengths);
  }
  return contentEnd;
}

/**
 * True when `bytes` is exactly one element whose every length is in DER form (definite, minimal), within
 * `maxDepth`: such bytes can be written into a certificate as they are (`encodedElement`).
 */
export function hasDerLengths(bytes: Uint8Array, maxDepth = DEFAULT_DER_LIMITS.maxDepth): boolean {
  try {
    return (
      bytes.length > 0 &&
      scanElement(bytes, 0, bytes.length, 0, maxDepth, { nodes: Infinity }, true) === bytes.length
    );
  } catch (err) {
    if (err instanceof ScepError) return false;
    throw err;
  }
}

/**
 * Checks that `bytes` is exactly one well-formed BER element within `maxDepth`, without an element budget and without
 * asn1js: for our own inputs (a CRL to send can have any number of entries).
 */
export function scanOnly(bytes: Uint8Array, what: string, maxDepth = DEFAULT_DER_LIMITS.maxDepth): void {
  try {
    if (bytes.length === 0) throw new ScepError('malformed', 'empty input');
    const end = scanElement(bytes, 0, bytes.length, 0, maxDepth, { nodes: Infinity });
    if (end !== bytes.length) throw new ScepError('malformed', 'trailing bytes after the ASN.1 element');
  } catch (e) {
    if (e instanceof ScepError) throw new ScepError(e.code, `${what}: ${e.message}`);
    throw e;
  }
}

const CSR_TREE = Symbol('scepkit.csrTree');

/**
 * The asn1js tree `openScepRequest` parsed from a request's CSR (the very `Uint8Array` it returned, bounded by
 * the DER limits, parsed without embedded contents), so the CA reads the CSR without parsing it again. The
 * bytes must not be changed after that.
 */
export function parsedCsrTree(csr: Uint8Array): asn1js.AsnType | undefined {
  return (csr as Uint8Array & { [CSR_TREE]?: asn1js.AsnType })[CSR_TREE];
}

/**
 * Records the tree `parsedCsrTree` returns for `csr`, as a non-enumerable symbol property of the array, so it
 * lives exactly as long as the array. Not a `WeakMap`: in Node 20 a WeakMap entry whose key died young was not
 * freed by young-generation collections, its value survived each of them and was promoted until a full
 * collection (a loop of parses, each remembered in a WeakMap: 9 MB surviving each scavenge, against 0.1 MB
 * without; BENCHMARKS.md, item 18).
 */
export function rememberCsrTree(csr: Uint8Array, tree: asn1js.AsnType): void {
  if (Object.isExtensible(csr)) {
    Object.defineProperty(csr, CSR_TREE, {
      value: tree,
      configurable: true,
      writable: true,
      enumerable: false,
    });
  }
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
    const budget = { nodes: limits.maxNodes ?? DEFAULT_DER_LIMITS.maxNodes ?? 4000 };
    end = scanElement(bytes, 0, bytes.length, 0, limits.maxDepth, budget);
  } catch (e) {
    if (e instanceof ScepError) throw new ScepError(e.code, `${what}: ${e.message}`);
    throw e;
  }
  if (end !== bytes.length)
    throw new ScepError('malformed', `${what}: trailing bytes after the ASN.1 element`);
  // No speculative parsing of OCTET/BIT STRING contents: it doubles the work and bypasses the pre-scan above.
  let parsed: ReturnType<typeof asn1js.fromBER>;
  try {
    // The pre-scan enforced our element budget; asn1js's own default (10,000) must not undercut a raised one.
    // Doubled: asn1js also counts the end-of-contents octets of indefinite lengths.
    const maxNodes = 2 * (limits.maxNodes ?? DEFAULT_DER_LIMITS.maxNodes ?? 4000) + 2;
    parsed = asn1js.fromBER(bytes, { parseEmbedded: false, maxNodes, maxContentLength: limits.maxBytes });
  } catch (e) {
    // asn1js throws (rather than reporting) on some contents, e.g. a GeneralizedTime that is not a time.
    throw new ScepError('malformed', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (parsed.offset === -1) {
    const error = parsed.result.error || 'bad BER';
    // asn1js's own bounds (node count, depth, content length) are limits, not malformations.
    const code = /^Maximum ASN\.1 /.test(error) ? 'limitExceeded' : 'malformed';
    throw new ScepError(code, `${what}: ${error}`);
  }
  return parsed.result;
}

/** Runs a pkijs schema constructor and turns its exceptions into a typed error. */
export function fromSchema<T>(what: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    // A typed error from inside (e.g. parseDer's limits) keeps its code.
    if (e instanceof ScepError) throw e;
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

const NO_BYTES = new ArrayBuffer(0);

/** What asn1js passes to a child's `toBER` while encoding its parent. */
interface AsnWriter {
  write(buf: ArrayBuffer): void;
}

/**
 * An element that is already encoded (a certificate's, CRL's or Name's own bytes), as a child asn1js writes out
 * unchanged when it encodes the parent: asn1js re-encodes a parsed element node by node on every `toBER`, about
 * 0.3 ms per certificate. `der` must be exactly one complete element; it is copied, so later changes to the
 * caller's array do not show.
 */
export function encodedElement(der: Uint8Array): asn1js.AsnType {
  const bytes = der.slice().buffer;
  const element = {
    toBER(_sizeOnly?: boolean, writer?: AsnWriter): ArrayBuffer {
      if (!writer) return bytes.slice(0);
      writer.write(bytes);
      return NO_BYTES;
    },
  };
  return element as unknown as asn1js.AsnType;
}

const oidDers = new Map<string, Uint8Array>();
const OID_CACHE_LIMIT = 512;

/**
 * An OBJECT IDENTIFIER element: asn1js encodes each identifier once (it builds one from its dotted form digit by
 * digit, and encodes it again on every `toBER`), and the element writes those bytes.
 */
export function oidElement(oid: string): asn1js.AsnType {
  let der = oidDers.get(oid);
  if (der === undefined) {
    der = new Uint8Array(new asn1js.ObjectIdentifier({ value: oid }).toBER());
    if (der.byteLength < 3) throw new Error(`cannot encode the object identifier ${oid}`);
    if (oidDers.size < OID_CACHE_LIMIT) oidDers.set(oid, der);
  }
  return encodedElement(der);
}

/**
 * The same element with every indefinite length made definite (contents otherwise unchanged), so that a name or
 * identifier a client sent in BER (iOS) compares equal to the DER in a certificate.
 */
export function definiteLengths(ber: Uint8Array): Uint8Array {
  if (!ber.includes(0x80)) return ber;
  const tree = parseDer(ber, 'BER element');
  if (!makeDefinite(tree)) return ber;
  return new Uint8Array(tree.toBER());
}

/** Clears the indefinite-length flags of `el` and its descendants; true when there was one. */
function makeDefinite(el: asn1js.AsnType): boolean {
  let changed = false;
  if (el.lenBlock.isIndefiniteForm) {
    el.lenBlock.isIndefiniteForm = false;
    changed = true;
  }
  const value = el.valueBlock as { isIndefiniteForm?: boolean; value?: unknown };
  if (value.isIndefiniteForm) {
    value.isIndefiniteForm = false;
    changed = true;
  }
  if (el.idBlock.isConstructed && Array.isArray(value.value)) {
    for (const child of value.value as asn1js.AsnType[]) changed = makeDefinite(child) || changed;
  }
  return changed;
}
