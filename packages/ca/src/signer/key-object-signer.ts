import { createPrivateKey, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { KeyError, SignerError } from '../errors.js';
import {
  defaultHash,
  nodeHashName,
  signatureAlgorithm,
  type HashName,
  type SignatureAlgorithm,
  type Signer,
} from './signer.js';

export interface KeyObjectSignerOptions {
  /** Digest; defaults to SHA-256 (SHA-384 for P-384 keys). */
  hash?: HashName;
}

/**
 * A `Signer` over a node:crypto `KeyObject`. The key is imported once, here; `sign` never re-parses it.
 *
 * @example
 * const signer = KeyObjectSigner.fromPem(fs.readFileSync('ca.key.pem', 'utf8'), { passphrase: 'secret' });
 */
export class KeyObjectSigner implements Signer {
  readonly algorithm: SignatureAlgorithm;
  readonly publicKeySpki: Uint8Array;
  readonly #key: KeyObject;
  readonly #digest: string;

  constructor(privateKey: KeyObject, options: KeyObjectSignerOptions = {}) {
    if (privateKey.type !== 'private') throw new KeyError('bad-format', 'a private key is required');
    const type = privateKey.asymmetricKeyType;
    if (type !== 'rsa' && type !== 'ec') {
      throw new KeyError('unsupported-key', `unsupported CA key type ${String(type)}`);
    }
    const hash = options.hash ?? defaultHash(type, privateKey.asymmetricKeyDetails?.namedCurve);
    this.algorithm = signatureAlgorithm(type, hash);
    this.#digest = nodeHashName(hash);
    this.#key = privateKey;
    this.publicKeySpki = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
  }

  /** Import a PEM (PKCS#8 plain or encrypted, PKCS#1, SEC1) or DER PKCS#8 key once. */
  static fromPem(pem: string | Uint8Array, options: KeyObjectSignerOptions & { passphrase?: string } = {}) {
    return new KeyObjectSigner(importPrivateKey(pem, options.passphrase), options);
  }

  /** The underlying key (for exporting at `init` time). */
  get privateKey(): KeyObject {
    return this.#key;
  }

  sign(data: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      // Asynchronous form: the work runs on libuv's thread pool, not the event loop.
      cryptoSign(this.#digest, data, this.#key, (err, sig) => {
        if (err) reject(new SignerError('sign-failed', 'signing failed', err));
        else resolve(new Uint8Array(sig));
      });
    });
  }
}

/** Parse a private key from PEM or DER (PKCS#8, optionally encrypted). Wrong passphrases throw `KeyError`. */
export function importPrivateKey(input: string | Uint8Array, passphrase?: string): KeyObject {
  try {
    if (typeof input === 'string' || looksLikePem(input)) {
      const pem = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
      return createPrivateKey(passphrase === undefined ? { key: pem } : { key: pem, passphrase });
    }
    return createPrivateKey({
      key: Buffer.from(input),
      format: 'der',
      type: 'pkcs8',
      ...(passphrase === undefined ? {} : { passphrase }),
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : '';
    if (/passphrase|decrypt|bad decrypt/i.test(msg)) {
      throw new KeyError('bad-passphrase', 'the private key could not be decrypted', err);
    }
    throw new KeyError('bad-format', 'the private key could not be parsed', err);
  }
}

function looksLikePem(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 64)).toString('latin1').includes('-----BEGIN');
}
