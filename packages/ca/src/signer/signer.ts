import { OID } from '../oids.js';
import { SignerError } from '../errors.js';

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';
export type KeyType = 'rsa' | 'ec';

/** What a signer produces: the key type, the digest, and the X.509 signatureAlgorithm OID. */
export interface SignatureAlgorithm {
  keyType: KeyType;
  hash: HashName;
  /** AlgorithmIdentifier OID (sha256WithRSAEncryption, ecdsa-with-SHA384, ...). */
  oid: string;
}

/**
 * Signs with a CA key. Signatures are X.509-ready: PKCS#1 v1.5 for RSA, DER `ECDSA-Sig-Value` for EC.
 *
 * @example
 * const signer = KeyObjectSigner.fromPem(pem, { passphrase });
 * const sig = await signer.sign(tbsBytes);
 */
export interface Signer {
  readonly algorithm: SignatureAlgorithm;
  /** The public key as SubjectPublicKeyInfo DER. */
  readonly publicKeySpki: Uint8Array;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

const SIG_OIDS: Record<KeyType, Record<HashName, string>> = {
  rsa: {
    'SHA-256': OID.sha256WithRSAEncryption,
    'SHA-384': OID.sha384WithRSAEncryption,
    'SHA-512': OID.sha512WithRSAEncryption,
  },
  ec: {
    'SHA-256': OID.ecdsaWithSHA256,
    'SHA-384': OID.ecdsaWithSHA384,
    'SHA-512': OID.ecdsaWithSHA512,
  },
};

/** The signature algorithm for a key type and digest. */
export function signatureAlgorithm(keyType: KeyType, hash: HashName): SignatureAlgorithm {
  return { keyType, hash, oid: SIG_OIDS[keyType][hash] };
}

/** The default digest for a key: SHA-384 for P-384, SHA-256 otherwise. */
export function defaultHash(keyType: KeyType, namedCurve?: string): HashName {
  if (keyType === 'ec' && (namedCurve === 'P-384' || namedCurve === 'secp384r1')) return 'SHA-384';
  return 'SHA-256';
}

/** node:crypto digest name of a WebCrypto-style hash name. */
export function nodeHashName(hash: HashName): string {
  switch (hash) {
    case 'SHA-256':
      return 'sha256';
    case 'SHA-384':
      return 'sha384';
    case 'SHA-512':
      return 'sha512';
    default:
      throw new SignerError('unsupported-algorithm', `unsupported hash ${String(hash)}`);
  }
}
