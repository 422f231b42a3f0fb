import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { AdminSession, AdminSessionBackend, LocalAdminSessionOptions } from './admin/sessions.js';
import { localAdminSessions } from './admin/sessions.js';
import type { ScepMetrics } from './metrics.js';

/**
 * What the workers of `scepkit serve --workers N` share through their primary, over the cluster's IPC channel:
 * the console's sessions and failed sign-ins (a session made on one worker works on every other), and the
 * metrics of all workers on every worker's `/metrics`. The hot path (SCEP, CRL, OCSP) never crosses it.
 */
const TAG = 'scepkit:cluster';
/** How long a worker waits for its primary before the call fails. */
const CALL_TIMEOUT_MS = 10_000;

type Op = 'session.create' | 'session.get' | 'session.delete' | 'login.wait' | 'login.failed' | 'metrics';

interface Call {
  tag: typeof TAG;
  id: number;
  op: Op;
  arg?: string;
}

interface Answer {
  tag: typeof TAG;
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

/** The primary did not answer (gone, hung, or the call failed there): the request gets 503, never 500. */
export class PrimaryUnreachableError extends Error {
  override readonly name = 'PrimaryUnreachableError';
}

function isCall(m: unknown): m is Call {
  return typeof m === 'object' && m !== null && (m as Call).tag === TAG && typeof (m as Call).op === 'string';
}

/** The primary's side. */
export interface PrimaryState {
  /** Stops answering workers. */
  close(): void;
}

/**
 * Answers the workers' calls in the primary: sessions and sign-in limits in this process's memory, and the
 * metrics of every worker (prom-client's `AggregatorRegistry`: counters and histograms summed, each metric's own
 * aggregation otherwise).
 */
export function servePrimaryState(o: LocalAdminSessionOptions): PrimaryState {
  const sessions = localAdminSessions(o);
  const registry = new AggregatorRegistry();
  const answer = async (call: Call): Promise<unknown> => {
    const arg = call.arg ?? '';
    switch (call.op) {
      case 'session.create':
        return sessions.create(arg);
      case 'session.get':
        return (await sessions.get(arg)) ?? null;
      case 'session.delete':
        return sessions.delete(arg);
      case 'login.wait':
        return sessions.loginWait(arg);
      case 'login.failed':
        return sessions.loginFailed(arg);
      case 'metrics':
        return registry.clusterMetrics();
      default:
        throw new Error('unknown call');
    }
  };
  const onMessage = (worker: Worker, m: unknown) => {
    if (!isCall(m)) return;
    answer(m).then(
      (value) => send(worker, { tag: TAG, id: m.id, ok: true, value: value ?? null }),
      (err: unknown) =>
        send(worker, {
          tag: TAG,
          id: m.id,
          ok: false,
          error: err instanceof Error ? err.message : String(err),
        }),
    );
  };
  cluster.on('message', onMessage);
  return { close: () => cluster.off('message', onMessage) };
}

function send(worker: Worker, a: Answer): void {
  // A worker that died meanwhile has nobody to answer.
  if (worker.isConnected()) worker.send(a);
}

let nextId = 0;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let listening = false;

/** Calls the primary from a worker; rejects when it does not answer within `CALL_TIMEOUT_MS`. */
function callPrimary(op: Op, arg?: string): Promise<unknown> {
  if (!process.send || !process.connected) {
    return Promise.reject(new PrimaryUnreachableError('not a cluster worker, or the primary is gone'));
  }
  if (!listening) {
    listening = true;
    process.on('message', (m: unknown) => {
      const a = m as Answer;
      if (typeof a !== 'object' || a === null || a.tag !== TAG) return;
      const p = pending.get(a.id);
      if (!p) return;
      pending.delete(a.id);
      if (a.ok) p.resolve(a.value);
      else p.reject(new PrimaryUnreachableError(`cluster primary: ${a.error ?? 'failed'}`));
    });
  }
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(
        new PrimaryUnreachableError(`cluster primary did not answer ${op} within ${CALL_TIMEOUT_MS} ms`),
      );
    }, CALL_TIMEOUT_MS);
    timer.unref();
    pending.set(id, {
      resolve: (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    });
    const call: Call = { tag: TAG, id, op, ...(arg === undefined ? {} : { arg }) };
    process.send!(call);
  });
}

/** The console's sessions, kept by the primary: what a worker passes as `AdminConsoleOptions.sessions`. */
export function workerAdminSessions(): AdminSessionBackend {
  return {
    create: async (actor) =>
      (await callPrimary('session.create', actor)) as { id: string; session: AdminSession },
    get: async (id) => {
      if (!id || id.length > 100) return undefined;
      return ((await callPrimary('session.get', id)) as AdminSession | null) ?? undefined;
    },
    delete: async (id) => {
      if (id) await callPrimary('session.delete', id);
    },
    loginWait: async (client) => Number(await callPrimary('login.wait', client)),
    loginFailed: async (client) => {
      await callPrimary('login.failed', client);
    },
  };
}

/** The metrics of every worker, gathered by the primary: what a worker passes as `metricsText`. */
export async function workerClusterMetrics(): Promise<string> {
  return String(await callPrimary('metrics'));
}

/** Lets the primary's `AggregatorRegistry` read this worker's registry (the server's own, not the global one). */
export function offerMetricsToPrimary(metrics: ScepMetrics): void {
  AggregatorRegistry.setRegistries([metrics.registry]);
  // prom-client answers the primary's requests from a listener its constructor adds (once) in a worker.
  new AggregatorRegistry();
}
