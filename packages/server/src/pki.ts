import { buildCertsOnly, buildSignedData, CONTENT_TYPES, parseCertificate } from '@scepkit/scep';
import type { ScepDecrypter, ScepSigner } from '@scepkit/scep';
import { ServerError } from './errors.js';

/** The CA/RA material one SCEP endpoint answers with. */
export interface ScepPkiOptions {
  /** The issuing CA certificate first, then its issuers up to the root (DER). */
  caChain: readonly Uint8Array[];
  /** Signs CertReps: the RA in RA mode, else the CA (which then needs digitalSignature). */
  signer: ScepSigner;
  /** Decrypt requests (RA and/or CA; clients pick a recipient from GetCACert). */
  decrypters: readonly ScepDecrypter[];
  /**
   * RA mode (NDES style): the RA certificate(s). GetCACert then answers `application/x-x509-ca-ra-cert` with
   * the RA certificates and the whole CA chain (Windows looks for the root it pins among them).
   */
  raCertificates?: readonly Uint8Array[];
  /** A rollover CA (its certificate first, then its chain): enables GetNextCACert and the capability. */
  nextCaChain?: readonly Uint8Array[];
}

/** Precomputed answers for an endpoint: everything parsed once at start-up. */
export interface ScepPki {
  readonly signer: ScepSigner;
  readonly decrypters: readonly ScepDecrypter[];
  /** Certificates carried in the outer SignedData of CertReps besides the signer's. */
  readonly replyCertificates: readonly Uint8Array[];
  readonly caCert: { body: Buffer; contentType: string };
  /** Built lazily (it is signed), then cached. */
  nextCaCert(): Promise<{ body: Buffer; contentType: string } | undefined>;
  readonly hasNextCa: boolean;
}

function assertCertificates(what: string, certs: readonly Uint8Array[]): void {
  for (const [i, c] of certs.entries()) {
    try {
      parseCertificate(c);
    } catch (cause) {
      throw new ServerError('badMaterial', `${what}[${i}] is not a DER certificate`, { cause });
    }
  }
}

/** Validates and precomputes an endpoint's CA/RA material. Throws `ServerError('badMaterial')`. */
export function preparePki(o: ScepPkiOptions): ScepPki {
  if (o.caChain.length === 0) throw new ServerError('badMaterial', 'caChain is empty');
  if (o.decrypters.length === 0) throw new ServerError('badMaterial', 'no decrypter configured');
  assertCertificates('caChain', o.caChain);
  assertCertificates('raCertificates', o.raCertificates ?? []);
  assertCertificates('nextCaChain', o.nextCaChain ?? []);
  const ra = o.raCertificates ?? [];
  const caCert =
    ra.length === 0 && o.caChain.length === 1
      ? // RFC 8894 §4.2.1.1: a CA without RA and intermediates answers its certificate alone.
        { body: Buffer.from(o.caChain[0]!), contentType: CONTENT_TYPES.caCert }
      : // §4.2.1.2: RA certificate(s) and the CA chain as certs-only SignedData.
        { body: Buffer.from(buildCertsOnly([...ra, ...o.caChain])), contentType: CONTENT_TYPES.caRaCert };
  const next = o.nextCaChain ?? [];
  let nextCached: Promise<{ body: Buffer; contentType: string }> | undefined;
  const nextCaCert = async () => {
    if (next.length === 0) return undefined;
    // RFC 8894 §4.7.1: certs-only SignedData of the new CA (and RA), itself signed by the current CA/RA.
    nextCached ??= buildSignedData({
      signer: o.signer,
      digest: 'sha256',
      attributes: [],
      content: buildCertsOnly(next),
      certificates: o.caChain,
    }).then((der) => ({ body: Buffer.from(der), contentType: CONTENT_TYPES.nextCaCert }));
    return nextCached;
  };
  return {
    signer: o.signer,
    decrypters: o.decrypters,
    replyCertificates: o.caChain,
    caCert,
    nextCaCert,
    hasNextCa: next.length > 0,
  };
}
