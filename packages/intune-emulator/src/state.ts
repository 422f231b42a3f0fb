import { X509Certificate, createHash, randomBytes, randomUUID } from 'node:crypto';
import { EmulatorError } from './errors.js';
import type {
  AppRegistration,
  Assignment,
  ChallengeRecord,
  DeploymentStatus,
  Device,
  GrantedPermission,
  IssuedCertificate,
  Platform,
  RevocationRequest,
  ScepProfile,
  Tenant,
  User,
} from './model.js';
import { PLATFORMS } from './model.js';

export interface CreateTenantInput {
  id?: string;
  /** Short name; the domain becomes `<name>.onmicrosoft.com`. */
  name: string;
  displayName?: string;
}

export interface CreateAppInput {
  clientId?: string;
  displayName?: string;
  permissions?: GrantedPermission[];
  adminConsent?: boolean;
}

export interface CreateUserInput {
  id?: string;
  userPrincipalName: string;
  email?: string;
  displayName?: string;
  userName?: string;
  onPremisesSid?: string;
}

export interface CreateDeviceInput {
  id?: string;
  aadDeviceId?: string;
  platform: Platform;
  name?: string;
  serialNumber?: string;
  imei?: string;
  wifiMacAddress?: string;
  userId?: string;
}

export type CreateProfileInput = Partial<Omit<ScepProfile, 'id' | 'tenantId' | 'assignments'>> &
  Pick<ScepProfile, 'platform' | 'certificateType'> & { id?: string; assignments?: Assignment[] };

/** A created client secret; `value` is shown only here. */
export interface CreatedSecret {
  id: string;
  value: string;
  expiresAt: string;
}

const hexDigits = (n: number): string =>
  randomBytes(Math.ceil(n / 2))
    .toString('hex')
    .slice(0, n)
    .toUpperCase();
const digits = (n: number): string => Array.from(randomBytes(n), (b) => String(b % 10)).join('');
const mac = (): string =>
  Array.from(randomBytes(6), (b) => b.toString(16).padStart(2, '0'))
    .join(':')
    .toUpperCase();

/** In-memory directory (Entra ID) and Intune data. Every lookup throws `EmulatorError` NOT_FOUND when absent. */
export class EmulatorState {
  readonly tenants = new Map<string, Tenant>();
  readonly apps = new Map<string, AppRegistration>();
  readonly users = new Map<string, User>();
  readonly devices = new Map<string, Device>();
  readonly profiles = new Map<string, ScepProfile>();
  readonly challenges = new Map<string, ChallengeRecord>();
  /** Keyed by `deviceId/profileId`. */
  readonly deployments = new Map<string, DeploymentStatus>();
  readonly issued: IssuedCertificate[] = [];
  readonly revocations: RevocationRequest[] = [];

  constructor(private readonly now: () => number) {}

  addTenant(input: CreateTenantInput): Tenant {
    const name = input.name.toLowerCase();
    if (!/^[a-z0-9]{1,27}$/.test(name)) {
      throw new EmulatorError(
        'INVALID_ARGUMENT',
        `tenant name must be 1-27 letters/digits, got ${input.name}`,
      );
    }
    const tenant: Tenant = {
      id: input.id ?? randomUUID(),
      domain: `${name}.onmicrosoft.com`,
      displayName: input.displayName ?? name,
    };
    if (this.findTenant(tenant.id) || this.findTenant(tenant.domain)) {
      throw new EmulatorError('CONFLICT', `tenant ${tenant.domain} exists`);
    }
    this.tenants.set(tenant.id, tenant);
    return tenant;
  }

  /** A tenant by id or domain (case-insensitive), or undefined. */
  findTenant(idOrDomain: string): Tenant | undefined {
    const key = idOrDomain.toLowerCase();
    for (const t of this.tenants.values()) if (t.id === key || t.domain === key) return t;
    return undefined;
  }

  tenant(idOrDomain: string): Tenant {
    const t = this.findTenant(idOrDomain);
    if (!t) throw new EmulatorError('NOT_FOUND', `no tenant ${idOrDomain}`);
    return t;
  }

  addApp(tenantId: string, input: CreateAppInput = {}): AppRegistration {
    const tenant = this.tenant(tenantId);
    const app: AppRegistration = {
      tenantId: tenant.id,
      clientId: input.clientId ?? randomUUID(),
      objectId: randomUUID(),
      displayName: input.displayName ?? 'SCEP server',
      secrets: [],
      certificates: [],
      permissions: [...(input.permissions ?? [])],
      adminConsent: input.adminConsent ?? false,
    };
    if (this.apps.has(appKey(tenant.id, app.clientId))) {
      throw new EmulatorError('CONFLICT', `app ${app.clientId} exists in ${tenant.domain}`);
    }
    this.apps.set(appKey(tenant.id, app.clientId), app);
    return app;
  }

