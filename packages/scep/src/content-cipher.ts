import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import des from 'des.js';
import { ScepError } from './errors.js';
import { OID } from './oids.js';
import type { ContentCipher } from './types.js';

interface CipherInfo {
  oid: string;
  keyLength: number;
  ivLength: number;
}

export const CONTENT_CIPHERS: Readonly<Record<ContentCipher, CipherInfo>> = {
  'des-cbc': { oid: OID.desCbc, keyLength: 8, ivLength: 8 },
  'des-ede3-cbc': { oid: OID.desEde3Cbc, keyLength: 24, ivLength: 8 },
  'aes-128-cbc': { oid: OID.aes128Cbc, keyLength: 16, ivLength: 16 },
  'aes-192-cbc': { oid: OID.aes192Cbc, keyLength: 24, ivLength: 16 },
  'aes-256-cbc': { oid: OID.aes256Cbc, keyLength: 32, ivLength: 16 },
};

export function cipherByOid(oid: string): ContentCipher {
  for (const [name, info] of Object.entries(CONTENT_CIPHERS))
    if (info.oid === oid) return name as ContentCipher;
  throw new ScepError('unsupportedAlgorithm', `content cipher ${oid} is not supported`);
}

// Single DES lives only in OpenSSL 3's legacy provider; micromdm's scepclient still sends it, so it is decrypted
// with des.js rather than by loading the legacy provider at run time.
const desCbc = des.CBC.instantiate(des.DES);

function stripPkcs7(data: Buffer, blockSize: number): Buffer {
  const n = data.length === 0 ? 0 : data[data.length - 1]!;
  let ok = data.length > 0 && data.length % blockSize === 0 && n >= 1 && n <= blockSize;
  for (let i = 1; ok && i <= n; i++) ok = data[data.length - i] === n;
  if (!ok) throw new ScepError('decryptFailed', 'content decryption failed');
  return data.subarray(0, data.length - n);
}

export function decryptContent(
  cipher: ContentCipher,
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
): Buffer {
  const info = CONTENT_CIPHERS[cipher];
  if (key.length !== info.keyLength || iv.length !== info.ivLength) {
    throw new ScepError('decryptFailed', 'content decryption failed');
  }
  if (cipher === 'des-cbc') {
    if (data.length === 0 || data.length % 8 !== 0)
      throw new ScepError('decryptFailed', 'content decryption failed');
    const d = desCbc.create({ type: 'decrypt', key, iv, padding: false });
    return stripPkcs7(Buffer.from(d.update(data).concat(d.final())), 8);
  }
  try {
    const d = createDecipheriv(cipher, key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch (e) {
    throw new ScepError('decryptFailed', 'content decryption failed', { cause: e });
  }
}

export interface EncryptedContent {
  key: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
}

export function encryptContent(cipher: ContentCipher, data: Uint8Array): EncryptedContent {
  const info = CONTENT_CIPHERS[cipher];
  const key = randomBytes(info.keyLength);
  const iv = randomBytes(info.ivLength);
  if (cipher === 'des-cbc') {
    const e = desCbc.create({ type: 'encrypt', key, iv, padding: true });
    return { key, iv, ciphertext: Buffer.from(e.update(data).concat(e.final())) };
  }
  const c = createCipheriv(cipher, key, iv);
  return { key, iv, ciphertext: Buffer.concat([c.update(data), c.final()]) };
}
