import { createPublicKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** A minimal DER writer, enough for test CSRs (the server package has no ASN.1 dependency). */
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = p >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

export const seq = (...c: Uint8Array[]) => tlv(0x30, ...c);
export const set = (...c: Uint8Array[]) => tlv(0x31, ...c);

/** `CN=<cn>` as a DER Name. */
export function cnName(cn: string): Buffer {
  return seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
}

/** A PKCS#10 request signed with SHA-256 (RSA), with an optional PKCS#9 challengePassword (PrintableString). */
export function buildCsr(o: { cn: string; key: KeyObject; challenge?: string }): Uint8Array {
  const spki = createPublicKey(o.key).export({ format: 'der', type: 'spki' });
  const attrs = o.challenge
    ? tlv(0xa0, seq(oid('1.2.840.113549.1.9.7'), set(tlv(0x13, Buffer.from(o.challenge, 'ascii')))))
    : tlv(0xa0);
  const cri = seq(tlv(0x02, Buffer.from([0])), cnName(o.cn), spki, attrs);
  const alg = seq(oid('1.2.840.113549.1.1.11'), tlv(0x05));
  const sig = sign('sha256', cri, o.key);
  return new Uint8Array(seq(cri, alg, tlv(0x03, Buffer.from([0]), sig)));
}