  findApp(tenantId: string, clientId: string): AppRegistration | undefined {
    return this.apps.get(appKey(tenantId, clientId));
  }

  app(tenantId: string, clientId: string): AppRegistration {
    const app = this.findApp(this.tenant(tenantId).id, clientId);
    if (!app) throw new EmulatorError('NOT_FOUND', `no app ${clientId} in tenant ${tenantId}`);
    return app;
  }

  /** Adds a client secret valid for `lifetimeMs` (default 180 days; negative = already expired). */
  addSecret(tenantId: string, clientId: string, lifetimeMs = 180 * 86400_000): CreatedSecret {
    const app = this.app(tenantId, clientId);
    // Entra secrets are 40 chars of [A-Za-z0-9~._-]; three-char prefix + "8Q~" marker like real ones.
    const value = `${randomBytes(3).toString('base64url').slice(0, 3)}8Q~${randomBytes(28).toString('base64url').slice(0, 34)}`;
    const secret = {
      id: randomUUID(),
      hint: value.slice(0, 3),
      sha256: sha256(value),
      expiresAt: new Date(this.now() + lifetimeMs).toISOString(),
    };
    app.secrets.push(secret);
    return { id: secret.id, value, expiresAt: secret.expiresAt };
  }

  /** Registers a certificate (PEM) for client assertions. */
  addCertificate(tenantId: string, clientId: string, pem: string): AppRegistration['certificates'][number] {
    const app = this.app(tenantId, clientId);
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch (err) {
      throw new EmulatorError('INVALID_ARGUMENT', 'not a PEM certificate', { cause: err });
    }
    const entry = {
      x5t: createHash('sha1').update(cert.raw).digest('base64url'),
      x5tS256: createHash('sha256').update(cert.raw).digest('base64url'),
      pem: cert.toString(),
      notAfter: new Date(cert.validTo).toISOString(),
    };
    app.certificates.push(entry);
    return entry;
  }

  grantPermission(tenantId: string, clientId: string, permission: GrantedPermission): AppRegistration {
    const app = this.app(tenantId, clientId);
    if (!app.permissions.some((p) => p.resource === permission.resource && p.name === permission.name)) {
      app.permissions.push({ ...permission });
    }
    return app;
  }

  revokePermission(tenantId: string, clientId: string, permission: GrantedPermission): AppRegistration {
    const app = this.app(tenantId, clientId);
    app.permissions = app.permissions.filter(
      (p) => !(p.resource === permission.resource && p.name === permission.name),
    );
    return app;
  }

  setAdminConsent(tenantId: string, clientId: string, granted: boolean): AppRegistration {
    const app = this.app(tenantId, clientId);
    app.adminConsent = granted;
    return app;
  }

  addUser(tenantId: string, input: CreateUserInput): User {
    const tenant = this.tenant(tenantId);
    const upn = input.userPrincipalName;
    const user: User = {
      id: input.id ?? randomUUID(),
      tenantId: tenant.id,
      userPrincipalName: upn,
      email: input.email ?? upn,
      displayName: input.displayName ?? upn.split('@')[0] ?? upn,
      userName: input.userName ?? upn.split('@')[0] ?? upn,
      ...(input.onPremisesSid ? { onPremisesSid: input.onPremisesSid } : {}),
    };
    if (this.users.has(user.id)) throw new EmulatorError('CONFLICT', `user ${user.id} exists`);
    this.users.set(user.id, user);
    return user;
  }

  user(tenantId: string, id: string): User {
    const user = this.users.get(id);
    if (!user || user.tenantId !== this.tenant(tenantId).id) {
      throw new EmulatorError('NOT_FOUND', `no user ${id} in tenant ${tenantId}`);
    }
    return user;
  }

  /** Deletes a user from the directory (its devices keep the now dangling primary-user id). */
  deleteUser(tenantId: string, id: string): void {
    this.user(tenantId, id);
    this.users.delete(id);
  }

  /** Deletes a device record (Intune "Delete"), unlike retire/wipe which keep it. */
  deleteDevice(tenantId: string, id: string): void {
    this.device(tenantId, id);
    this.devices.delete(id);
  }

  addDevice(tenantId: string, input: CreateDeviceInput): Device {
    const tenant = this.tenant(tenantId);
    if (!PLATFORMS.includes(input.platform)) {
      throw new EmulatorError('INVALID_ARGUMENT', `platform must be one of ${PLATFORMS.join(', ')}`);
    }
    if (input.userId) this.user(tenant.id, input.userId);
    const serial = input.serialNumber ?? (input.platform === 'windows' ? `PF${hexDigits(6)}` : hexDigits(12));
    const device: Device = {
      id: input.id ?? randomUUID(),
      aadDeviceId: input.aadDeviceId ?? randomUUID(),
      tenantId: tenant.id,
      platform: input.platform,
      name: input.name ?? `${input.platform.toUpperCase()}-${serial}`,
      serialNumber: serial,
      wifiMacAddress: input.wifiMacAddress ?? mac(),
      state: 'enrolled',
      certificates: [],
      ...(input.userId ? { userId: input.userId } : {}),
    };
    const imei =
      input.imei ??
      (input.platform === 'ios' || input.platform === 'android' ? `35${digits(13)}` : undefined);
    if (imei) device.imei = imei;
    if (this.devices.has(device.id)) throw new EmulatorError('CONFLICT', `device ${device.id} exists`);
    this.devices.set(device.id, device);
    return device;
  }

