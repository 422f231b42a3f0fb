import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { InvalidArgumentError } from 'commander';
import { DEFAULT_ADMIN, servePrimaryState } from '@scepkit/server';
import type { Config } from '../config/schema.js';
import { adminConsoleOptions } from '../setup/admin-console.js';
import { initDataDir } from '../setup/init.js';
import { openRuntime } from '../setup/runtime.js';
import { tlsMaterial } from '../setup/tls.js';
import { serve } from './serve-command.js';

/**
 * `scepkit serve --workers N`: a primary process that forks N workers (node:cluster) serving one port. Each worker
 * is a whole `serve` with its own event loop, connection pool and keys; connections are spread over them
 * round-robin. The primary keeps what the workers must share (console sessions, failed sign-ins, metrics), starts
 * a worker again when one dies, and stops them all on SIGTERM/SIGINT.
 */

const WORKER_INDEX = 'SCEPKIT_WORKER_INDEX';
const WORKER_COUNT = 'SCEPKIT_WORKER_COUNT';
const READY = 'scepkit:ready';
/** More restarts than this within `RESTART_WINDOW_MS` is a crash loop: the primary gives up. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
/** How long workers get to finish their requests on shutdown before they are killed. */
const STOP_GRACE_MS = 30_000;

/** `--workers` value: an integer from 1 to 64. */
export function workerCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('an integer from 1 to 64');
  return n;
}

interface Ready {
  tag: typeof READY;
  url: string;
  banner: string;
}

function isReady(m: unknown): m is Ready {
  return typeof m === 'object' && m !== null && (m as Ready).tag === READY;
}

/** A worker: serves, tells the primary, and stops on a signal or when the primary goes away. */
export async function runWorker(config: Config): Promise<void> {
  const index = Number(process.env[WORKER_INDEX] ?? 0);
  const workers = Number(process.env[WORKER_COUNT] ?? 1);
  let s: Awaited<ReturnType<typeof serve>>;
  try {
    s = await serve(config, { cluster: { index, workers } });
  } catch (err) {
    process.stderr.write(`scepkit: worker ${index}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    s.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
  process.send!({ tag: READY, url: s.url, banner: s.banner } satisfies Ready);
}

export interface ClusterOptions {
  init: boolean;
  workers: number;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

/** The primary: checks the setup once, forks the workers, prints the banner when all listen, keeps them running. */
export async function runCluster(config: Config, o: ClusterOptions): Promise<void> {
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  if (o.init) {
    const r = await initDataDir(config);
    if (r.created) {
      out.write(`created a new CA in ${config.dataDir}\n`);
      for (const n of r.notes) out.write(`note: ${n}\n`);
    }
  }
  // Once, before any worker: migrate the store, load the keys, read the console's password, issue the TLS
  // certificate when there is none, so that a broken setup fails here with one message instead of N workers
  // racing (N TLS certificates) or crashing in a loop.
  const env = o.env ?? process.env;
  const rt = await openRuntime(config, env);
  try {
    await adminConsoleOptions(rt);
    if (config.server.tls.enabled) await tlsMaterial(config, rt, env);
  } finally {
    await rt.close();
  }
  const state = servePrimaryState({
    sessionTtlMinutes: config.admin?.sessionTtlMinutes ?? DEFAULT_ADMIN.sessionTtlMinutes,
    loginBurst: DEFAULT_ADMIN.loginBurst,
    loginRefillSeconds: DEFAULT_ADMIN.loginRefillSeconds,
  });

  const byIndex = new Map<number, Worker>();
  let stopping = false;
  const restarts: number[] = [];
  const fork = (index: number): Worker => {
    const w = cluster.fork({ [WORKER_INDEX]: String(index), [WORKER_COUNT]: String(o.workers) });
    byIndex.set(index, w);
    return w;
  };

  const stopAll = (code: number): void => {
    if (stopping) return;
    stopping = true;
    const alive = [...byIndex.values()].filter((w) => !w.isDead());
    const killer = setTimeout(
      () => alive.forEach((w) => w.isDead() || w.process.kill('SIGKILL')),
      STOP_GRACE_MS,
    );
    killer.unref();
    let left = alive.length;
    const done = () => {
      state.close();
      process.exit(code);
    };
    if (left === 0) return done();
    for (const w of alive) {
      w.once('exit', () => --left === 0 && done());
      w.process.kill('SIGTERM');
    }
  };

  // Start: every worker must listen, or none stays up.
  const first = await new Promise<Ready>((resolve, reject) => {
    const ready = new Map<number, Ready>();
    for (let i = 0; i < o.workers; i++) {
      const w = fork(i);
      const onExit = (code: number | null, signal: string | null) => {
        reject(new Error(`worker ${i} exited during start-up (${signal ?? `code ${code}`})`));
      };
      w.once('exit', onExit);
      w.on('message', (m: unknown) => {
        if (!isReady(m)) return;
        w.off('exit', onExit);
        ready.set(i, m);
        if (ready.size === o.workers) resolve(ready.get(0)!);
      });
    }
  }).catch((e: unknown) => {
    // The worker wrote its own reason on stderr; this says what the primary does about it.
    err.write(`scepkit: ${(e as Error).message}: stopping\n`);
    stopAll(1);
    return undefined;
  });
  if (!first) return; // stopAll exits once the other workers have stopped

  cluster.on('exit', (w, code, signal) => {
    if (stopping) return;
    const index = [...byIndex].find(([, x]) => x === w)?.[0];
    if (index === undefined) return;
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length > MAX_RESTARTS) {
      err.write(
        `scepkit: workers keep dying (${restarts.length} in ${RESTART_WINDOW_MS / 1000} s): stopping\n`,
      );
      stopAll(1);
      return;
    }
    err.write(
      `scepkit: worker ${index} (pid ${w.process.pid}) exited (${signal ?? `code ${code}`}): starting another\n`,
    );
    const next = fork(index);
    next.on('message', (m: unknown) => {
      if (isReady(m)) err.write(`scepkit: worker ${index} (pid ${next.process.pid}) is serving\n`);
    });
  });
  process.once('SIGTERM', () => stopAll(0));
  process.once('SIGINT', () => stopAll(0));

  const pids = [...byIndex.values()].map((w) => w.process.pid).join(', ');
  out.write(
    first.banner.replace(/\n$/, '') + `\n  workers: ${o.workers} (pids ${pids}; primary ${process.pid})\n`,
  );
}
