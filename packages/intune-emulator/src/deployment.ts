import { randomUUID } from 'node:crypto';
import { mintChallenge } from './challenge.js';
import { EmulatorError } from './errors.js';
import type { EmulatorContext } from './http.js';
import type {
  DeploymentStatus,
  Device,
  ExpectedCsr,
  IssuedCertificate,
  RevocationRequest,
  ScepProfile,
} from './model.js';
import { expectedCsrFor } from './template.js';

/** What Intune hands a device for one SCEP profile at check-in (the platform's SCEP payload). */
export interface ScepPayload {
  profileId: string;
  requestId: string;
  certificateType: ScepProfile['certificateType'];
  challenge: string;
  challengeExpiresAt: string;
  expected: ExpectedCsr;
  hashAlgorithm: ScepProfile['hashAlgorithm'];
  validityPeriod: ScepProfile['validityPeriod'];
  renewalThresholdPercent: number;
  scepServerUrls: string[];
  rootCertificatePem?: string;
}

/** hResult recorded when a profile cannot be rendered for a device (E_FAIL-like, shown in the console). */
export const PROFILE_RENDER_HRESULT = -2016281112;

const statusKey = (deviceId: string, profileId: string): string => `${deviceId}/${profileId}`;

function setStatus(ctx: EmulatorContext, status: Omit<DeploymentStatus, 'updatedAt'>): DeploymentStatus {
  const full = { ...status, updatedAt: new Date(ctx.now()).toISOString() };
  ctx.state.deployments.set(statusKey(status.deviceId, status.profileId), full);
  return full;
}

function needsCertificate(ctx: EmulatorContext, device: Device, profile: ScepProfile): boolean {
  const cert = device.certificates.find((c) => c.profileId === profile.id);
  if (!cert) return true;
  const expires = Date.parse(cert.expiresAt);
  const installed = Date.parse(cert.installedAt);
  const renewAt = expires - ((expires - installed) * profile.renewalThresholdPercent) / 100;
  return ctx.now() >= renewAt;
}

/**
 * Device check-in: mints one challenge (new request id, valid `challengeLifetimeMinutes`) per targeted profile
 * that still needs a certificate (or all, with `force`), and marks the deployment pending. A profile whose
 * variables have no value on this device is marked failed instead.
 */
export function checkIn(
  ctx: EmulatorContext,
  tenantId: string,
  deviceId: string,
  options: { force?: boolean } = {},
): ScepPayload[] {
  const device = ctx.state.device(tenantId, deviceId);
  const user = device.userId ? ctx.state.users.get(device.userId) : undefined;
  const payloads: ScepPayload[] = [];
  for (const profile of ctx.state.profilesFor(device)) {
    if (!options.force && !needsCertificate(ctx, device, profile)) continue;
    let expected: ExpectedCsr;
    try {
      expected = expectedCsrFor(profile, device, profile.certificateType === 'user' ? user : undefined);
    } catch (err) {
      if (!(err instanceof EmulatorError)) throw err;
      setStatus(ctx, {
        deviceId: device.id,
        profileId: profile.id,
        state: 'failed',
        hResult: PROFILE_RENDER_HRESULT,
        errorDescription: err.message,
      });
      continue;
    }
    const requestId = randomUUID();
    const createdAt = Math.floor(ctx.now() / 1000);
    const expiresAt = createdAt + ctx.challengeLifetimeMinutes * 60;
    const userId = profile.certificateType === 'user' ? user?.id : undefined;
    const challenge = mintChallenge(
      {
        tenantId: device.tenantId,
        deviceId: device.id,
        ...(userId ? { userId } : {}),
        profileId: profile.id,
        requestId,
        createdAt,
        expiresAt,
        expected,
      },
      { encryptionKey: ctx.keys.challengeKey, signingKey: ctx.keys.signingKey },
      ctx.challengePaddingBytes,
    );
    ctx.state.challenges.set(requestId, {
      requestId,
      tenantId: device.tenantId,
      deviceId: device.id,
      ...(userId ? { userId } : {}),
      profileId: profile.id,
      createdAt: new Date(createdAt * 1000).toISOString(),
      expiresAt: new Date(expiresAt * 1000).toISOString(),
    });
    setStatus(ctx, {
      deviceId: device.id,
      profileId: profile.id,
      ...(userId ? { userId } : {}),
      state: 'pending',
      requestId,
    });
    payloads.push({
      profileId: profile.id,
      requestId,
      certificateType: profile.certificateType,
      challenge,
      challengeExpiresAt: new Date(expiresAt * 1000).toISOString(),
      expected,
      hashAlgorithm: profile.hashAlgorithm,
      validityPeriod: { ...profile.validityPeriod },
      renewalThresholdPercent: profile.renewalThresholdPercent,
      scepServerUrls: [...profile.scepServerUrls],
      ...(profile.rootCertificatePem ? { rootCertificatePem: profile.rootCertificatePem } : {}),
    });
  }
  return payloads;
}

