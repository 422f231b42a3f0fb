/*
 * RSAES-PKCS1-v1_5 decryption without a padding oracle.
 *
 * Node 20 refuses privateDecrypt with RSA_PKCS1_PADDING (CVE-2023-46809), yet every SCEP client uses it for key
 * transport. We decrypt with RSA_NO_PADDING and remove the padding here without branching on secret bytes. A block
 * whose padding is wrong, or whose message is not of the expected key length, yields a deterministic pseudo-random
 * key derived from the ciphertext and a secret of the private key ("implicit rejection", as OpenSSL 3.2 does), so
 * the caller cannot tell a bad padding from a bad key: both end in the same content decryption failure.
 */
import { createHmac } from 'node:crypto';

/** 1 if a === b, else 0, for 0 <= a, b < 2^31. */
const eq = (a: number, b: number): number => (((a ^ b) - 1) >>> 31) & 1;
/** 1 if a >= b, else 0, for 0 <= a, b < 2^30. */
const ge = (a: number, b: number): number => 1 - (((a - b) >>> 31) & 1);

/** The substitute key for a ciphertext: HMAC-SHA-256 keyed with a secret of the private key. */
export function syntheticKey(rejectionSecret: Uint8Array, ciphertext: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  let filled = 0;
  for (let counter = 0; filled < length; counter++) {
    const block = createHmac('sha256', rejectionSecret)
      .update(Buffer.from([counter]))
      .update(ciphertext)
      .digest();
    filled += block.copy(out, filled);
  }
  return out;
}

/**
 * Removes PKCS#1 v1.5 type 2 padding (`00 02 PS 00 M`, PS at least 8 non-zero bytes) from `em` in constant time.
 * Returns M when it is well formed and exactly `expectedLength` bytes long, otherwise `substitute`.
 */
export function unpadPkcs1Type2(em: Uint8Array, expectedLength: number, substitute: Uint8Array): Buffer {
  const k = em.length;
  let good = eq(em[0] ?? 1, 0) & eq(em[1] ?? 0, 2);
  let found = 0;
  let sep = 0;
  for (let i = 2; i < k; i++) {
    const isZero = eq(em[i]!, 0);
    const take = isZero & (1 - found);
    sep = (sep & (take - 1)) | (i & -take);
    found |= isZero;
  }
  good &= found;
  good &= ge(sep, 10); // 2 header bytes + at least 8 padding bytes
  good &= eq(k - sep - 1, expectedLength);
  const mask = -good & 0xff;
  const out = Buffer.alloc(expectedLength);
  const start = k - expectedLength;
  for (let j = 0; j < expectedLength; j++) {
    out[j] = ((em[start + j] ?? 0) & mask) | ((substitute[j] ?? 0) & ~mask & 0xff);
  }
  return out;
}
