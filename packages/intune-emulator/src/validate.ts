import type { ChallengeClaims } from './challenge.js';
import { openChallenge } from './challenge.js';
import { normaliseSubject, parseCsr, type ParsedCsr } from './csr.js';
import { ChallengeValidationError } from './errors.js';
import type { EmulatorContext } from './http.js';
import type { Device, SanTemplate } from './model.js';

/** A CSR whose challenge opened and whose identity checks passed. */
export interface CheckedRequest {
  csr: ParsedCsr;
  claims: ChallengeClaims;
  device: Device;
}

const fail = (code: string, description: string): never => {
  throw new ChallengeValidationError(code, description);
};

/** `MM/dd/yyyy HH:mm:ss` (UTC), the format of Intune's ChallengeExpired text (ejbca-ce #690). */
function intuneDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/**
 * Decodes the CSR, opens its challenge and checks tenant, expiry, identities and targeting. Throws
 * `ChallengeValidationError` with Intune's code. Used by validateRequest and by the notifications.
 */
export async function checkRequest(
  ctx: EmulatorContext,
  csrBase64: string,
  tokenTenantId: string,
): Promise<CheckedRequest> {
  const csr = await parseCsr(csrBase64);
  if (csr.challengePassword === undefined || csr.challengePassword === '') {
    fail('ChallengePasswordMissing', 'The certificate request does not contain a challenge password.');
  }
  const claims = openChallenge(csr.challengePassword ?? '', {
    encryptionKey: ctx.keys.challengeKey,
    verifyKey: ctx.verifyKey,
  });
  if (claims.tenantId !== tokenTenantId) {
    fail(
      'BadTenantIdInChallenge',
      'Failed to parse the tenant id in the challenge.tenantId in challenge does not match tenantId from security token.',
    );
  }
  const nowSec = Math.floor(ctx.now() / 1000);
  if (claims.createdAt > nowSec + 300)
    fail('ChallengeInvalidTimestamp', 'Challenge creation time is in the future.');
  if (claims.expiresAt <= nowSec) {
    const interval = Math.round((claims.expiresAt - claims.createdAt) / 60);
    fail(
      'ChallengeExpired',
      `SCEP challenge has expired.SCEP Challenge has expired. challengeExpInterval=${interval}, challengeExpiration=${intuneDate(claims.expiresAt * 1000)}, challengeCreation=${intuneDate(claims.createdAt * 1000)}`,
    );
  }
  const record = ctx.state.challenges.get(claims.requestId);
  if (!record || record.deviceId !== claims.deviceId || record.profileId !== claims.profileId) {
    fail(
      'BadCertificateRequestIdInChallenge',
      `Unknown certificate request id ${claims.requestId} in the challenge.`,
    );
  }
  const device = ctx.state.devices.get(claims.deviceId);
  if (!device || device.tenantId !== claims.tenantId) {
    return fail('BadDeviceIdInChallenge', `Device ${claims.deviceId} in the challenge was not found.`);
  }
  if (claims.userId !== undefined) {
    const user = ctx.state.users.get(claims.userId);
    if (!user || user.tenantId !== claims.tenantId) {
      fail('BadUserIdInChallenge', `User ${claims.userId} in the challenge was not found.`);
    }
  }
  const profile = ctx.state.profiles.get(claims.profileId);
  if (!profile || !ctx.state.isTargeted(profile, device)) {
    fail(
      'ScepProfileNoLongerTargetedToTheClient',
      `SCEP profile ${claims.profileId} is no longer targeted to device ${device.id}.`,
    );
  }
  return { csr, claims, device };
}

const sanKey = (s: SanTemplate): string =>
  `${s.type}:${s.type === 'uri' || s.type === 'upn' ? s.value : s.value.toLowerCase()}`;
const sameSet = (a: string[], b: string[]): boolean =>
  a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/** Compares the CSR with the expected contents bound in the challenge (subject, SAN, KU, key size, EKU). */
export function checkCsrContents(checked: CheckedRequest): void {
  const { csr, claims, device } = checked;
  const expected = claims.expected;
  if (csr.subject === '') fail('SubjectNameMissing', 'The certificate request has no subject name.');
  // Equal strings normalise equally: the X.500 parse is only needed when they differ.
  if (
    csr.subject !== expected.subject &&
    normaliseSubject(csr.subject) !== normaliseSubject(expected.subject)
  ) {
    fail(
      'SubjectNameMismatch',
      `Subject Name in CSR ${csr.subject} and challenge ${expected.subject} do not match`,
    );
  }
  if (expected.subjectAlternativeNames.length > 0 && csr.subjectAlternativeNames.length === 0) {
    fail('SubjectAltNameMissing', 'The certificate request has no subject alternative name.');
  }
  if (!sameSet(csr.subjectAlternativeNames.map(sanKey), expected.subjectAlternativeNames.map(sanKey))) {
    fail(
      'SubjectAltNameMismatch',
      `Subject Alternative Name in CSR ${csr.subjectAlternativeNames.map(sanKey).join(';')} and challenge ${expected.subjectAlternativeNames.map(sanKey).join(';')} do not match`,
    );
  }
  if ((csr.keyUsage ?? 0) !== expected.keyUsage) {
    fail(
      'KeyUsageMismatch',
      `Key usage in CSR ${csr.keyUsage ?? 0} and challenge ${expected.keyUsage} do not match`,
    );
  }
  if (csr.keySize !== expected.keySize) {
    fail(
      'KeyLengthMismatch',
      `Key length in CSR ${csr.keySize} and challenge ${expected.keySize} do not match`,
    );
  }
  // Apple clients cannot send EKUs (docs/intune-api.md §5): the CA adds them, so absence is accepted there.
  const apple = device.platform === 'ios' || device.platform === 'macos';
  if (csr.extendedKeyUsages === undefined) {
    if (expected.extendedKeyUsages.length > 0 && !apple) {
      fail('EnhancedKeyUsageMissing', 'The certificate request has no enhanced key usage.');
    }
  } else if (!sameSet(csr.extendedKeyUsages, expected.extendedKeyUsages)) {
    fail(
      'EnhancedKeyUsageMismatch',
      `Enhanced key usage in CSR ${csr.extendedKeyUsages.join(',')} and challenge ${expected.extendedKeyUsages.join(',')} do not match`,
    );
  }
}

/**
 * The full `validateRequest` check. On success the challenge is bound to the CSR's key: a later request with
 * the same challenge and another key is refused (replay).
 */
export async function validateCertificateRequest(
  ctx: EmulatorContext,
  csrBase64: string,
  tokenTenantId: string,
): Promise<CheckedRequest> {
  const checked = await checkRequest(ctx, csrBase64, tokenTenantId);
  checkCsrContents(checked);
  const record = ctx.state.challenges.get(checked.claims.requestId);
  if (record?.boundKeySha256 !== undefined && record.boundKeySha256 !== checked.csr.spkiSha256) {
    fail(
      'BadCertificateRequestIdInChallenge',
      `The challenge of certificate request ${checked.claims.requestId} was already used with a different key.`,
    );
  }
  if (record) record.boundKeySha256 = checked.csr.spkiSha256;
  return checked;
}
