import type { CrlInfo, EnrollRequest, EnrollResult, ScepBackend } from './backend.js';

/*
 * Structural views of `@scepkit/ca` (Authority, CrlPublisher, OcspResponder, CertificateStore): the server names
 * only the members it calls, so the CA package can evolve without breaking the transport.
 */

/** `Authority` of `@scepkit/ca`. */
export interface AuthorityLike {
  readonly ca: { readonly subjectDer: Uint8Array };
  enroll(request: {
    messageType: 'PKCSReq' | 'RenewalReq' | 'CertPoll';
    transactionId: string;
    csrDer?: Uint8Array;
    signerCertDer?: Uint8Array;
    profile: string;
    remoteAddress?: string;
    onSigned?: (certificateDer: Uint8Array, chain: readonly Uint8Array[]) => void;
  }): Promise<
    { status: 'SUCCESS'; certificateDer: Uint8Array; chain: readonly Uint8Array[] } | { status: 'PENDING' }
  >;
}

/** `CrlPublisher` of `@scepkit/ca`. */
export interface CrlSourceLike {
  current(): Promise<{ der: Uint8Array; thisUpdate: Date; nextUpdate: Date }>;
}

/** `OcspResponder` of `@scepkit/ca`. */
export interface OcspResponderLike {
  respond(requestDer: Uint8Array): Promise<{ der: Uint8Array }>;
}

/** The part of `CertificateStore` GetCert and the health check use. Serials are lowercase hex, no leading 0s. */
export interface CertificateLookupLike {
  getCertificate(serial: string): Promise<{ der: Uint8Array } | null>;
  countCertificates?(o: {
    expiringWithinDays: number;
  }): Promise<{ issued: number; revoked: number; expiring: number }>;
}

export interface AuthorityBackendOptions {
  authority: AuthorityLike;
  crl: CrlSourceLike;
  ocsp: OcspResponderLike;
  store: CertificateLookupLike;
  /** The Authority profile for an endpoint name; default: the endpoint name itself. */
  profileFor?: (endpoint: string) => string;
}

function serialHex(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex').replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}

/**
 * Adapts `@scepkit/ca` to the server: `EnrollmentError`s pass through (they carry `failInfo`), store faults
 * propagate (HTTP 500).
 *
 * @example
 * const backend = authorityBackend({ authority, crl: crlPublisher, ocsp: new OcspResponder({ ca, store }), store });
 */
export function authorityBackend(o: AuthorityBackendOptions): ScepBackend {
  const profileFor = o.profileFor ?? ((e: string) => e);
  const caSubject = Buffer.from(o.authority.ca.subjectDer);
  return {
    async enroll(r: EnrollRequest): Promise<EnrollResult> {
      const result = await o.authority.enroll({
        messageType: r.messageType,
        transactionId: r.transactionId,
        ...(r.csr ? { csrDer: r.csr } : {}),
        signerCertDer: r.signerCertificate,
        profile: profileFor(r.endpoint),
        remoteAddress: r.remoteAddress,
        ...(r.onSigned ? { onSigned: (der, chain) => r.onSigned!([der, ...chain]) } : {}),
      });
      if (result.status === 'PENDING') return result;
      return { status: 'SUCCESS', certificates: [result.certificateDer, ...result.chain] };
    },
    async getCert(issuer, serial) {
      if (!caSubject.equals(issuer)) return undefined;
      return (await o.store.getCertificate(serialHex(serial)))?.der;
    },
    async getCrl(): Promise<CrlInfo> {
      return o.crl.current();
    },
    async ocsp(request) {
      return (await o.ocsp.respond(request)).der;
    },
    ...(o.store.countCertificates
      ? { certificateCounts: () => o.store.countCertificates!({ expiringWithinDays: 30 }) }
      : {}),
    async health() {
      // A lookup that finds nothing proves the store answers.
      await o.store.getCertificate('1');
      return { store: true };
    },
  };
}
