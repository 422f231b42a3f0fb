import { createHash } from 'node:crypto';
import * as pkijs from 'pkijs';
import { toArrayBuffer } from '../bytes.js';
import { EnrollmentError } from '../errors.js';
import type { ParsedCsr } from '../policy/csr.js';
import type { CertificateRepository } from '../store/index.js';
import type { EnrollRequest } from './types.js';

/**
 * RenewalReq authentication (RFC 8894 §3.3.1.2): the signer certificate must be one this CA issued (found in the
 * store byte for byte), unrevoked, inside its validity, of the same profile; and, when the profile refuses key
 * reuse, the new CSR must use a new key.
 * @throws EnrollmentError badCertId (not ours), badRequest (revoked, expired, same key, other profile)
 */
export async function checkRenewal(
  store: Pick<CertificateRepository, 'getCertificateByThumbprint'>,
  input: { req: EnrollRequest; csr: ParsedCsr; profile: string; now: Date; allowKeyReuse: boolean },
): Promise<void> {
  const signer = input.req.signerCertDer;
  if (!signer) throw new EnrollmentError('badRequest', 'RenewalReq without a signer certificate');
  const thumbprint = createHash('sha1').update(signer).digest('hex');
  const record = await store.getCertificateByThumbprint(thumbprint);
  if (!record) throw new EnrollmentError('badCertId', 'renewal signer certificate was not issued by this CA');
  if (record.status !== 'valid')
    throw new EnrollmentError('badRequest', 'renewal signer certificate is revoked');
  const now = input.now.getTime();
  if (record.notAfter.getTime() <= now || record.notBefore.getTime() > now) {
    throw new EnrollmentError('badRequest', 'renewal signer certificate is outside its validity');
  }
  if (record.profile !== input.profile) {
    throw new EnrollmentError('badRequest', 'renewal signer certificate belongs to another profile');
  }
  const oldSpki = pkijs.Certificate.fromBER(toArrayBuffer(signer)).subjectPublicKeyInfo.toSchema().toBER();
  if (!input.allowKeyReuse && Buffer.from(oldSpki).equals(Buffer.from(input.csr.spki))) {
    throw new EnrollmentError('badRequest', 'renewal must use a new key');
  }
}
