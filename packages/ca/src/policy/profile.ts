import { OID } from '../oids.js';
import type { KeyUsageName } from '../certs/extensions.js';
import type { SanType } from './san.js';

/** What a CA profile (one SCEP endpoint) issues. Plain data; merge partial options with `resolveProfile`. */
export interface IssuanceProfile {
  /** Allowed CSR keys. RSA sizes are exact moduli (Intune allows 1024); EC by curve. */
  keys: {
    rsaMinBits: number;
    rsaAllowedBits: readonly number[];
    ecCurves: readonly ('P-256' | 'P-384')[];
  };
  /** Validity of issued certificates, counted from now (capped by `maxValidityDays` and the CA's notAfter). */
  validityDays: number;
  maxValidityDays: number;
  /** notBefore = now - backdateSeconds, for clients with a slow clock. */
  backdateSeconds: number;
  /** EKUs when the CSR requests none (Apple sends none). */
  defaultEku: readonly string[];
  /** EKUs a CSR may request. */
  allowedEku: readonly string[];
  /** KeyUsage when the CSR requests none, by key type. */
  defaultKeyUsage: { rsa: readonly KeyUsageName[]; ec: readonly KeyUsageName[] };
  /** Which CSR extensions are honoured (copied, after checks); all other requested extensions are dropped. */
  honour: { subjectAltName: boolean; keyUsage: boolean; extKeyUsage: boolean };
  /** SAN types a CSR may request (`sid` is governed by `sid` below, `other` never passes). */
  allowedSanTypes: readonly Exclude<SanType, 'sid' | 'other'>[];
  /** A disallowed SAN type or EKU: refuse the request (badRequest) or silently drop it. */
  onDisallowed: 'refuse' | 'drop';
  /**
   * SID (URI SAN `tag:microsoft.com,2022-09-14:sid:...` and szOID_NTDS_CA_SECURITY_EXT 1.3.6.1.4.1.311.25.2):
   * `never`, or only when the challenge verifier says Intune validated the request. Otherwise: badRequest.
   */
  sid: 'never' | 'intune-validated';
  /** Hold requests PENDING until an admin approves or rejects them. */
  manualApproval: boolean;
  /**
   * May a RenewalReq certify the key of the certificate it renews? RFC 8894 allows it, and micromdm's scepclient
   * renews with its existing key; `refuse` demands a new key pair.
   */
  renewalKeyReuse: 'allow' | 'refuse';
  /** CRL distribution point URLs put in issued certificates (none: no extension). */
  crlDistributionPoints: readonly string[];
  /** AIA caIssuers and OCSP URLs put in issued certificates. */
  caIssuersUrls: readonly string[];
  ocspUrls: readonly string[];
}

export const DEFAULT_RSA_BITS = [2048, 3072, 4096] as const;
export const DEFAULT_VALIDITY_DAYS = 365;
export const DEFAULT_MAX_VALIDITY_DAYS = 825;
export const DEFAULT_BACKDATE_SECONDS = 600;
export const DEFAULT_EKU: readonly string[] = [OID.clientAuth];
export const DEFAULT_ALLOWED_EKU: readonly string[] = [
  OID.clientAuth,
  OID.serverAuth,
  '1.3.6.1.5.5.7.3.4', // emailProtection
  '1.3.6.1.5.5.7.3.7', // ipsecUser (Intune "IPsec")
  '1.3.6.1.5.5.8.2.2', // iKEIntermediate
  '1.3.6.1.4.1.311.20.2.2', // smartcardLogon
];

export const DEFAULT_ISSUANCE_PROFILE: IssuanceProfile = {
  keys: { rsaMinBits: 2048, rsaAllowedBits: [1024, ...DEFAULT_RSA_BITS], ecCurves: ['P-256', 'P-384'] },
  validityDays: DEFAULT_VALIDITY_DAYS,
  maxValidityDays: DEFAULT_MAX_VALIDITY_DAYS,
  backdateSeconds: DEFAULT_BACKDATE_SECONDS,
  defaultEku: DEFAULT_EKU,
  allowedEku: DEFAULT_ALLOWED_EKU,
  defaultKeyUsage: { rsa: ['digitalSignature', 'keyEncipherment'], ec: ['digitalSignature'] },
  honour: { subjectAltName: true, keyUsage: true, extKeyUsage: true },
  allowedSanTypes: ['email', 'dns', 'uri', 'upn'],
  onDisallowed: 'refuse',
  sid: 'intune-validated',
  manualApproval: false,
  renewalKeyReuse: 'allow',
  crlDistributionPoints: [],
  caIssuersUrls: [],
  ocspUrls: [],
};

/** Options as given by the caller: any field may be omitted (nested objects too). */
export type IssuanceProfileOptions = Partial<Omit<IssuanceProfile, 'keys' | 'honour' | 'defaultKeyUsage'>> & {
  keys?: Partial<IssuanceProfile['keys']>;
  honour?: Partial<IssuanceProfile['honour']>;
  defaultKeyUsage?: Partial<IssuanceProfile['defaultKeyUsage']>;
};

/** Fill omitted fields from `DEFAULT_ISSUANCE_PROFILE` and check the values. */
export function resolveProfile(options: IssuanceProfileOptions = {}): IssuanceProfile {
  const d = DEFAULT_ISSUANCE_PROFILE;
  const p: IssuanceProfile = {
    ...d,
    ...options,
    keys: { ...d.keys, ...options.keys },
    honour: { ...d.honour, ...options.honour },
    defaultKeyUsage: { ...d.defaultKeyUsage, ...options.defaultKeyUsage },
  };
  if (!(p.validityDays > 0) || !(p.maxValidityDays > 0))
    throw new RangeError('validity days must be positive');
  if (p.backdateSeconds < 0) throw new RangeError('backdateSeconds must not be negative');
  return p;
}
