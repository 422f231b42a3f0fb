/*
 * A tiny TLV reader/writer for tests: re-encode DER as BER with indefinite lengths and chunked OCTET STRINGs (as iOS
 * sends), and build hostile structures (deep nesting, huge lengths).
 */

/** One BER element. `path` is the first identifier octet of every ancestor and of the element itself. */
export interface Tlv {
  /** Identifier octets (one unless the high-tag-number form is used). */
  id: Uint8Array;
  constructed: boolean;
  /** Primitive contents. */
  content: Uint8Array;
  children: Tlv[];
  /** The element's bytes as read. */
  raw: Uint8Array;
}

/** Reads one element with definite lengths (what we produce) starting at `pos`. */
export function readTlv(b: Uint8Array, pos = 0): Tlv {
  const start = pos;
  const first = b[pos++]!;
  if ((first & 0x1f) === 0x1f) while (b[pos++]! & 0x80);
  const id = b.subarray(start, pos);
  let len = b[pos++]!;
  if (len === 0x80) throw new Error('readTlv: indefinite length not supported');
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[pos++]!;
  }
  const end = pos + len;
  if (end > b.length) throw new Error('readTlv: truncated');
  const constructed = (first & 0x20) !== 0;
  const children: Tlv[] = [];
  if (constructed) {
    let p = pos;
    while (p < end) {
      const child = readTlv(b, p);
      children.push(child);
      p += child.raw.length;
    }
  }
  return { id, constructed, content: b.subarray(pos, end), children, raw: b.subarray(start, end) };
}

/** Definite-length header + contents. */
export function tlv(id: number | Uint8Array, ...contents: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(contents);
  const idBytes = typeof id === 'number' ? Buffer.from([id]) : Buffer.from(id);
  return new Uint8Array(Buffer.concat([idBytes, lengthOctets(body.length), body]));
}

export function lengthOctets(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export interface BerOptions {
  /** Keep this element exactly as it is (e.g. signed attributes, certificates). */
  keep?(path: readonly number[]): boolean;
  /** Split this primitive OCTET STRING (or [n] IMPLICIT one) into constructed chunks of this many bytes. */
  chunk?(path: readonly number[]): number | undefined;
}

/**
 * Re-encodes a DER element as BER: every constructed element not kept gets an indefinite length and end-of-contents
 * octets; chosen primitive strings become constructed, indefinite, and chunked.
 */
export function toIndefiniteBer(der: Uint8Array, opts: BerOptions = {}): Uint8Array {
  const out: Uint8Array[] = [];
  const walk = (t: Tlv, parent: readonly number[]) => {
    const path = [...parent, t.id[0]!];
    if (opts.keep?.(path)) {
      out.push(t.raw);
      return;
    }
    if (!t.constructed) {
      const size = opts.chunk?.(path);
      if (size === undefined) {
        out.push(t.raw);
        return;
      }
      const id = Buffer.from(t.id);
      id[0] = id[0]! | 0x20;
      out.push(id, Uint8Array.of(0x80));
      for (let i = 0; i < t.content.length; i += size) out.push(tlv(0x04, t.content.subarray(i, i + size)));
      out.push(Uint8Array.of(0, 0));
      return;
    }
    out.push(t.id, Uint8Array.of(0x80));
    for (const c of t.children) walk(c, path);
    out.push(Uint8Array.of(0, 0));
  };
  walk(readTlv(der), []);
  return new Uint8Array(Buffer.concat(out));
}

/** `depth` SEQUENCEs nested in each other around `inner`, definite lengths. */
export function nestedDefinite(depth: number, inner: Uint8Array = Uint8Array.of(0x05, 0x00)): Uint8Array {
  let b = inner;
  for (let i = 0; i < depth; i++) b = tlv(0x30, b);
  return b;
}

/** `depth` SEQUENCEs nested in each other, indefinite lengths. */
export function nestedIndefinite(depth: number, inner: Uint8Array = Uint8Array.of(0x05, 0x00)): Uint8Array {
  const open = Buffer.alloc(depth * 2);
  for (let i = 0; i < depth; i++) open.set([0x30, 0x80], i * 2);
  return new Uint8Array(Buffer.concat([open, inner, Buffer.alloc(depth * 2)]));
}
