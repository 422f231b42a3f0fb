import { parseCaps, type Capability } from '@scepkit/scep';
import { readCaCertificates, type CaCertificates } from './ca-certs.js';
import { DeviceError } from './errors.js';
import type { DeviceHttpRequest, DeviceHttpResponse } from './http.js';
import { encodeGetMessage, type PlatformBehaviour } from './platforms.js';
import type { DeviceStepName, StepSink } from './types.js';

type Fetch = (r: Omit<DeviceHttpRequest, 'userAgent'>) => Promise<DeviceHttpResponse>;

/** The SCEP HTTP operations of one enrollment, all against the one server that answered first (§4). */
export class ScepSession {
  private baseUrl = '';
  caps: Set<Capability> = new Set();

  constructor(
    private readonly b: PlatformBehaviour,
    private readonly fetch: Fetch,
    private readonly step: StepSink,
  ) {}

  /**
   * GetCACaps and GetCACert in the platform's order, trying `urls` in turn (Windows tries its URL list in order,
   * Android each URL; iOS gets one). Returns the CA certificates; `caps` is set.
   */
  async discover(urls: readonly string[]): Promise<CaCertificates> {
    if (urls.length === 0) throw new DeviceError('NO_PAYLOAD', 'the profile has no SCEP server URL');
    for (const [i, url] of urls.entries()) {
      this.baseUrl = url.replace(/\/+$/, '') + this.b.pathSuffix;
      try {
        if (this.b.caCertFirst) {
          const ca = await this.getCaCert();
          await this.getCaCaps();
          return ca;
        }
        await this.getCaCaps();
        return await this.getCaCert();
      } catch (err) {
        if (!(err instanceof DeviceError && err.code === 'HTTP') || i === urls.length - 1) throw err;
      }
    }
    throw new DeviceError('HTTP', 'no SCEP server answered');
  }

  /** Sends a pkiMessage by POST or GET (base64 in the query, encoded the platform's way); answers the body. */
  async pkiOperation(der: Buffer, usePost: boolean, what: string): Promise<DeviceHttpResponse> {
    const url = `${this.baseUrl}?operation=PKIOperation`;
    const r = usePost
      ? await this.fetch({ operation: 'PKIOperation', method: 'POST', url, recordedUrl: url, body: der })
      : await this.fetch({
          operation: 'PKIOperation',
          method: 'GET',
          url: `${url}&message=${encodeGetMessage(der.toString('base64'), this.b.getEncoding)}`,
          recordedUrl: url,
        });
    if (r.exchange.status !== 200) {
      this.step({
        step: 'PKIOperation',
        ok: false,
        detail: `${what}: HTTP ${r.exchange.status}`,
        http: r.exchange,
      });
      throw new DeviceError('HTTP', `PKIOperation answered HTTP ${r.exchange.status}`);
    }
    return r;
  }

  private async getCaCaps(): Promise<void> {
    const r = await this.get('GetCACaps', this.b.capsMessage);
    this.caps = parseCaps(r.body.toString('utf8')).caps;
    this.step({
      step: 'GetCACaps',
      ok: true,
      detail: [...this.caps].join(' ') || '(none)',
      http: r.exchange,
    });
  }

  private async getCaCert(): Promise<CaCertificates> {
    const r = await this.get('GetCACert', this.b.caCertMessage);
    const ca = readCaCertificates(r.body, r.exchange.contentType);
    this.step({
      step: 'GetCACert',
      ok: true,
      detail: `${ca.all.length} certificate(s), ${ca.ra ? 'RA mode' : 'CA only'}`,
      http: r.exchange,
    });
    return ca;
  }

  private async get(operation: DeviceStepName, message: string): Promise<DeviceHttpResponse> {
    const url = `${this.baseUrl}?operation=${operation}&message=${encodeURIComponent(message)}`;
    let r: DeviceHttpResponse;
    try {
      r = await this.fetch({ operation, method: 'GET', url, recordedUrl: url });
    } catch (err) {
      this.step({ step: operation, ok: false, detail: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    if (r.exchange.status !== 200) {
      this.step({ step: operation, ok: false, detail: `HTTP ${r.exchange.status}`, http: r.exchange });
      throw new DeviceError('HTTP', `${operation} answered HTTP ${r.exchange.status}`);
    }
    return r;
  }
}
