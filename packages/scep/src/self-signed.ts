import { createPublicKey, randomBytes, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { fromSchema, parseDer } from './der.js';
import { signatureOid } from './digests.js';
import type { DigestName } from './types.js';

export interface SelfSignedOptions {
  /** DER of the subject Name (e.g. the CSR's subject). */
  subject: Uint8Array;
  privateKey: KeyObject;
  digest?: DigestName;
  /** Validity in seconds from one hour ago (default one day). */
  lifetimeSeconds?: number;
  now?: Date;
}

/**
 * The transient self-signed certificate a client signs its PKCSReq with (RFC 8894 §2.3), made from its new key.
 */
export function selfSignedCertificate(o: SelfSignedOptions): Uint8Array {
  const digest = o.digest ?? 'sha256';
  const keyType = o.privateKey.asymmetricKeyType === 'ec' ? 'ec' : 'rsa';
  const now = o.now ?? new Date();
  const spki = createPublicKey(o.privateKey).export({ format: 'der', type: 'spki' });
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  serial[0] = serial[0] | 0x01;
  const name = fromSchema(
    'subject Name',
    () => new pkijs.RelativeDistinguishedNames({ schema: parseDer(o.subject, 'subject Name') }),
  );
  const sigAlg = () =>
    new pkijs.AlgorithmIdentifier({
      algorithmId: signatureOid(keyType, digest, false),
      ...(keyType === 'rsa' ? { algorithmParams: new asn1js.Null() } : {}),
    });
  const cert = new pkijs.Certificate({
    version: 2,
    serialNumber: new asn1js.Integer({ valueHex: serial }),
    issuer: name,
    subject: name,
    notBefore: new pkijs.Time({ type: 0, value: new Date(now.getTime() - 3600_000) }),
    notAfter: new pkijs.Time({
      type: 0,
      value: new Date(now.getTime() + (o.lifetimeSeconds ?? 86400) * 1000),
    }),
    subjectPublicKeyInfo: new pkijs.PublicKeyInfo({ schema: parseDer(spki, 'SubjectPublicKeyInfo') }),
    signature: sigAlg(),
    signatureAlgorithm: sigAlg(),
  });
  const tbs = cert.encodeTBS().toBER();
  const signature =
    keyType === 'rsa'
      ? cryptoSign(digest, new Uint8Array(tbs), o.privateKey)
      : cryptoSign(digest, new Uint8Array(tbs), { key: o.privateKey, dsaEncoding: 'der' });
  cert.signatureValue = new asn1js.BitString({ valueHex: signature });
  return new Uint8Array(cert.toSchema(true).toBER());
}
