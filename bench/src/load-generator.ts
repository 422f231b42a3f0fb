import { Agent } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { loadavg } from 'node:os';
import { ScepError, decodeCertRep, keyObjectDecrypter } from '@scepkit/scep';
import { httpExchange } from './http.js';
import { buildRequests, caCertsFrom, keyPool } from './messages.js';
import type { CaCerts, PoolKey, PreparedRequest } from './messages.js';
import { cpuSeconds, peakRssKiB } from './proc.js';

/** The figures of one (server, concurrency) point. */
export interface PointResult {
  server: string;
  label: string;
  concurrency: number;
  sent: number;
  ok: number;
  failed: number;
  /** Failure causes and their counts (HTTP status, SCEP failInfo, decode error, network error). */
  failures: Record<string, number>;
  /** Successful answers that carried a serial number already seen in this point. */
  duplicateSerials: number;
  seconds: number;
  enrollmentsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuSeconds: number;
  cpuMsPerEnrollment: number;
  peakRssMiB: number;
  loadAvgBefore: number;
  loadAvgAfter: number;
}

export interface SeriesOptions {
  server: string;
  /** SCEP URL, e.g. http://127.0.0.1:8080/scep */
  url: string;
  /** PID of the server process, for CPU and RSS. */
  pid: number;
  challenge: string;
  concurrencies: readonly number[];
  count: number;
  /** Stop sending new requests after this many seconds per point. */
  maxSeconds: number;
  /** Enrollments before the first point (JIT, connection and store warm-up); not counted. */
  warmup: number;
  pool: readonly PoolKey[];
  label?: string;
  log?: (line: string) => void;
}

const REQUEST_TIMEOUT_MS = 60_000;

function percentile(sorted: readonly number[], p: number): number {
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

interface Answer {
  status: number;
  body?: Buffer;
  error?: string;
}

/** Checks one answer: a CertRep SUCCESS signed by the CA/RA, for this transaction, with a certificate. */
function verify(req: PreparedRequest, a: Answer, ca: CaCerts): { cause?: string; serial?: string } {
  if (a.error) return { cause: `network: ${a.error}` };
  if (a.status !== 200 || !a.body) return { cause: `HTTP ${a.status}` };
  try {
    const rep = decodeCertRep(new Uint8Array(a.body), {
      decrypter: keyObjectDecrypter(req.signerCertificate, req.privateKey),
      expect: { transactionId: req.transactionId, senderNonce: req.senderNonce },
      trustedSigners: ca.all,
    });
    if (rep.status !== 'SUCCESS') return { cause: `${rep.status} ${rep.failInfo ?? ''}`.trim() };
    const issued = rep.certificates
      .map((c) => new X509Certificate(c))
      .find((c) => !c.ca && c.subject.includes('bench-'));
    if (!issued) return { cause: 'SUCCESS without the issued certificate' };
    return { serial: issued.serialNumber.toLowerCase() };
  } catch (err) {
    return { cause: err instanceof ScepError ? `decode: ${err.code}` : `decode: ${(err as Error).message}` };
  }
}

/** Sends the pre-built requests with `concurrency` keep-alive connections, then verifies every answer. */
export async function runPoint(
  o: SeriesOptions,
  ca: CaCerts,
  requests: readonly PreparedRequest[],
  concurrency: number,
): Promise<PointResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const u = new URL(o.url);
  u.searchParams.set('operation', 'PKIOperation');
  const answers: Answer[] = new Array<Answer>(requests.length);
  const latencies: number[] = [];
  let next = 0;
  const loadAvgBefore = loadavg()[0]!;
  const cpu0 = cpuSeconds(o.pid);
  const t0 = performance.now();
  const deadline = t0 + o.maxSeconds * 1000;
  const worker = async () => {
    while (next < requests.length && performance.now() < deadline) {
      const i = next++;
      const start = performance.now();
      try {
        const a = await httpExchange(agent, u, 'POST', requests[i]!.der, REQUEST_TIMEOUT_MS);
        answers[i] = { status: a.status, body: a.body };
      } catch (err) {
        answers[i] = { status: 0, error: (err as Error).message };
      }
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const serverCpuSeconds = cpuSeconds(o.pid) - cpu0;
  const loadAvgAfter = loadavg()[0]!;
  agent.destroy();

  const sent = next;
  const failures: Record<string, number> = {};
  const serials = new Set<string>();
  let ok = 0;
  let duplicateSerials = 0;
  for (let i = 0; i < sent; i++) {
    const v = verify(requests[i]!, answers[i]!, ca);
    if (v.cause) {
      failures[v.cause] = (failures[v.cause] ?? 0) + 1;
      continue;
    }
    ok++;
    if (serials.has(v.serial!)) duplicateSerials++;
    serials.add(v.serial!);
  }
  latencies.sort((a, b) => a - b);
  return {
    server: o.server,
    label: o.label ?? '',
    concurrency,
    sent,
    ok,
    failed: sent - ok,
    failures,
    duplicateSerials,
    seconds,
    enrollmentsPerSecond: ok / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    serverCpuSeconds,
    cpuMsPerEnrollment: sent ? (serverCpuSeconds * 1000) / sent : NaN,
    peakRssMiB: peakRssKiB(o.pid) / 1024,
    loadAvgBefore,
    loadAvgAfter,
  };
}

/** GetCACert, warm-up, then one point per concurrency, each with freshly built distinct requests. */
export async function runSeries(o: SeriesOptions): Promise<PointResult[]> {
  const log = o.log ?? (() => {});
  const ca = await getCaCerts(o.url);
  const build = (count: number, tag: string) =>
    buildRequests({ count, pool: o.pool, recipient: ca.recipient, challenge: o.challenge, tag });
  if (o.warmup > 0) {
    await runPoint({ ...o, maxSeconds: 120 }, ca, await build(o.warmup, `${o.label ?? ''}w`), 1);
  }
  const results: PointResult[] = [];
  for (const c of o.concurrencies) {
    const requests = await build(o.count, `${o.label ?? ''}c${c}`);
    const r = await runPoint(o, ca, requests, c);
    log(
      `${o.server}${o.label ? ` ${o.label}` : ''} c=${c}: ${r.ok}/${r.sent} ok, ${r.enrollmentsPerSecond.toFixed(1)}/s, ` +
        `p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, ${r.cpuMsPerEnrollment.toFixed(2)} CPU-ms/enr` +
        (r.failed ? `, failures ${JSON.stringify(r.failures)}` : ''),
    );
    results.push(r);
  }
  return results;
}

export { keyPool };
