import { Agent } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ScepError, decodeCertRep, keyObjectDecrypter } from '@scepkit/scep';
import { httpExchange } from './http.js';
import { RawHttpPool } from './raw-http.js';
import type { RawAnswer } from './raw-http.js';
import { buildRequests, caCertsFrom, keyPool } from './messages.js';
import type { CaCerts, PoolKey, PreparedRequest } from './messages.js';
import { cpuSeconds, peakRssKiB } from './proc.js';

/** One server process: its SCEP URL (e.g. http://127.0.0.1:8080/scep) and PID (for CPU and RSS). */
export interface Target {
  url: string;
  pid: number;
}

/** The figures of one (server, concurrency) point. */
export interface PointResult {
  server: string;
  label: string;
  /** Server processes the requests were spread over (round-robin). */
  processes: number;
  concurrency: number;
  sent: number;
  ok: number;
  failed: number;
  /** Failure causes and their counts (HTTP status, SCEP failInfo, decode error, network error). */
  failures: Record<string, number>;
  /** Successful answers that carried a serial number already seen in this point (across all processes). */
  duplicateSerials: number;
  seconds: number;
  enrollmentsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU of all server processes together. */
  serverCpuSeconds: number;
  cpuMsPerEnrollment: number;
  /** CPU of the load generator itself (it shares the machine's cores with the server). */
  loadGenCpuMsPerEnrollment: number;
  /** Sum of the server processes' peak RSS. */
  peakRssMiB: number;
  loadAvgBefore: number;
  loadAvgAfter: number;
}

/** A point's figures and the serial numbers it issued (for cross-checks against a store or the emulator). */
export interface PointOutcome {
  result: PointResult;
  serials: string[];
}

export interface PointOptions {
  server: string;
  label?: string;
  /** Requests go round-robin to these. */
  targets: readonly Target[];
  /** Stop sending new requests after this many seconds per point. */
  maxSeconds: number;
}

export interface SeriesOptions extends PointOptions {
  challenge: string;
  concurrencies: readonly number[];
  count: number;
  /** Enrollments before the first point (JIT, connection and store warm-up); not counted. */
  warmup: number;
  pool: readonly PoolKey[];
  log?: (line: string) => void;
  /**
   * A server without GetCACert or CertReps (the floor): requests are encrypted to `recipient` and the answers
   * checked by `check`.
   */
  fixed?: { recipient: Uint8Array; check: AnswerCheck };
}

/** What every stage of `main.ts` that runs its own servers is given. */
export interface StageOptions {
  /** A directory of its own under the bench's work directory. */
  dir: string;
  pool: readonly PoolKey[];
  concurrencies: readonly number[];
  count: number;
  warmup: number;
  maxSeconds: number;
  log: (line: string) => void;
}

export const REQUEST_TIMEOUT_MS = 60_000;
/** Idle keep-alive sockets are dropped after this (each request sets its own REQUEST_TIMEOUT_MS). */
const IDLE_SOCKET_MS = 3_000;
const PKI_MESSAGE = 'application/x-pki-message';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function getCaCerts(url: string): Promise<CaCerts> {
  const agent = new Agent({ keepAlive: false });
  const u = new URL(url);
  u.searchParams.set('operation', 'GetCACert');
  const a = await httpExchange(agent, u, 'GET', undefined, REQUEST_TIMEOUT_MS);
  if (a.status !== 200) throw new Error(`GetCACert: HTTP ${a.status}`);
  return caCertsFrom(a.contentType, new Uint8Array(a.body));
}

export interface Answer {
  status: number;
  body?: Buffer;
  error?: string;
}

/** The load generator's HTTP client: a prepared-head HTTP/1.1 client (`raw`, the default) or `node:http`. */
export type HttpClient = 'raw' | 'node';
let httpClient: HttpClient = 'raw';

export function useHttpClient(c: string): void {
  if (c !== 'raw' && c !== 'node') throw new Error(`--http-client must be raw or node, not ${c}`);
  httpClient = c;
}

/** The client in use (passed on to the load generator of micromdm's namespace). */
export function currentHttpClient(): HttpClient {
  return httpClient;
}

interface Leg {
  post(body: Uint8Array): Promise<RawAnswer>;
  close(): void;
}

function nodeLeg(target: URL, maxSockets: number): Leg {
  // FIFO reuse keeps every socket busy, and an idle one is closed by the agent before the server's
  // keep-alive timeout (5 s, packages/server limits) closes it: reusing a socket the server is closing at that
  // moment fails with ECONNRESET, a client-side race that says nothing about the server.
  const agent = new Agent({ keepAlive: true, maxSockets, scheduling: 'fifo', timeout: IDLE_SOCKET_MS });
  return {
    post: (body) => httpExchange(agent, target, 'POST', body, REQUEST_TIMEOUT_MS),
    close: () => agent.destroy(),
  };
}

