import 'reflect-metadata';
import { createHash } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { AuditEvent, CertificateRecord, TransactionRecord } from '@scepkit/ca';
import { REVOCATION_REASONS } from '@scepkit/ca';

/** A certificate in a list. */
export interface CertificateSummary {
  serial: string;
  subject: string;
  sans: string[];
  notBefore: Date;
  notAfter: Date;
  status: 'valid' | 'revoked';
  revokedAt: Date | null;
  revocationReason: string | null;
  profile: string;
  deviceId: string | null;
  transactionId: string | null;
  createdAt: Date;
}

const REASON_NAMES = new Map<number, string>(Object.entries(REVOCATION_REASONS).map(([k, v]) => [v, k]));

export function reasonName(code: number | null): string | null {
  return code === null ? null : (REASON_NAMES.get(code) ?? String(code));
}

export function summarize(c: CertificateRecord): CertificateSummary {
  return {
    serial: c.serial,
    subject: c.subject,
    sans: c.sans,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    status: c.status,
    revokedAt: c.revokedAt,
    revocationReason: reasonName(c.revocationReason),
    profile: c.profile,
    deviceId: c.deviceId,
    transactionId: c.transactionId,
    createdAt: c.createdAt,
  };
}

export interface DecodedExtension {
  oid: string;
  name: string;
  critical: boolean;
  /** @peculiar/x509's text rendering of the decoded value. */
  text: string;
}

export interface ChainEntry {
  subject: string;
  issuer: string;
  serial: string;
  notAfter: Date;
  sha256: string;
}

const EXTENSION_NAMES: Record<string, string> = {
  '2.5.29.14': 'Subject Key Identifier',
  '2.5.29.15': 'Key Usage',
  '2.5.29.17': 'Subject Alternative Name',
  '2.5.29.19': 'Basic Constraints',
  '2.5.29.31': 'CRL Distribution Points',
  '2.5.29.32': 'Certificate Policies',
  '2.5.29.35': 'Authority Key Identifier',
  '2.5.29.37': 'Extended Key Usage',
  '1.3.6.1.5.5.7.1.1': 'Authority Information Access',
  '1.3.6.1.4.1.311.25.2': 'Microsoft NTDS CA Security (SID)',
  '1.3.6.1.4.1.311.20.2': 'Microsoft Certificate Template Name',
};

function decodeExtensions(cert: x509.X509Certificate): DecodedExtension[] {
  return cert.extensions.map((e) => {
    let text: string;
    try {
      // The text form starts with the extension's own name line; keep only the value lines.
      text = e
        .toString('text')
        .split('\n')
        .slice(1)
        .map((l) => l.replace(/^ {2}/, ''))
        .join('\n')
        .trim();
    } catch {
      text = Buffer.from(e.value).toString('hex');
    }
    return { oid: e.type, name: EXTENSION_NAMES[e.type] ?? e.type, critical: e.critical, text };
  });
}

export function chainEntry(der: Uint8Array): ChainEntry {
  const c = new x509.X509Certificate(der);
  return {
    subject: c.subject,
    issuer: c.issuer,
    serial: c.serialNumber.toLowerCase(),
    notAfter: c.notAfter,
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}

function publicKeyText(cert: x509.X509Certificate): string {
  const alg = cert.publicKey.algorithm as { name: string; modulusLength?: number; namedCurve?: string };
  if (alg.modulusLength) return `${alg.name} ${alg.modulusLength} bits`;
  if (alg.namedCurve) return `${alg.name} ${alg.namedCurve}`;
  return alg.name;
}

/** Everything the detail page shows, decoded with @peculiar/x509 (no hand-written DER). */
export function certificateDetail(
  c: CertificateRecord,
  o: {
    chain: readonly Uint8Array[];
    transaction: TransactionRecord | null;
    audit: readonly AuditEvent[];
    intuneProfiles: readonly string[];
  },
) {
  const cert = new x509.X509Certificate(c.der);
  const sig = cert.signatureAlgorithm as { name: string; hash?: { name: string } };
  const issueEvent = o.audit.find((e) => e.action === 'issue');
  const validatedByIntune = issueEvent ? issueEvent.details['validatedByIntune'] === true : null;
  const intuneProfile = o.intuneProfiles.includes(c.profile);
  return {
    ...summarize(c),
    issuer: cert.issuer,
    thumbprintSha1: c.thumbprint,
    sha256: createHash('sha256').update(c.der).digest('hex'),
    publicKey: publicKeyText(cert),
    signatureAlgorithm: sig.hash ? `${sig.name} with ${sig.hash.name}` : sig.name,
    extensions: decodeExtensions(cert),
    chain: o.chain.map(chainEntry),
    transaction: o.transaction
      ? {
          transactionId: o.transaction.transactionId,
          profile: o.transaction.profile,
          state: o.transaction.state,
          failInfo: o.transaction.failInfo,
          reason: o.transaction.reason,
          notified: o.transaction.notified,
          createdAt: o.transaction.createdAt,
          updatedAt: o.transaction.updatedAt,
        }
      : null,
    intune: {
      /** The profile validates with Intune. */
      profile: intuneProfile,
      validated: validatedByIntune,
      /** Intune was told of the issuance (successNotification delivered). */
      notified: o.transaction ? o.transaction.notified : null,
    },
    audit: o.audit,
  };
}

export function toPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}
