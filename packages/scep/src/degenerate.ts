import * as pkijs from 'pkijs';
import { parseCertificate } from './certificate.js';
import { fromSchema, parseDer } from './der.js';
import type { DerLimits } from './der.js';
import { ScepError } from './errors.js';
import { OID } from './oids.js';
import { MAX_CERTIFICATES, parseSignedData } from './signed-data.js';

/**
 * Builds a degenerate certificates-only SignedData (RFC 8894 §3.4; no signers, no content) as used by
 * GetCACert (CA + RA chain), GetNextCACert, and inside a CertRep for the issued certificate or a CRL.
 */
export function buildCertsOnly(
  certificates: readonly Uint8Array[],
  crls: readonly Uint8Array[] = [],
): Uint8Array {
  const sd = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
    certificates: certificates.map((c) => parseCertificate(c).cert),
    crls: crls.map((c) =>
      fromSchema('CRL', () => new pkijs.CertificateRevocationList({ schema: parseDer(c, 'CRL') })),
    ),
    signerInfos: [],
  });
  const ci = new pkijs.ContentInfo({ contentType: OID.signedData, content: sd.toSchema(true) });
  return new Uint8Array(ci.toSchema().toBER());
}

export interface CertsOnly {
  certificates: Uint8Array[];
  crls: Uint8Array[];
}

/** Parses a degenerate certificates-only SignedData. */
export function parseCertsOnly(der: Uint8Array, limits?: DerLimits): CertsOnly {
  const { signedData, certificates } = parseSignedData(der, limits);
  if (signedData.signerInfos.length !== 0)
    throw new ScepError('malformed', 'certs-only SignedData has signers');
  const crls: Uint8Array[] = [];
  for (const c of signedData.crls ?? []) {
    if (c instanceof pkijs.CertificateRevocationList) crls.push(new Uint8Array(c.toSchema().toBER()));
  }
  if (crls.length > MAX_CERTIFICATES) throw new ScepError('limitExceeded', 'too many CRLs');
  return { certificates, crls };
}
