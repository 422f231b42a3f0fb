import { createPublicKey, randomUUID } from 'node:crypto';
import { aadGraphDiscovery } from './aad-graph.js';
import { adminRoute } from './admin.js';
import { SYSTEM_CLOCK, type Clock } from './clock.js';
import {
  checkIn,
  deploymentStatuses,
  queueRevocation,
  retireDevice,
  type ScepPayload,
} from './deployment.js';
import { instanceDiscovery, jwks, openIdConfiguration, token } from './entra.js';
import { FAULT_OPERATIONS, FaultInjector, faultResponse, type FaultOperation } from './faults.js';
import { DISCOVERY_PATH, PKI_SERVICE_PATH, SCEP_SERVICE_PATH, discovery } from './graph.js';
import { odataError, type EmulatorContext, type EmulatorRequest, type EmulatorResponse } from './http.js';
import type { EmulatorKeys } from './keys.js';
import type { DeploymentStatus, Device, RevocationRequest } from './model.js';
import { redact, type RecordedRequest } from './recorder.js';
import { downloadRevocationRequests, uploadRevocationResults } from './revocation.js';
import { scepAction } from './scep-actions.js';
import { EmulatorState } from './state.js';

export interface IntuneEmulatorOptions {
  keys: EmulatorKeys;
  /** Time source (ms); default `Date.now`. The admin clock offset is added to it. */
  now?: Clock;
  /** Public origin, e.g. `https://127.0.0.1:8443`; set by `startEmulator` once listening. */
  baseUrl?: string;
  /** Access token lifetime (default 3599 s). */
  tokenLifetimeSeconds?: number;
  /** Challenge lifetime (default 60 min, `challengeExpInterval=60`). */
  challengeLifetimeMinutes?: number;
  /** Random filler in each challenge (default 3072 bytes: a ~6 kB blob). */
  challengePaddingBytes?: number;
  /** Waits for latency faults (injectable). */
  sleep?: (ms: number) => Promise<void>;
  /** Request log size; the oldest entries are dropped beyond it (default 10000). */
  maxRecordedRequests?: number;
}

interface Route {
  method: string;
  pattern: RegExp;
  operation: string;
  handle: (req: EmulatorRequest, match: RegExpExecArray) => EmulatorResponse | Promise<EmulatorResponse>;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Entra ID + Graph discovery + Intune's SCEP services as one in-process request handler (`handle`), with the
 * directory and Intune data in `state`, fault injection in `faults` and a log of every request in `requests`.
 * `startEmulator` puts it behind HTTPS.
 */
export class IntuneEmulator {
  readonly state: EmulatorState;
  readonly faults = new FaultInjector();
  readonly requests: RecordedRequest[] = [];
  readonly ctx: EmulatorContext;
  /** Added to the clock (admin `POST /admin/clock`). */
  clockOffsetMs = 0;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly routes: Route[];
  private readonly maxRecorded: number;
  private seq = 0;

  constructor(options: IntuneEmulatorOptions) {
    const base = options.now ?? SYSTEM_CLOCK;
    const now: Clock = () => base() + this.clockOffsetMs;
    this.state = new EmulatorState(now);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.ctx = {
      state: this.state,
      keys: options.keys,
      verifyKey: createPublicKey(options.keys.signingKey),
      now,
      baseUrl: (options.baseUrl ?? 'https://127.0.0.1').replace(/\/+$/, ''),
      tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
      challengeLifetimeMinutes: options.challengeLifetimeMinutes ?? 60,
      challengePaddingBytes: options.challengePaddingBytes ?? 3072,
    };
    this.routes = this.buildRoutes();
    this.maxRecorded = options.maxRecordedRequests ?? 10_000;
  }

  get baseUrl(): string {
    return this.ctx.baseUrl;
  }

  set baseUrl(url: string) {
    this.ctx.baseUrl = url.replace(/\/+$/, '');
  }

  /**
   * Handles one request (in-process or from the HTTP server): records it, applies faults, routes it. Answers
   * carry `request-id` and echo `client-request-id`, as Microsoft's services do.
   */
  async handle(req: EmulatorRequest): Promise<EmulatorResponse> {
    const answer = await this.dispatch(req);
    const ids: Record<string, string> = { 'request-id': randomUUID() };
    const clientRequestId = req.headers['client-request-id'];
    if (clientRequestId) ids['client-request-id'] = clientRequestId;
    return { ...answer, headers: { ...answer.headers, ...ids } };
  }

