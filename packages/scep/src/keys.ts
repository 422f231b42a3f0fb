import { constants, createHash, privateDecrypt, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ScepError } from './errors.js';
import type { DigestName } from './types.js';

/**
 * Signs SCEP messages. The key may live anywhere (memory, HSM); `sign` receives the bytes to sign and the digest.
 * ECDSA signatures are DER-encoded (as CMS wants).
 */
export interface ScepSigner {
  /** DER of the certificate that goes with the key. */
  readonly certificate: Uint8Array;
  readonly keyType: 'rsa' | 'ec';
  sign(data: Uint8Array, digest: DigestName): Uint8Array | Promise<Uint8Array>;
}

/**
 * Decrypts the key transport of messages encrypted to `certificate` (RSA). Either method may answer
 * synchronously or with a promise (a key on another thread, in an HSM...).
 */
export interface ScepDecrypter {
  readonly certificate: Uint8Array;
  /** Raw RSA (no padding): returns exactly modulus-length bytes. */
  decryptRaw(ciphertext: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** RSAES-OAEP with the given hash for OAEP and MGF1. */
  decryptOaep(ciphertext: Uint8Array, hash: DigestName): Uint8Array | Promise<Uint8Array>;
  /** A secret tied to the private key, used to derive implicit-rejection keys. Never leaves the process. */
  readonly rejectionSecret: Uint8Array;
}

function keyType(key: KeyObject): 'rsa' | 'ec' {
  if (key.asymmetricKeyType === 'rsa') return 'rsa';
  if (key.asymmetricKeyType === 'ec') return 'ec';
  throw new ScepError(
    'unsupportedAlgorithm',
    `key type ${key.asymmetricKeyType ?? 'unknown'} is not supported`,
  );
}

/**
 * A signer over a Node.js private `KeyObject`, imported once by the caller. Signs with the callback form of
 * `crypto.sign`, so the RSA work runs on libuv's thread pool (the other core), not on the event loop.
 */
export function keyObjectSigner(certificate: Uint8Array, key: KeyObject): ScepSigner {
  const type = keyType(key);
  const options =
    type === 'rsa' ? { key, padding: constants.RSA_PKCS1_PADDING } : { key, dsaEncoding: 'der' as const };
  return {
    certificate,
    keyType: type,
    sign: (data, digest) =>
      new Promise<Uint8Array>((resolve, reject) => {
        cryptoSign(digest, data, options, (err, sig) => (err ? reject(err) : resolve(new Uint8Array(sig))));
      }),
  };
}

/** A decrypter that answers synchronously (the key in this thread's memory). */
export interface SyncScepDecrypter extends ScepDecrypter {
  decryptRaw(ciphertext: Uint8Array): Uint8Array;
  decryptOaep(ciphertext: Uint8Array, hash: DigestName): Uint8Array;
}

/** The implicit-rejection secret of an RSA decryption key (see rsa-pkcs1.ts). */
export function rejectionSecretOf(key: KeyObject): Uint8Array {
  if (keyType(key) !== 'rsa') throw new ScepError('unsupportedAlgorithm', 'key transport needs an RSA key');
  return createHash('sha256')
    .update('scepkit implicit rejection')
    .update(key.export({ format: 'der', type: 'pkcs8' }))
    .digest();
}

/**
 * A decrypter over a Node.js RSA private `KeyObject`, imported once by the caller. It decrypts synchronously
 * (Node.js has no asynchronous raw RSA), in the caller's thread: what clients and the server use (on 2 vCPUs
 * `workerDecrypter`'s hand-off measured slower than the ~1 ms decryption it moves; BENCHMARKS.md).
 */
export function keyObjectDecrypter(certificate: Uint8Array, key: KeyObject): SyncScepDecrypter {
  const rejectionSecret = rejectionSecretOf(key);
  return {
    certificate,
    rejectionSecret,
    decryptRaw: (c) => privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, c),
    decryptOaep: (c, hash) =>
      privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, c),
  };
}
