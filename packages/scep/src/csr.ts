import * as pkijs from 'pkijs';
import { fromSchema, parseDer } from './der.js';
import { ScepError } from './errors.js';
import { OID } from './oids.js';

/** What the SCEP layer needs from a PKCS#10 request; full policy parsing belongs to the CA. */
export interface CsrSummary {
  /** DER of the subject Name. */
  subject: Uint8Array;
  /** DER of the SubjectPublicKeyInfo. */
  publicKey: Uint8Array;
  /** PKCS#9 challengePassword (RFC 8894 §2.2), any DirectoryString form; several kB from Intune. */
  challengePassword: string | undefined;
}

export function readCsr(der: Uint8Array): CsrSummary {
  const req = fromSchema('CSR', () => new pkijs.CertificationRequest({ schema: parseDer(der, 'CSR') }));
  let challengePassword: string | undefined;
  for (const a of req.attributes ?? []) {
    if (a.type !== OID.challengePassword) continue;
    const v = a.values[0] as { valueBlock?: { value?: unknown } } | undefined;
    const s = v?.valueBlock?.value;
    if (typeof s !== 'string') throw new ScepError('badAttribute', 'challengePassword is not a string');
    challengePassword = s;
  }
  return {
    subject: new Uint8Array(req.subject.toSchema().toBER()),
    publicKey: new Uint8Array(req.subjectPublicKeyInfo.toSchema().toBER()),
    challengePassword,
  };
}