function rawLeg(target: URL, maxSockets: number): Leg {
  const pool = new RawHttpPool(target, maxSockets, REQUEST_TIMEOUT_MS, IDLE_SOCKET_MS, PKI_MESSAGE);
  return { post: (body) => pool.post(body), close: () => pool.destroy() };
}

/** A PKIOperation POST sender over one keep-alive pool per target, `maxSockets` each. */
export function pkiSender(
  targets: readonly Target[],
  maxSockets: number,
): { send(i: number, req: PreparedRequest): Promise<Answer>; close(): void } {
  const legs = targets.map((t) => {
    const url = new URL(t.url);
    url.searchParams.set('operation', 'PKIOperation');
    return httpClient === 'raw' ? rawLeg(url, maxSockets) : nodeLeg(url, maxSockets);
  });
  return {
    async send(i, req) {
      try {
        const a = await legs[i % legs.length]!.post(req.der);
        return { status: a.status, body: a.body };
      } catch (err) {
        return { status: 0, error: (err as Error).message };
      }
    },
    close: () => legs.forEach((l) => l.close()),
  };
}

/** Checks one answer: a CertRep SUCCESS signed by the CA/RA, for this transaction, with a certificate. */
async function verify(
  req: PreparedRequest,
  a: Answer,
  ca: CaCerts,
): Promise<{ cause?: string; serial?: string }> {
  if (a.error) return { cause: `network: ${a.error}` };
  if (a.status !== 200 || !a.body) return { cause: `HTTP ${a.status}` };
  try {
    const rep = await decodeCertRep(new Uint8Array(a.body), {
      decrypter: keyObjectDecrypter(req.signerCertificate, req.privateKey),
      expect: { transactionId: req.transactionId, senderNonce: req.senderNonce },
      trustedSigners: ca.all,
    });
    if (rep.status !== 'SUCCESS') return { cause: `${rep.status} ${rep.failInfo ?? ''}`.trim() };
    const issued = rep.certificates
      .map((c) => new X509Certificate(c))
      .find((c) => !c.ca && c.checkPrivateKey(req.privateKey));
    if (!issued) return { cause: 'SUCCESS without the issued certificate' };
    return { serial: normalizeSerial(issued.serialNumber) };
  } catch (err) {
    return { cause: err instanceof ScepError ? `decode: ${err.code}` : `decode: ${(err as Error).message}` };
  }
}

/** Lowercase hex without leading zeros, as the stores keep serials. */
export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

export interface Verified {
  ok: number;
  failures: Record<string, number>;
  duplicateSerials: number;
  serials: string[];
}

/** Verifies the answers of the first `sent` requests (after the timed loop, so it steals no server CPU). */
export async function verifyAnswers(
  requests: readonly PreparedRequest[],
  answers: readonly Answer[],
  sent: number,
  ca: CaCerts,
): Promise<Verified> {
  const failures: Record<string, number> = {};
  const seen = new Set<string>();
  let ok = 0;
  let duplicateSerials = 0;
  for (let i = 0; i < sent; i++) {
    const v = await verify(requests[i]!, answers[i] ?? { status: 0, error: 'no answer' }, ca);
    if (v.cause) {
      failures[v.cause] = (failures[v.cause] ?? 0) + 1;
      continue;
    }
    ok++;
    if (seen.has(v.serial!)) duplicateSerials++;
    seen.add(v.serial!);
  }
  return { ok, failures, duplicateSerials, serials: [...seen] };
}

/** Server CPU, peak RSS, load-generator CPU and load average around a timed loop. */
export interface Metered {
  serverCpuSeconds: number;
  loadGenCpuSeconds: number;
  peakRssMiB: number;
  loadAvgBefore: number;
  loadAvgAfter: number;
}

/**
 * V8's full collection, for the load generator's own heap. Built requests (an Intune one is ~11 kB with its 6 kB
 * challenge) and the garbage of building them fill the old generation, and a mark-compact of 50–160 ms in the
 * middle of a timed loop delayed every answer that arrived meanwhile: the tail of the open loop measured the
 * load generator, not the server.
 */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** Starts the meters of a timed loop, after a full collection of the load generator's heap. */
