import { readCsr } from '@scepkit/scep';
import type { CrlInfo, EnrollRequest, EnrollResult, ScepBackend } from '../backend.js';

/** A backend for HTTP-edge tests only: static challenge, "issues" a fixed certificate. */
export class FakeBackend implements ScepBackend {
  readonly requests: EnrollRequest[] = [];
  challenge = 'secret';
  storeUp = true;
  fault: Error | undefined;
  /** Certificate lists handed to the server's `onSigned` (in order) before the answer (or the fault). */
  signed: (readonly Uint8Array[])[] = [];
  crl: CrlInfo = {
    der: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]),
    thisUpdate: new Date('2026-01-01T00:00:00Z'),
    nextUpdate: new Date(Date.now() + 3600_000),
  };

  constructor(private readonly issued: Uint8Array) {}

  async enroll(request: EnrollRequest): Promise<EnrollResult> {
    this.requests.push(request);
    for (const certificates of this.signed) request.onSigned?.(certificates);
    if (this.fault) throw this.fault;
    const csr = readCsr(request.csr ?? new Uint8Array());
    if (csr.challengePassword !== this.challenge) {
      throw Object.assign(new Error('wrong challenge'), { failInfo: 'badRequest' as const });
    }
    return { status: 'SUCCESS', certificates: [this.issued] };
  }

  async getCert(): Promise<Uint8Array | undefined> {
    return undefined;
  }

  async getCrl(): Promise<CrlInfo> {
    return this.crl;
  }

  /** Echoes the request reversed, so tests can see the bytes arrived intact. */
  async ocsp(request: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(Buffer.from(request).reverse());
  }

  async health(): Promise<{ store: boolean }> {
    return { store: this.storeUp };
  }
}
