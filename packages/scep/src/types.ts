/** SCEP messageType values (RFC 8894 §3.2.1.2). */
export const MESSAGE_TYPES = {
  CertRep: 3,
  RenewalReq: 17,
  PKCSReq: 19,
  CertPoll: 20,
  GetCert: 21,
  GetCRL: 22,
} as const;
export type MessageType = keyof typeof MESSAGE_TYPES;

/** pkiStatus values (RFC 8894 §3.2.1.3). */
export const PKI_STATUSES = { SUCCESS: 0, FAILURE: 2, PENDING: 3 } as const;
export type PkiStatus = keyof typeof PKI_STATUSES;

/** failInfo values (RFC 8894 §3.2.1.4). */
export const FAIL_INFOS = { badAlg: 0, badMessageCheck: 1, badRequest: 2, badTime: 3, badCertId: 4 } as const;
export type FailInfo = keyof typeof FAIL_INFOS;

/** Digest algorithms SCEP clients use, by Node.js hash name. */
export type DigestName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** Content-encryption algorithms, by OpenSSL cipher name. `des-cbc` is accepted on input only. */
export type ContentCipher = 'des-cbc' | 'des-ede3-cbc' | 'aes-128-cbc' | 'aes-192-cbc' | 'aes-256-cbc';

/** Key transport: RSAES-PKCS1-v1_5 (every real client) or RSAES-OAEP (Windows). */
export type KeyTransport = 'rsa-pkcs1' | 'rsa-oaep';

/**
 * How a SignerInfo names its signature algorithm. `rsaEncryption` is the plain RSA OID that certmonger uses;
 * `sha*WithRSAEncryption` the usual one; ECDSA is chosen automatically for EC keys.
 */
export type RsaSignatureStyle = 'rsaEncryption' | 'shaWithRsa';

/** Reverse lookup of a numeric code in one of the maps above. */
export function nameOf<T extends Record<string, number>>(map: T, value: number): keyof T | undefined {
  for (const [k, v] of Object.entries(map)) if (v === value) return k as keyof T;
  return undefined;
}