  device(tenantId: string, id: string): Device {
    const device = this.devices.get(id);
    if (!device || device.tenantId !== this.tenant(tenantId).id) {
      throw new EmulatorError('NOT_FOUND', `no device ${id} in tenant ${tenantId}`);
    }
    return device;
  }

  addProfile(tenantId: string, input: CreateProfileInput): ScepProfile {
    const tenant = this.tenant(tenantId);
    const profile: ScepProfile = {
      name: `SCEP ${input.certificateType} ${input.platform}`,
      subjectNameFormat:
        input.certificateType === 'user' ? 'CN={{UserName}},E={{EmailAddress}}' : 'CN={{AAD_Device_ID}}',
      subjectAlternativeNames: [],
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      keySize: 2048,
      hashAlgorithm: 'SHA-2',
      extendedKeyUsages: ['1.3.6.1.5.5.7.3.2'],
      validityPeriod: { value: 1, unit: 'years' },
      renewalThresholdPercent: 20,
      scepServerUrls: ['https://scep.example.test/scep'],
      ...input,
      id: input.id ?? randomUUID(),
      tenantId: tenant.id,
      assignments: [...(input.assignments ?? [])],
    };
    if (![1024, 2048, 4096].includes(profile.keySize)) {
      throw new EmulatorError(
        'INVALID_ARGUMENT',
        `keySize must be 1024, 2048 or 4096, got ${profile.keySize}`,
      );
    }
    if (this.profiles.has(profile.id)) throw new EmulatorError('CONFLICT', `profile ${profile.id} exists`);
    this.profiles.set(profile.id, profile);
    return profile;
  }

  profile(tenantId: string, id: string): ScepProfile {
    const profile = this.profiles.get(id);
    if (!profile || profile.tenantId !== this.tenant(tenantId).id) {
      throw new EmulatorError('NOT_FOUND', `no profile ${id} in tenant ${tenantId}`);
    }
    return profile;
  }

  updateProfile(
    tenantId: string,
    id: string,
    patch: Partial<Omit<ScepProfile, 'id' | 'tenantId'>>,
  ): ScepProfile {
    const profile = this.profile(tenantId, id);
    const { id: _id, tenantId: _tenant, ...rest } = patch as Partial<ScepProfile>;
    Object.assign(profile, rest);
    return profile;
  }

  deleteProfile(tenantId: string, id: string): void {
    this.profile(tenantId, id);
    this.profiles.delete(id);
  }

  assign(tenantId: string, profileId: string, assignment: Assignment): ScepProfile {
    const profile = this.profile(tenantId, profileId);
    if (assignment.kind === 'user') this.user(tenantId, assignment.id);
    else this.device(tenantId, assignment.id);
    if (!profile.assignments.some((a) => a.kind === assignment.kind && a.id === assignment.id)) {
      profile.assignments.push({ kind: assignment.kind, id: assignment.id });
    }
    return profile;
  }

  unassign(tenantId: string, profileId: string, targetId: string): ScepProfile {
    const profile = this.profile(tenantId, profileId);
    profile.assignments = profile.assignments.filter((a) => a.id !== targetId);
    return profile;
  }

  /** True if the profile targets the device, directly or through its primary user, and the device is enrolled. */
  isTargeted(profile: ScepProfile, device: Device): boolean {
    if (device.state !== 'enrolled' || profile.platform !== device.platform) return false;
    return profile.assignments.some(
      (a) => (a.kind === 'device' && a.id === device.id) || (a.kind === 'user' && a.id === device.userId),
    );
  }

  /** Profiles targeting a device. */
  profilesFor(device: Device): ScepProfile[] {
    return [...this.profiles.values()].filter(
      (p) => p.tenantId === device.tenantId && this.isTargeted(p, device),
    );
  }

  /** Everything as plain JSON. */
  snapshot(): Record<string, unknown> {
    return {
      tenants: [...this.tenants.values()],
      apps: [...this.apps.values()],
      users: [...this.users.values()],
      devices: [...this.devices.values()],
      profiles: [...this.profiles.values()],
      deployments: [...this.deployments.values()],
      issued: this.issued,
      revocations: this.revocations,
    };
  }
}

const appKey = (tenantId: string, clientId: string): string => `${tenantId}/${clientId.toLowerCase()}`;

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
