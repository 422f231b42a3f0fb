import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toArrayBuffer, toPem, wholeSeconds } from '../bytes.js';
import { authorityKeyIdentifierExtension } from '../certs/extensions.js';
import { parseName, toPkijsExtension, x509Time } from '../certs/certificate-builder.js';
import type { CaIdentity } from '../init/ca-identity.js';
import { OID } from '../oids.js';
import type { CertificateStore, CrlRecord, RevokedEntry } from '../store/index.js';

export const DEFAULT_CRL_VALIDITY_SECONDS = 7 * 86_400;
export const DEFAULT_CRL_REFRESH_BEFORE_SECONDS = 86_400;

export interface CrlPublisherOptions {
  ca: CaIdentity;
  store: Pick<CertificateStore, 'nextCrlNumber' | 'saveCrl' | 'getLatestCrl' | 'listRevoked'>;
  /** nextUpdate - thisUpdate. Default 7 days. */
  validitySeconds?: number;
  /** `current()` re-publishes when nextUpdate is closer than this. Default 1 day. */
  refreshBeforeSeconds?: number;
  clock?: () => Date;
}

/** Builds, signs and stores CRLs (RFC 5280 §5); the CRL number comes from the store, so it is monotonic. */
export class CrlPublisher {
  readonly #ca: CaIdentity;
  readonly #store: CrlPublisherOptions['store'];
  readonly #validityMs: number;
  readonly #refreshMs: number;
  readonly #clock: () => Date;
  /** A refresh in progress: concurrent `current()` calls share it instead of publishing twice. */
  #refreshing: Promise<CrlRecord> | null = null;

  constructor(options: CrlPublisherOptions) {
    this.#ca = options.ca;
    this.#store = options.store;
    this.#validityMs = (options.validitySeconds ?? DEFAULT_CRL_VALIDITY_SECONDS) * 1000;
    this.#refreshMs = (options.refreshBeforeSeconds ?? DEFAULT_CRL_REFRESH_BEFORE_SECONDS) * 1000;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Sign and store a fresh CRL now (after a revocation, or on schedule). */
  async publish(): Promise<CrlRecord> {
    const thisUpdate = wholeSeconds(this.#clock());
    const nextUpdate = new Date(thisUpdate.getTime() + this.#validityMs);
    const crlNumber = await this.#store.nextCrlNumber();
    const revoked = await this.#store.listRevoked({ notExpiredAt: thisUpdate });
    const der = await buildCrl(this.#ca, { crlNumber, thisUpdate, nextUpdate, revoked });
    const record: CrlRecord = { crlNumber, der, thisUpdate, nextUpdate };
    const saved = await this.#store.saveCrl(record);
    if (saved) return record;
    // Another node stored a newer CRL meanwhile: serve that one.
    return (await this.#store.getLatestCrl()) ?? record;
  }

  /** The latest stored CRL, published first if there is none or its nextUpdate is near. */
  async current(): Promise<CrlRecord> {
    const latest = await this.#store.getLatestCrl();
    if (latest && latest.nextUpdate.getTime() - this.#clock().getTime() > this.#refreshMs) return latest;
    this.#refreshing ??= this.publish().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  /**
   * Keep the CRL fresh: call `current()` every `intervalMs` (timer unref'd). Errors go to `onError`.
   * @returns a function that stops the schedule
   */
  schedule(intervalMs: number, onError: (err: unknown) => void = () => {}): () => void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return; // never overlap ticks
      running = true;
      this.current()
        .catch(onError)
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}

export interface CrlContent {
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  revoked: readonly RevokedEntry[];
}

/** Build and sign a v2 CRL with AKI and cRLNumber; entries carry reasonCode unless unspecified (§5.3.1). */
export async function buildCrl(ca: CaIdentity, content: CrlContent): Promise<Uint8Array> {
  const sigAlg = new pkijs.AlgorithmIdentifier({ algorithmId: ca.signer.algorithm.oid });
  if (ca.signer.algorithm.keyType === 'rsa') sigAlg.algorithmParams = new asn1js.Null();
  const crl = new pkijs.CertificateRevocationList({
    version: 1,
    signature: sigAlg,
    issuer: parseName(ca.subjectDer),
    thisUpdate: x509Time(content.thisUpdate),
    nextUpdate: x509Time(content.nextUpdate),
    crlExtensions: new pkijs.Extensions({
      extensions: [
        toPkijsExtension(authorityKeyIdentifierExtension(ca.keyId)),
        new pkijs.Extension({
          extnID: OID.crlNumber,
          critical: false,
          extnValue: asn1js.Integer.fromBigInt(content.crlNumber).toBER(),
        }),
      ],
    }),
    signatureAlgorithm: sigAlg,
  });
  if (content.revoked.length > 0) {
    crl.revokedCertificates = content.revoked.map(
      (entry) =>
        new pkijs.RevokedCertificate({
          userCertificate: serialInteger(entry.serial),
          revocationDate: x509Time(entry.revokedAt),
          ...(entry.reason === 0
            ? {}
            : {
                crlEntryExtensions: new pkijs.Extensions({
                  extensions: [
                    new pkijs.Extension({
                      extnID: OID.crlReason,
                      critical: false,
                      extnValue: new asn1js.Enumerated({ value: entry.reason }).toBER(),
                    }),
                  ],
                }),
              }),
        }),
    );
  }
  const tbs = (crl.toSchema(true) as asn1js.Sequence).valueBlock.value[0];
  if (!tbs) throw new Error('pkijs produced no TBSCertList');
  crl.tbsView = new Uint8Array(tbs.toBER());
  const signature = await ca.signer.sign(crl.tbsView);
  crl.signatureValue = new asn1js.BitString({ valueHex: toArrayBuffer(signature) });
  return new Uint8Array(crl.toSchema(false).toBER());
}

/** The store's hex serial as a DER INTEGER. */
export function serialInteger(hex: string): asn1js.Integer {
  return asn1js.Integer.fromBigInt(BigInt(`0x${hex}`));
}

export function crlToPem(der: Uint8Array): string {
  return toPem('X509 CRL', der);
}