export function startMeter(pids: readonly number[]): () => Metered {
  collectGarbage();
  const serverCpu = () => pids.reduce((a, pid) => a + cpuSeconds(pid), 0);
  const loadAvgBefore = loadavg()[0]!;
  const cpu0 = serverCpu();
  const self0 = process.cpuUsage();
  return () => {
    const self = process.cpuUsage(self0);
    return {
      serverCpuSeconds: serverCpu() - cpu0,
      loadGenCpuSeconds: (self.user + self.system) / 1e6,
      peakRssMiB: pids.reduce((a, pid) => a + peakRssKiB(pid), 0) / 1024,
      loadAvgBefore,
      loadAvgAfter: loadavg()[0]!,
    };
  };
}

/** Builds a PointResult from what every kind of point measures. */
export function pointResult(
  o: PointOptions,
  concurrency: number,
  sent: number,
  seconds: number,
  latencies: number[],
  verified: Verified,
  metered: Metered,
): PointResult {
  latencies.sort((a, b) => a - b);
  return {
    server: o.server,
    label: o.label ?? '',
    processes: o.targets.length,
    concurrency,
    sent,
    ok: verified.ok,
    failed: sent - verified.ok,
    failures: verified.failures,
    duplicateSerials: verified.duplicateSerials,
    seconds,
    enrollmentsPerSecond: verified.ok / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? NaN,
    serverCpuSeconds: metered.serverCpuSeconds,
    cpuMsPerEnrollment: sent ? (metered.serverCpuSeconds * 1000) / sent : NaN,
    loadGenCpuMsPerEnrollment: sent ? (metered.loadGenCpuSeconds * 1000) / sent : NaN,
    peakRssMiB: metered.peakRssMiB,
    loadAvgBefore: metered.loadAvgBefore,
    loadAvgAfter: metered.loadAvgAfter,
  };
}

/**
 * How a timed loop's answers are checked: as CertReps signed by these CA/RA certificates (`verifyAnswers`), or by
 * a stage's own function (the floor server answers with fixed bytes).
 */
export type AnswerCheck =
  | CaCerts
  | ((requests: readonly PreparedRequest[], answers: readonly Answer[], sent: number) => Promise<Verified>);

/**
 * Closed loop: `concurrency` loops each send a pre-built request and wait for its answer, round-robin over
 * the targets; then every answer is verified.
 */
export async function runPoint(
  o: PointOptions,
  check: AnswerCheck,
  requests: readonly PreparedRequest[],
  concurrency: number,
): Promise<PointOutcome> {
  const sender = pkiSender(o.targets, concurrency);
  const answers: Answer[] = new Array<Answer>(requests.length);
  const latencies: number[] = [];
  let next = 0;
  const meter = startMeter(o.targets.map((t) => t.pid));
  const t0 = performance.now();
  const deadline = t0 + o.maxSeconds * 1000;
  const worker = async () => {
    while (next < requests.length && performance.now() < deadline) {
      const i = next++;
      const start = performance.now();
      answers[i] = await sender.send(i, requests[i]!);
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const metered = meter();
  sender.close();
  const verified =
    typeof check === 'function'
      ? await check(requests, answers, next)
      : await verifyAnswers(requests, answers, next, check);
  return {
    result: pointResult(o, concurrency, next, seconds, latencies, verified, metered),
    serials: verified.serials,
  };
}

/** The one-line summary of a point for the progress log. */
export function pointLine(r: PointResult): string {
  return (
    `${r.server}${r.label ? ` ${r.label}` : ''} c=${r.concurrency}: ${r.ok}/${r.sent} ok, ` +
    `${r.enrollmentsPerSecond.toFixed(1)}/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, ` +
    `${r.cpuMsPerEnrollment.toFixed(2)} CPU-ms/enr` +
    (r.failed ? `, failures ${JSON.stringify(r.failures)}` : '')
  );
}

/** GetCACert, warm-up, then one point per concurrency, each with freshly built distinct requests. */
export async function runSeries(o: SeriesOptions): Promise<PointResult[]> {
  const log = o.log ?? (() => {});
  const ca = o.fixed
    ? { all: [o.fixed.recipient], recipient: o.fixed.recipient }
    : await getCaCerts(o.targets[0]!.url);
  const check = o.fixed?.check ?? ca;
  const build = (count: number, tag: string) =>
    buildRequests({ count, pool: o.pool, recipient: ca.recipient, challenge: o.challenge, tag });
  if (o.warmup > 0) {
    await runPoint({ ...o, maxSeconds: 120 }, check, await build(o.warmup, `${o.label ?? ''}w`), 1);
  }
  const results: PointResult[] = [];
  for (const c of o.concurrencies) {
    const requests = await build(o.count, `${o.label ?? ''}c${c}`);
    const { result } = await runPoint(o, check, requests, c);
    log(pointLine(result));
    results.push(result);
  }
  return results;
}

export { keyPool };
