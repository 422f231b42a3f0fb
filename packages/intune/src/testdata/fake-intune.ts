import { X509Certificate, constants, createHash, verify } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeTlsCert, type TestCert } from './certs.js';

/** One request as the fake saw it. */
export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  pathname: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** `kind` of endpoint: openid | token | discovery | scep | pki | other. */
  kind: 'openid' | 'token' | 'discovery' | 'scep' | 'pki' | 'other';
  remotePort: number | undefined;
}

/** An answer a hook may return instead of the default. */
export interface FakeAnswer {
  status: number;
  body: string | object;
  headers?: Record<string, string>;
  /** Wait before answering (for timeouts). */
  delayMs?: number;
}

export const TENANT = 'contoso.onmicrosoft.com';
export const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
export const CLIENT_SECRET = 'fake-secret-value';
export const INTUNE_SCOPE = 'https://api.manage.microsoft.com//.default';
export const INTUNE_APP_ID = '0000000a-0000-0000-c000-000000000000';

let tlsCert: TestCert | undefined;

/**
 * In-process fake of Entra ID (MSAL metadata + token), Microsoft Graph discovery and the two Intune services,
 * speaking the wire of docs/intune-api.md over HTTPS on 127.0.0.1:0. Records every request.
 */
export class FakeIntune {
  readonly requests: RecordedRequest[] = [];
  readonly caPem: string;
  /** Registered client certificate (PEM) for client_assertion checks. */
  clientCertPem: string | undefined;
  tokenExpiresIn = 3599;
  /** Endpoint list returned by discovery; default points at this server. */
  endpoints: (() => object[]) | undefined;
  tokenHook: ((form: URLSearchParams) => FakeAnswer | undefined) | undefined;
  discoveryHook: (() => FakeAnswer | undefined) | undefined;
  serviceHook: ((req: RecordedRequest, json: unknown) => FakeAnswer | undefined) | undefined;
  private tokenCount = 0;
  private readonly server: Server;

