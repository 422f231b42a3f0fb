import type { IntuneEmulator } from './emulator.js';
import type { AppRegistration, Device, Platform, ScepProfile, Tenant, User } from './model.js';
import { PERMISSIONS, PLATFORMS } from './model.js';

export interface SeedOptions {
  /** Tenant short name (default `contoso`). */
  tenantName?: string;
  /** SCEP server URL put into the profiles (default `https://127.0.0.1:8443/scep`). */
  scepServerUrl?: string;
  /** Root certificate (PEM) for the profiles' trusted-root setting. */
  rootCertificatePem?: string;
}

export interface SeedResult {
  tenant: Tenant;
  app: AppRegistration;
  /** Shown once; the emulator keeps only its hash. */
  clientSecret: string;
  users: User[];
  /** One per platform. */
  devices: Record<Platform, Device>;
  /** A device-certificate profile per platform, assigned to that platform's device. */
  deviceProfiles: Record<Platform, ScepProfile>;
  /** A Windows user-certificate profile (UPN, email and SID SANs) assigned to the first user. */
  userProfile: ScepProfile;
}

/** Seeds a consented SCEP app, two users, a device per platform and SCEP profiles. */
export function seedEmulator(emu: IntuneEmulator, options: SeedOptions = {}): SeedResult {
  const s = emu.state;
  const tenant = s.addTenant({ name: options.tenantName ?? 'contoso', displayName: 'Contoso' });
  const app = s.addApp(tenant.id, {
    displayName: 'scepkit SCEP server',
    permissions: [
      { resource: 'intune', name: PERMISSIONS.intune },
      { resource: 'graph', name: PERMISSIONS.graph },
    ],
    adminConsent: true,
  });
  const clientSecret = s.addSecret(tenant.id, app.clientId).value;
  const alice = s.addUser(tenant.id, {
    userPrincipalName: `alice@${tenant.domain}`,
    email: 'alice@contoso.example',
    displayName: 'Alice Example',
    userName: 'alice',
    onPremisesSid: 'S-1-5-21-1004336348-1177238915-682003330-1105',
  });
  const bob = s.addUser(tenant.id, {
    userPrincipalName: `bob@${tenant.domain}`,
    email: 'bob@contoso.example',
  });
  const urls = [options.scepServerUrl ?? 'https://127.0.0.1:8443/scep'];
  const root = options.rootCertificatePem ? { rootCertificatePem: options.rootCertificatePem } : {};
  const devices = {} as Record<Platform, Device>;
  const deviceProfiles = {} as Record<Platform, ScepProfile>;
  for (const platform of PLATFORMS) {
    const device = s.addDevice(tenant.id, {
      platform,
      userId: platform === 'windows' || platform === 'ios' ? alice.id : bob.id,
    });
    devices[platform] = device;
    deviceProfiles[platform] = s.addProfile(tenant.id, {
      name: `Device certificate (${platform})`,
      platform,
      certificateType: 'device',
      subjectNameFormat: 'CN={{AAD_Device_ID}},OU=Devices,O=Contoso',
      subjectAlternativeNames: [{ type: 'uri', value: 'IntuneDeviceId://{{DeviceId}}' }],
      scepServerUrls: urls,
      ...root,
      assignments: [{ kind: 'device', id: device.id }],
    });
  }
  const userProfile = s.addProfile(tenant.id, {
    name: 'User certificate (windows)',
    platform: 'windows',
    certificateType: 'user',
    subjectNameFormat: 'CN={{UserName}},E={{EmailAddress}},O=Contoso',
    subjectAlternativeNames: [
      { type: 'upn', value: '{{UserPrincipalName}}' },
      { type: 'email', value: '{{EmailAddress}}' },
      { type: 'uri', value: 'tag:microsoft.com,2022-09-14:sid:{{OnPremisesSecurityIdentifier}}' },
    ],
    scepServerUrls: urls,
    ...root,
    assignments: [{ kind: 'user', id: alice.id }],
  });
  return { tenant, app, clientSecret, users: [alice, bob], devices, deviceProfiles, userProfile };
}
