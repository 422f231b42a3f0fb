import 'reflect-metadata';
import { createHash } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { CONTENT_TYPES, parseCertsOnly } from '@scepkit/scep';
import * as pkijs from 'pkijs';

/** What a device makes of a GetCACert answer. */
export interface CaCertificates {
  /** Every certificate returned (DER). */
  all: Uint8Array[];
  /** The RA: a non-CA certificate with keyEncipherment (NDES-style RA mode), if any. */
  ra: Uint8Array | undefined;
  /** The issuing CA (the RA's issuer, else a non-self-signed CA, else the first CA, else the first). */
  ca: Uint8Array;
}

/** Reads a GetCACert body: `application/x-x509-ca-ra-cert` (certs-only PKCS#7) or one DER certificate. */
export function readCaCertificates(body: Uint8Array, contentType: string): CaCertificates {
  const ct = contentType.split(';')[0]?.trim().toLowerCase();
  const all = ct === CONTENT_TYPES.caRaCert ? parseCertsOnly(body).certificates : [new Uint8Array(body)];
  const parsed = all.map((der) => {
    const x = new x509.X509Certificate(der);
    const ku = x.getExtension(x509.KeyUsagesExtension);
    return {
      der,
      x,
      isCa: x.getExtension(x509.BasicConstraintsExtension)?.ca === true,
      encipher: !ku || (ku.usages & x509.KeyUsageFlags.keyEncipherment) !== 0,
    };
  });
  const ra = parsed.find((p) => !p.isCa && p.encipher);
  const cas = parsed.filter((p) => p.isCa);
  const ca =
    (ra && cas.find((c) => c.x.subject === ra.x.issuer)) ??
    cas.find((c) => c.x.subject !== c.x.issuer) ??
    cas[0] ??
    parsed[0];
  if (!ca) throw new RangeError('GetCACert returned no certificate');
  return { all, ra: ra?.der, ca: ca.der };
}

/** The CA certificate a request is encrypted to when there is no RA: it needs keyEncipherment (or no KU). */
export function caCanDecrypt(der: Uint8Array): boolean {
  const ku = new x509.X509Certificate(der).getExtension(x509.KeyUsagesExtension);
  return !ku || (ku.usages & x509.KeyUsageFlags.keyEncipherment) !== 0;
}

/** Upper-case hex SHA-1 of a certificate (a Windows thumbprint). */
export function sha1Thumbprint(der: Uint8Array): string {
  return createHash('sha1').update(der).digest('hex').toUpperCase();
}

/** DER of a PEM certificate (the first one). */
export function pemToDer(pem: string): Uint8Array {
  return new Uint8Array(new x509.X509Certificate(pem).rawData);
}

/** DER of a certificate's subject Name (the issuer of a CertPoll's IssuerAndSubject). */
export function subjectNameDer(der: Uint8Array): Uint8Array {
  return new Uint8Array(pkijs.Certificate.fromBER(der).subject.toSchema().toBER());
}
