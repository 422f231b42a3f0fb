import 'reflect-metadata';
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  webcrypto,
  type KeyObject,
} from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** The emulator's own key material. Pass one set to several emulators to save key generation in tests. */
export interface EmulatorKeys {
  /** RSA key signing access tokens (RS256) and challenges. */
  signingKey: KeyObject;
  /** `kid` of the signing key in the JWKS. */
  signingKeyId: string;
  /** AES-256-GCM key encrypting challenges. */
  challengeKey: Buffer;
  /** Self-signed TLS certificate for 127.0.0.1 / localhost (PEM) and its key. */
  tlsCertPem: string;
  tlsKeyPem: string;
}

/**
 * Generates a key set: RSA signing key (2048 bits unless `rsaBits`, or the given `signingKey`), AES key (random
 * unless `challengeKey`) and an EC P-256 TLS certificate.
 */
export async function createEmulatorKeys(
  options: { rsaBits?: number; signingKey?: KeyObject; challengeKey?: Buffer } = {},
): Promise<EmulatorKeys> {
  const privateKey =
    options.signingKey ?? generateKeyPairSync('rsa', { modulusLength: options.rsaBits ?? 2048 }).privateKey;
  const tls = await createTlsCertificate();
  return {
    signingKey: privateKey,
    signingKeyId: keyId(privateKey),
    challengeKey: options.challengeKey ?? randomBytes(32),
    tlsCertPem: tls.certPem,
    tlsKeyPem: tls.keyPem,
  };
}

/** `kid`: base64url SHA-256 of the public key's SPKI (first 27 chars, like Entra's short kids). */
export function keyId(key: KeyObject): string {
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(spki).digest('base64url').slice(0, 27);
}

async function createTlsCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const crypto = webcrypto;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomBytes(8)
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      name: 'CN=scepkit intune emulator (127.0.0.1)',
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 30 * 24 * 3600_000),
      signingAlgorithm: alg,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
        ]),
      ],
    },
    crypto,
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    certPem: cert.toString('pem'),
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
  };
}