/** Records a successNotification: deployment succeeded, certificate listed on the device and in the inventory. */
export function recordSuccess(
  ctx: EmulatorContext,
  target: { deviceId: string; profileId: string; userId?: string; requestId: string },
  cert: Omit<IssuedCertificate, 'tenantId' | 'deviceId' | 'profileId' | 'installedAt'>,
): void {
  const device = ctx.state.devices.get(target.deviceId);
  if (!device) return;
  const installedAt = new Date(ctx.now()).toISOString();
  const entry = {
    thumbprint: cert.thumbprint.toUpperCase(),
    serialNumber: cert.serialNumber,
    expiresAt: cert.expiresAt,
    issuer: cert.issuer,
    profileId: target.profileId,
    transactionId: cert.transactionId,
    installedAt,
  };
  device.certificates = device.certificates.filter((c) => c.profileId !== target.profileId);
  device.certificates.push(entry);
  ctx.state.issued.push({
    ...entry,
    tenantId: device.tenantId,
    deviceId: device.id,
    caConfiguration: cert.caConfiguration,
    certificateAuthority: cert.certificateAuthority,
  });
  setStatus(ctx, {
    deviceId: target.deviceId,
    profileId: target.profileId,
    ...(target.userId ? { userId: target.userId } : {}),
    state: 'succeeded',
    requestId: target.requestId,
    transactionId: cert.transactionId,
    certificateThumbprint: entry.thumbprint,
  });
}

/** Records a failureNotification: deployment failed with the CA's hResult and description. */
export function recordFailure(
  ctx: EmulatorContext,
  target: { deviceId: string; profileId: string; userId?: string; requestId: string },
  failure: { transactionId: string; hResult: number; errorDescription: string },
): void {
  setStatus(ctx, {
    deviceId: target.deviceId,
    profileId: target.profileId,
    ...(target.userId ? { userId: target.userId } : {}),
    state: 'failed',
    requestId: target.requestId,
    transactionId: failure.transactionId,
    hResult: failure.hResult,
    errorDescription: failure.errorDescription,
  });
}

/** Deployment statuses, optionally of one device or one profile. */
export function deploymentStatuses(
  ctx: EmulatorContext,
  filter: { deviceId?: string; profileId?: string } = {},
): DeploymentStatus[] {
  return [...ctx.state.deployments.values()].filter(
    (s) =>
      (!filter.deviceId || s.deviceId === filter.deviceId) &&
      (!filter.profileId || s.profileId === filter.profileId),
  );
}

/** Retire or wipe: the device leaves management and its certificates are removed from it, not revoked. */
export function retireDevice(
  ctx: EmulatorContext,
  tenantId: string,
  deviceId: string,
  mode: 'retired' | 'wiped',
): Device {
  const device = ctx.state.device(tenantId, deviceId);
  device.state = mode;
  device.certificates = [];
  return device;
}

/** Queues a revocation of an issued certificate (by thumbprint or serial number), as an admin does. */
export function queueRevocation(
  ctx: EmulatorContext,
  tenantId: string,
  which: { thumbprint?: string; serialNumber?: string },
): RevocationRequest {
  const tenant = ctx.state.tenant(tenantId);
  const cert = ctx.state.issued.find(
    (c) =>
      c.tenantId === tenant.id &&
      ((which.thumbprint !== undefined && c.thumbprint === which.thumbprint.toUpperCase()) ||
        (which.serialNumber !== undefined &&
          c.serialNumber.toLowerCase() === which.serialNumber.toLowerCase())),
  );
  if (!cert)
    throw new EmulatorError('NOT_FOUND', 'no issued certificate with that thumbprint or serial number');
  const request: RevocationRequest = {
    requestContext: randomUUID(),
    tenantId: tenant.id,
    deviceId: cert.deviceId,
    thumbprint: cert.thumbprint,
    serialNumber: cert.serialNumber,
    issuerName: cert.issuer,
    caConfiguration: cert.caConfiguration,
    state: 'pending',
    queuedAt: new Date(ctx.now()).toISOString(),
  };
  ctx.state.revocations.push(request);
  return request;
}
