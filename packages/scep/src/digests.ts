import { ScepError } from './errors.js';
import { OID } from './oids.js';
import type { DigestName } from './types.js';

const DIGEST_OIDS: Readonly<Record<DigestName, string>> = {
  sha1: OID.sha1,
  sha256: OID.sha256,
  sha384: OID.sha384,
  sha512: OID.sha512,
};

export function digestOid(d: DigestName): string {
  return DIGEST_OIDS[d];
}

export function digestByOid(oid: string): DigestName {
  for (const [name, o] of Object.entries(DIGEST_OIDS)) if (o === oid) return name as DigestName;
  throw new ScepError('unsupportedAlgorithm', `digest ${oid} is not supported`);
}

const RSA_SIG: Readonly<Record<DigestName, string>> = {
  sha1: OID.sha1WithRSAEncryption,
  sha256: OID.sha256WithRSAEncryption,
  sha384: OID.sha384WithRSAEncryption,
  sha512: OID.sha512WithRSAEncryption,
};
const EC_SIG: Readonly<Record<DigestName, string>> = {
  sha1: OID.ecdsaWithSHA1,
  sha256: OID.ecdsaWithSHA256,
  sha384: OID.ecdsaWithSHA384,
  sha512: OID.ecdsaWithSHA512,
};

export function signatureOid(keyType: 'rsa' | 'ec', digest: DigestName, plainRsa: boolean): string {
  if (keyType === 'ec') return EC_SIG[digest];
  return plainRsa ? OID.rsaEncryption : RSA_SIG[digest];
}

/**
 * The key type and hash a SignerInfo signature algorithm means. Plain `rsaEncryption` (certmonger) takes the
 * hash from the SignerInfo's digestAlgorithm.
 */
export function parseSignatureOid(
  oid: string,
  digest: DigestName,
): { keyType: 'rsa' | 'ec'; hash: DigestName } {
  if (oid === OID.rsaEncryption) return { keyType: 'rsa', hash: digest };
  for (const [h, o] of Object.entries(RSA_SIG))
    if (o === oid) return { keyType: 'rsa', hash: h as DigestName };
  for (const [h, o] of Object.entries(EC_SIG)) if (o === oid) return { keyType: 'ec', hash: h as DigestName };
  throw new ScepError('unsupportedAlgorithm', `signature algorithm ${oid} is not supported`);
}