  private async dispatch(req: EmulatorRequest): Promise<EmulatorResponse> {
    const path = new URL(req.url, 'https://emulator').pathname;
    const found = this.match(req.method, path);
    this.requests.push(redact(req, ++this.seq, this.ctx.now(), found?.route.operation ?? 'unknown'));
    if (this.requests.length > this.maxRecorded)
      this.requests.splice(0, this.requests.length - this.maxRecorded);
    if (!found) return odataError(404, 'NotFound', `No route for ${req.method} ${path}.`);
    const operation = found.route.operation;
    if (isFaultOperation(operation)) {
      const fault = this.faults.take(operation);
      if (fault) {
        const answer = faultResponse(this.ctx, operation, fault);
        if (answer) return answer;
        if (fault.kind === 'latency') await this.sleep(fault.ms);
      }
    }
    try {
      return await found.route.handle(req, found.match);
    } catch (err) {
      // Only the emulator's own faults land here; answer like the real services do for a 5xx (§1.8).
      return odataError(
        500,
        'InternalError',
        `Emulator error: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /** Requests of one operation, in order. */
  requestsOf(operation: string): RecordedRequest[] {
    return this.requests.filter((r) => r.operation === operation);
  }

  /** Device check-in: SCEP payloads (with fresh challenges) for the profiles that target the device. */
  checkIn(tenantId: string, deviceId: string, options: { force?: boolean } = {}): ScepPayload[] {
    return checkIn(this.ctx, tenantId, deviceId, options);
  }

  deploymentStatuses(filter: { deviceId?: string; profileId?: string } = {}): DeploymentStatus[] {
    return deploymentStatuses(this.ctx, filter);
  }

  queueRevocation(
    tenantId: string,
    which: { thumbprint?: string; serialNumber?: string },
  ): RevocationRequest {
    return queueRevocation(this.ctx, tenantId, which);
  }

  retire(tenantId: string, deviceId: string): Device {
    return retireDevice(this.ctx, tenantId, deviceId, 'retired');
  }

  wipe(tenantId: string, deviceId: string): Device {
    return retireDevice(this.ctx, tenantId, deviceId, 'wiped');
  }

  private match(method: string, path: string): { route: Route; match: RegExpExecArray } | undefined {
    for (const route of this.routes) {
      if (route.method !== method && !(route.method === '*' && path.startsWith('/admin/'))) continue;
      const match = route.pattern.exec(path);
      if (match) return { route, match };
    }
    return undefined;
  }

  private buildRoutes(): Route[] {
    const ctx = this.ctx;
    const seg = '([^/]+)';
    const scep = escape(SCEP_SERVICE_PATH);
    const pki = escape(PKI_SERVICE_PATH);
    return [
      { method: '*', pattern: /^\/admin\/.*$/, operation: 'admin', handle: (req) => adminRoute(this, req) },
      {
        method: 'GET',
        pattern: /^\/common\/discovery\/instance$/,
        operation: 'instanceDiscovery',
        handle: (req) => instanceDiscovery(ctx, req),
      },
      {
        method: 'GET',
        pattern: new RegExp(`^/${seg}/v2\\.0/\\.well-known/openid-configuration$`),
        operation: 'openid',
        handle: (_r, m) => openIdConfiguration(ctx, m[1] ?? ''),
      },
      {
        method: 'GET',
        pattern: new RegExp(`^/${seg}/discovery/(?:v2\\.0/)?keys$`),
        operation: 'jwks',
        handle: () => jwks(ctx),
      },
      {
        method: 'POST',
        pattern: new RegExp(`^/${seg}/oauth2/v2\\.0/token$`),
        operation: 'token',
        handle: (req, m) => token(ctx, req, m[1] ?? '', false),
      },
      {
        method: 'POST',
        pattern: new RegExp(`^/${seg}/oauth2/token$`),
        operation: 'token',
        handle: (req, m) => token(ctx, req, m[1] ?? '', true),
      },
      {
        method: 'GET',
        pattern: new RegExp(`^/${seg}/servicePrincipalsByAppId/${seg}/serviceEndpoints$`),
        operation: 'discovery',
        handle: (req, m) => aadGraphDiscovery(ctx, req, m[1] ?? '', m[2] ?? ''),
      },
      {
        method: 'GET',
        pattern: new RegExp(`^${escape(DISCOVERY_PATH)}$`),
        operation: 'discovery',
        handle: (req) => discovery(ctx, req),
      },
      {
        method: 'POST',
        pattern: new RegExp(`^${scep}/ScepActions/validateRequest$`),
        operation: 'validateRequest',
        handle: (req) => scepAction(ctx, req, 'validateRequest'),
      },
      {
        method: 'POST',
        pattern: new RegExp(`^${scep}/ScepActions/successNotification$`),
        operation: 'successNotification',
        handle: (req) => scepAction(ctx, req, 'successNotification'),
      },
      {
        method: 'POST',
        pattern: new RegExp(`^${scep}/ScepActions/failureNotification$`),
        operation: 'failureNotification',
        handle: (req) => scepAction(ctx, req, 'failureNotification'),
      },
      {
        method: 'POST',
        pattern: new RegExp(`^${pki}/CertificateAuthorityRequests/downloadRevocationRequests$`),
        operation: 'download',
        handle: (req) => downloadRevocationRequests(ctx, req),
      },
      {
        method: 'POST',
        pattern: new RegExp(`^${pki}/CertificateAuthorityRequests/uploadRevocationResults$`),
        operation: 'upload',
        handle: (req) => uploadRevocationResults(ctx, req),
      },
    ];
  }
}

const isFaultOperation = (op: string): op is FaultOperation =>
  (FAULT_OPERATIONS as readonly string[]).includes(op);