  private constructor(cert: TestCert) {
    this.caPem = cert.certPem;
    this.server = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'https://x');
        const recorded: RecordedRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          pathname: url.pathname,
          headers: { ...req.headers },
          body: Buffer.concat(chunks).toString('utf8'),
          kind: 'other',
          remotePort: req.socket.remotePort,
        };
        this.requests.push(recorded);
        const answer = this.route(recorded);
        const send = (): void => {
          const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
          res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
          res.end(body);
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
        else send();
      });
    });
  }

  static async start(): Promise<FakeIntune> {
    tlsCert ??= makeTlsCert();
    const fake = new FakeIntune(tlsCert);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `https://127.0.0.1:PORT` (no trailing slash). */
  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  get graphScope(): string {
    return `${this.url}/.default`;
  }

  /** Requests of one kind, in order. */
  of(kind: RecordedRequest['kind']): RecordedRequest[] {
    return this.requests.filter((r) => r.kind === kind);
  }

  /** Counts per kind, handy for one-line assertions. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.requests) out[r.kind] = (out[r.kind] ?? 0) + 1;
    return out;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private route(req: RecordedRequest): FakeAnswer {
    const p = req.pathname;
    if (req.method === 'GET' && p === `/${TENANT}/v2.0/.well-known/openid-configuration`) {
      req.kind = 'openid';
      const base = `${this.url}/${TENANT}`;
      return {
        status: 200,
        body: {
          token_endpoint: `${base}/oauth2/v2.0/token`,
          issuer: `${base}/v2.0`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
          end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        },
      };
    }
    if (req.method === 'POST' && p === `/${TENANT}/oauth2/v2.0/token`) {
      req.kind = 'token';
      return this.token(new URLSearchParams(req.body));
    }
    if (req.method === 'GET' && p === `/v1.0/servicePrincipals/appId=${INTUNE_APP_ID}/endpoints`) {
      req.kind = 'discovery';
      if (!String(req.headers['authorization']).startsWith('Bearer graph-token-')) {
        return odata(401, 'InvalidAuthenticationToken', 'Access token is empty.');
      }
      return (
        this.discoveryHook?.() ?? {
          status: 200,
          body: {
            '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/endpoints',
            value: this.endpoints?.() ?? [
              endpoint('ScepRequestValidationFEService', `${this.url}/scep`),
              endpoint('PkiConnectorFEService', `${this.url}/pki`),
            ],
          },
        }
      );
    }
    if (req.method === 'POST' && (p.startsWith('/scep/') || p.startsWith('/pki/'))) {
      req.kind = p.startsWith('/scep/') ? 'scep' : 'pki';
      if (!String(req.headers['authorization']).startsWith('Bearer intune-token-')) {
        return odata(401, 'Unauthorized', 'bad token');
      }
      let json: unknown;
      try {
        json = JSON.parse(req.body);
      } catch {
        return odata(400, 'BadRequest', 'body is not JSON');
      }
      const hooked = this.serviceHook?.(req, json);
      if (hooked) return hooked;
      if (p.startsWith('/scep/ScepActions/')) {
        return { status: 200, body: { '@odata.context': 'x', code: 'Success', errorDescription: '' } };
      }
      if (p === '/pki/CertificateAuthorityRequests/downloadRevocationRequests') return { status: 200, body: { value: [] } };
      if (p === '/pki/CertificateAuthorityRequests/uploadRevocationResults') return { status: 200, body: { value: true } };
    }
    return odata(404, 'NotFound', `no route ${req.method} ${p}`);
  }

  private token(form: URLSearchParams): FakeAnswer {
    const hooked = this.tokenHook?.(form);
    if (hooked) return hooked;
    if (form.get('grant_type') !== 'client_credentials' || form.get('client_id') !== CLIENT_ID) {
      return aadError(400, 'unauthorized_client', 700016, 'Application not found in the directory.');
    }
    if (form.has('client_secret')) {
      if (form.get('client_secret') !== CLIENT_SECRET) {
        return aadError(401, 'invalid_client', 7000215, 'Invalid client secret provided.');
      }
    } else if (!this.assertionValid(form)) {
      return aadError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
    }
    const scope = form.get('scope')?.split(' ').find((s) => s.endsWith('.default'));
    const kind = scope === INTUNE_SCOPE ? 'intune' : scope === this.graphScope ? 'graph' : undefined;
    if (!kind) return aadError(400, 'invalid_resource', 500011, `The resource principal named ${scope} was not found.`);
    this.tokenCount++;
    return {
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: this.tokenExpiresIn,
        ext_expires_in: this.tokenExpiresIn,
        access_token: `${kind}-token-${this.tokenCount}`,
      },
    };
  }

  /** RFC 7523 client assertion: PS256 signed by the registered certificate, for this client and endpoint. */
  private assertionValid(form: URLSearchParams): boolean {
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return false;
    const [h, c, s] = (form.get('client_assertion') ?? '').split('.');
    if (!h || !c || !s || !this.clientCertPem) return false;
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, string>;
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
    const cert = new X509Certificate(this.clientCertPem);
    const x5t256 = createHash('sha256').update(cert.raw).digest('base64url');
    const ok = verify(
      'sha256',
      Buffer.from(`${h}.${c}`),
      { key: cert.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
      Buffer.from(s, 'base64url'),
    );
    return (
      ok &&
      header['alg'] === 'PS256' &&
      header['x5t#S256'] === x5t256 &&
      claims['iss'] === CLIENT_ID &&
      claims['sub'] === CLIENT_ID &&
      claims['aud'] === `${this.url}/${TENANT}/oauth2/v2.0/token` &&
      typeof claims['exp'] === 'number' &&
      claims['exp'] > Date.now() / 1000
    );
  }
}

export function endpoint(providerName: string, uri: string): object {
  return {
    id: 'e0c5e9a8-0000-0000-0000-000000000000',
    deletedDateTime: null,
    capability: providerName,
    providerId: '0000000a-0000-0000-c000-000000000000',
    providerName,
    providerResourceId: null,
    uri,
  };
}

export function odata(status: number, code: string, message: string): FakeAnswer {
  return { status, body: { error: { code, message } } };
}

function aadError(status: number, error: string, code: number, text: string): FakeAnswer {
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: 0000 Correlation ID: 0000 Timestamp: 2026-11-27 03:00:00Z`,
      error_codes: [code],
      timestamp: '2026-11-27 03:00:00Z',
      trace_id: '0000',
      correlation_id: '0000',
    },
  };
}
