import type { Capability, ContentCipher, DigestName, KeyTransport } from '@scepkit/scep';
import type { Platform, ScepProfile } from '../model.js';

/** How one platform's SCEP client talks (docs/intune-api.md §5). */
export interface PlatformBehaviour {
  platform: Platform;
  userAgent: string;
  /** Appended to the profile's SCEP server URL (Windows: `/pkiclient.exe`). */
  pathSuffix: string;
  /** The `message` value of GetCACaps and GetCACert (sent percent-encoded). */
  capsMessage: string;
  caCertMessage: string;
  /** GetCACert before GetCACaps (Apple). */
  caCertFirst: boolean;
  digest(caps: ReadonlySet<Capability>, hash: ScepProfile['hashAlgorithm']): DigestName;
  cipher(caps: ReadonlySet<Capability>): ContentCipher;
  keyTransport: KeyTransport;
  usePost(caps: ReadonlySet<Capability>): boolean;
  /** How a GET PKIOperation message is put in the query. */
  getEncoding: 'percent' | 'percent-keep-plus';
  /** Re-encode the pkiMessage with BER indefinite lengths (Apple). */
  berIndefinite: boolean;
  /** Check the profile's root (SHA-1 `CAThumbprint`) against the GetCACert certificates (Windows). */
  checksCaThumbprint: boolean;
  /** On a connection failure or HTTP error, try the profile's next SCEP URL (Windows, Android). */
  triesEveryUrl: boolean;
  /** Encrypt only to an RA (a non-CA certificate with keyEncipherment): Windows stalls without one (field #228). */
  needsRa: boolean;
}

/** SHA-512 > SHA-256 > SHA-1, as jscep (no SHA-384) and Apple pick. */
function strongest(caps: ReadonlySet<Capability>): DigestName {
  if (caps.has('SHA-512')) return 'sha512';
  if (caps.has('SHA-256')) return 'sha256';
  return 'sha1';
}

const windows: PlatformBehaviour = {
  platform: 'windows',
  // S8: the NDES client's User-Agent.
  userAgent: 'Mozilla/4.0 (compatible; Win32; NDES client)',
  // fleet #34252: Windows appends /pkiclient.exe to ServerURL (a 404 there is 0x80190194).
  pathSuffix: '/pkiclient.exe',
  capsMessage: 'default',
  caCertMessage: 'default',
  caCertFirst: false,
  // CSP HashAlgorithm: SHA-2 when the profile says so and the server offers it, else SHA-1.
  digest: (caps, hash) => (hash === 'SHA-2' && caps.has('SHA-256') ? 'sha256' : 'sha1'),
  cipher: (caps) => (caps.has('AES') ? 'aes-256-cbc' : 'des-ede3-cbc'),
  keyTransport: 'rsa-oaep',
  usePost: (caps) => caps.has('POSTPKIOperation'),
  getEncoding: 'percent',
  berIndefinite: false,
  checksCaThumbprint: true,
  triesEveryUrl: true,
  needsRa: true,
};

const apple = (platform: 'ios' | 'macos'): PlatformBehaviour => ({
  platform,
  userAgent: `scepkit-intune-emulator (${platform} SCEP client)`,
  pathSuffix: '',
  // com.apple.security.scep `Name`, as Intune fills it.
  capsMessage: 'SCEP Authority',
  caCertMessage: 'SCEP Authority',
  caCertFirst: true,
  // S8 capture against NDES: SHA-512 and des-ede3-cbc, whatever the profile's hash setting (N/A on Apple).
  digest: (caps) => strongest(caps),
  cipher: () => 'des-ede3-cbc',
  keyTransport: 'rsa-pkcs1',
  // "Sending CSR via GET": Apple uses GET even when POSTPKIOperation is offered.
  usePost: () => false,
  // macOS leaves '+' of the base64 unescaped in the query (ok/get-PKIOperation-macos-unescaped-plus).
  getEncoding: platform === 'macos' ? 'percent-keep-plus' : 'percent',
  berIndefinite: true,
  checksCaThumbprint: false,
  triesEveryUrl: false,
  needsRa: false,
});

const android: PlatformBehaviour = {
  platform: 'android',
  userAgent: 'scepkit-intune-emulator (android jscep)',
  pathSuffix: '',
  capsMessage: 'ca',
  caCertMessage: 'ca',
  caCertFirst: false,
  // jscep: the strongest digest offered; Android ignores the profile's SHA-1 setting (§4).
  digest: (caps) => strongest(caps),
  // jscep: "AES" (AES-128-CBC) when offered, else DES3.
  cipher: (caps) => (caps.has('AES') ? 'aes-128-cbc' : 'des-ede3-cbc'),
  keyTransport: 'rsa-pkcs1',
  usePost: (caps) => caps.has('POSTPKIOperation'),
  getEncoding: 'percent',
  berIndefinite: false,
  checksCaThumbprint: false,
  triesEveryUrl: true,
  needsRa: false,
};

/** The wire behaviour of each platform's SCEP client. */
export const PLATFORM_BEHAVIOURS: Record<Platform, PlatformBehaviour> = {
  windows,
  ios: apple('ios'),
  macos: apple('macos'),
  android,
};

/** Puts standard base64 into a query value the way the platform does. */
export function encodeGetMessage(b64: string, encoding: PlatformBehaviour['getEncoding']): string {
  const encoded = encodeURIComponent(b64);
  return encoding === 'percent-keep-plus' ? encoded.replace(/%2B/g, '+') : encoded;
}
