/** The emulator's directory and Intune data, as plain records (JSON-serialisable for the admin API). */

export const PLATFORMS = ['windows', 'ios', 'macos', 'android'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** Intune's first-party app id (the resource of `scep_challenge_provider`). */
export const INTUNE_APP_ID = '0000000a-0000-0000-c000-000000000000';
/** Microsoft Graph's app id. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const INTUNE_RESOURCE = 'https://api.manage.microsoft.com/';
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
/** The retired Azure AD Graph (the CsrValidation library's ADAL fallback, docs/intune-api.md §1.4). */
export const AAD_GRAPH_RESOURCE = 'https://graph.windows.net/';
export const AAD_GRAPH_APP_ID = '00000002-0000-0000-c000-000000000000';
export const SCEP_API_VERSION = '2018-02-20';
export const PKI_API_VERSION = '5019-05-05';

export type ResourceName = 'graph' | 'intune' | 'aadGraph';

/** The application permissions the services check (docs/intune-api.md §2). */
export const PERMISSIONS = {
  intune: 'scep_challenge_provider',
  graph: 'Application.Read.All',
  aadGraph: 'Directory.Read.All',
} as const satisfies Record<ResourceName, string>;

export interface Tenant {
  id: string;
  /** `name.onmicrosoft.com`. */
  domain: string;
  displayName: string;
}

/** A client secret; only its SHA-256 is kept (the value is shown once, at creation). */
export interface AppSecret {
  id: string;
  /** First three characters, as the Entra portal shows. */
  hint: string;
  sha256: string;
  expiresAt: string;
}

export interface AppCertificate {
  /** SHA-1 thumbprint, base64url (the JWT `x5t`). */
  x5t: string;
  /** SHA-256 thumbprint, base64url (the JWT `x5t#S256`). */
  x5tS256: string;
  pem: string;
  notAfter: string;
}

export interface GrantedPermission {
  resource: ResourceName;
  name: string;
}

export interface AppRegistration {
  tenantId: string;
  clientId: string;
  /** Object id of the app's service principal (the token `oid`). */
  objectId: string;
  displayName: string;
  secrets: AppSecret[];
  certificates: AppCertificate[];
  permissions: GrantedPermission[];
  adminConsent: boolean;
}

export interface User {
  id: string;
  tenantId: string;
  userPrincipalName: string;
  email: string;
  displayName: string;
  /** On-premises sAMAccountName (`{{UserName}}` falls back to the UPN prefix). */
  userName: string;
  onPremisesSid?: string;
}

export interface DeviceCertificate {
  thumbprint: string;
  serialNumber: string;
  expiresAt: string;
  issuer: string;
  profileId: string;
  transactionId: string;
  installedAt: string;
}

export interface Device {
  /** Intune device id (`{{DeviceId}}`). */
  id: string;
  /** Entra device id (`{{AAD_Device_ID}}`). */
  aadDeviceId: string;
  tenantId: string;
  platform: Platform;
  name: string;
  serialNumber: string;
  imei?: string;
  wifiMacAddress: string;
  /** Primary user. */
  userId?: string;
  state: 'enrolled' | 'retired' | 'wiped';
  certificates: DeviceCertificate[];
}

export type SanType = 'email' | 'upn' | 'dns' | 'uri';

/** A subject alternative name; the value may hold Intune variables. */
export interface SanTemplate {
  type: SanType;
  value: string;
}

export type KeyUsageName = 'digitalSignature' | 'keyEncipherment';

export interface Assignment {
  kind: 'user' | 'device';
  id: string;
}

/** An Intune SCEP certificate profile (docs/intune-api.md §4). */
export interface ScepProfile {
  id: string;
  tenantId: string;
  name: string;
  platform: Platform;
  certificateType: 'user' | 'device';
  /** E.g. `CN={{AAD_Device_ID}},OU=Devices,O=Contoso`. */
  subjectNameFormat: string;
  subjectAlternativeNames: SanTemplate[];
  keyUsage: KeyUsageName[];
  keySize: 1024 | 2048 | 4096;
  hashAlgorithm: 'SHA-1' | 'SHA-2';
  /** EKU OIDs, e.g. `1.3.6.1.5.5.7.3.2`. */
  extendedKeyUsages: string[];
  validityPeriod: { value: number; unit: 'days' | 'months' | 'years' };
  renewalThresholdPercent: number;
  scepServerUrls: string[];
  /** The trusted root certificate profile's certificate (PEM), if set. */
  rootCertificatePem?: string;
  assignments: Assignment[];
}

/** What the CSR must contain, as bound into a challenge. */
export interface ExpectedCsr {
  /** RFC 4514-style subject as the device must send it. */
  subject: string;
  subjectAlternativeNames: SanTemplate[];
  /** Key usage flags as `@peculiar/x509` `KeyUsageFlags` (digitalSignature = 1, keyEncipherment = 4). */
  keyUsage: number;
  keySize: number;
  extendedKeyUsages: string[];
}

export interface ChallengeRecord {
  requestId: string;
  tenantId: string;
  deviceId: string;
  userId?: string;
  profileId: string;
  createdAt: string;
  expiresAt: string;
  /** SHA-256 of the SPKI of the first CSR validated with it. */
  boundKeySha256?: string;
}

export type DeploymentState = 'pending' | 'succeeded' | 'failed';

export interface DeploymentStatus {
  deviceId: string;
  profileId: string;
  userId?: string;
  state: DeploymentState;
  requestId?: string;
  transactionId?: string;
  hResult?: number;
  errorDescription?: string;
  certificateThumbprint?: string;
  updatedAt: string;
}

/** A certificate Intune knows was issued (from successNotification). Kept after retire/wipe. */
export interface IssuedCertificate extends DeviceCertificate {
  tenantId: string;
  deviceId: string;
  caConfiguration: string | null;
  certificateAuthority: string | null;
}

export type RevocationState = 'pending' | 'downloaded' | 'succeeded' | 'failed';

export interface RevocationRequest {
  requestContext: string;
  tenantId: string;
  deviceId: string;
  thumbprint: string;
  serialNumber: string;
  issuerName: string;
  caConfiguration: string | null;
  state: RevocationState;
  /** Enum name of `CARequestErrorCodes` once the result is uploaded. */
  errorCode?: string;
  errorMessage?: string | null;
  queuedAt: string;
  completedAt?: string;
}

/** `CARequestErrorCodes` (docs/intune-api.md §1.7). */
export const CA_REQUEST_ERROR_CODES = {
  None: 0,
  NonRetryableServiceException: 4000,
  DataSerializationError: 4001,
  ParameterDataInvalidError: 4002,
  CryptographyError: 4003,
  CertificateNotFoundError: 4004,
  ConflictError: 4005,
  NotSupportedError: 4006,
  PayloadTooLargeError: 4007,
  RetryableServiceException: 4100,
  ServiceUnavailableException: 4101,
  ServiceTooBusyException: 4102,
  AuthenticationException: 4103,
} as const;
export type CaRequestErrorCode = keyof typeof CA_REQUEST_ERROR_CODES;
