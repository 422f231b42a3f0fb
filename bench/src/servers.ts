import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentHttpClient } from './load-generator.js';
import type { PointResult } from './load-generator.js';

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
// The `scepkit` command as installed: its entry sizes libuv's thread pool before loading the CLI.
const SCEPKIT_MAIN = join(REPO, 'packages', 'cli', 'dist', 'bin.cjs');
const LOAD_MAIN = join(REPO, 'bench', 'dist', 'load.js');

/**
 * The Node.js options scepkit ships with (the NODE_OPTIONS of packaging/systemd/scepkit.service), so the bench
 * measures the server as it is run.
 */
export const SHIPPED_NODE_OPTIONS: readonly string[] = (() => {
  const unit = readFileSync(join(REPO, 'packaging', 'systemd', 'scepkit.service'), 'utf8');
  const m = /^Environment=NODE_OPTIONS=(.+)$/m.exec(unit);
  return m ? m[1]!.trim().split(/\s+/) : [];
})();

/**
 * BENCH_SERVER_UV_THREADPOOL_SIZE: libuv's thread pool size for the servers only (not the load generator), for
 * A/B runs. Unset, scepkit chooses its own (one thread per core: `packages/cli/src/thread-pool.cts`) and the floor
 * server gets the same.
 */
function serverThreadPool(o: { floor?: boolean } = {}): Record<string, string> {
  const size = process.env.BENCH_SERVER_UV_THREADPOOL_SIZE;
  if (size) return { UV_THREADPOOL_SIZE: size };
  return o.floor ? { UV_THREADPOOL_SIZE: String(availableParallelism()) } : {};
}

/** A child process started by the bench, once its banner matched. */
export interface SpawnedServer {
  pid: number;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** The banner's match. */
  match: RegExpExecArray;
  stop(): Promise<void>;
}

/** Servers started and not yet exited: stopped if the bench itself is interrupted. */
const live = new Set<ChildProcess>();

// On SIGINT or SIGTERM, SIGTERM every server still running before exiting, so an interrupted bench leaves no
// scepkit or emulator process behind (they hold ports, data directories and CPU). The micromdm leg runs under
// `spawnSync` in the bench's process group, which a terminal's Ctrl-C reaches directly.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of live) child.kill('SIGTERM');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** Spawns `node <args>` and waits (up to 120 s) until its output matches `ready`. */
export async function spawnServer(
  args: readonly string[],
  o: { cwd: string; env: NodeJS.ProcessEnv; ready: RegExp; name: string },
): Promise<SpawnedServer> {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: o.cwd,
    env: o.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  // BENCH_OUTPUT_DIR: keep each child's whole output (e.g. with --trace-gc-nvp in BENCH_SERVER_NODE_OPTIONS).
  const dir = process.env.BENCH_OUTPUT_DIR;
  if (dir) {
    const log = createWriteStream(join(dir, `${o.name.replace(/[^\w.-]+/g, '-')}-${child.pid}.log`));
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  }
  const match = await new Promise<RegExpExecArray>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${o.name} did not start:\n${out}`)), 120_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = o.ready.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${o.name} exited with ${code}:\n${out}`));
    });
  });
  return {
    pid: child.pid!,
    output: () => out,
    match,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

export interface RunningScepkit {
  /** The first endpoint's SCEP URL. */
  url: string;
  /** `http://127.0.0.1:PORT`, to which endpoint paths are appended. */
  base: string;
  pid: number;
  challenge: string;
  stop(): Promise<void>;
}

export interface ScepkitOptions {
  store?: Record<string, unknown>;
  /** Default: `[{path: '/scep', challenge: {type: 'static'}}]`. */
  endpoints?: readonly Record<string, unknown>[];
  intune?: Record<string, unknown>;
  /** `serve --init` (default) creates the CA; another process on the same data directory starts without it. */
  init?: boolean;
  env?: Record<string, string>;
}

/** `scepkit serve [--init]` on 127.0.0.1 (port chosen by the OS), RSA-2048 CA, no rate limit. */
export async function startScepkit(dataDir: string, o: ScepkitOptions = {}): Promise<RunningScepkit> {
  mkdirSync(dataDir, { recursive: true });
  const config = {
    dataDir: '.',
    server: { rateLimitPerMinute: 100_000_000 },
    endpoints: o.endpoints ?? [{ path: '/scep', challenge: { type: 'static' } }],
    ...(o.store ? { store: o.store } : {}),
    ...(o.intune ? { intune: o.intune } : {}),
  };
  writeFileSync(join(dataDir, 'scepkit.json'), JSON.stringify(config, null, 2));
  const s = await spawnServer(
    [
      ...SHIPPED_NODE_OPTIONS,
      ...(process.env.BENCH_SERVER_NODE_OPTIONS ?? '').split(' ').filter(Boolean),
      SCEPKIT_MAIN,
      '-c',
      join(dataDir, 'scepkit.json'),
      'serve',
      ...(o.init === false ? [] : ['--init']),
    ],
    {
      name: 'scepkit',
      cwd: dataDir,
      env: {
        ...process.env,
        SCEPKIT_DATA_DIR: dataDir,
        SCEPKIT_PORT: '0',
        SCEPKIT_HOST: '127.0.0.1',
        SCEPKIT_CA_KEY_TYPE: 'rsa-2048',
        SCEPKIT_LOG_LEVEL: 'warn',
        ...serverThreadPool(),
        ...o.env,
      },
      ready: /scepkit listening on (\S+)\n\s+SCEP URL: (\S+)/,
    },
  );
  return {
    base: s.match[1]!,
    url: s.match[2]!,
    pid: s.pid,
    challenge: readFileSync(join(dataDir, 'secrets', 'static-challenge'), 'utf8').trim(),
    stop: s.stop,
  };
}

const FLOOR_MAIN = join(REPO, 'bench', 'dist', 'floor-server.js');

/** The floor server (`floor-server.ts`) on 127.0.0.1, with scepkit's shipped Node.js options. */
export async function startFloor(
  dataFile: string,
  replyBytes: number,
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const s = await spawnServer(
    [...SHIPPED_NODE_OPTIONS, FLOOR_MAIN, '--data', dataFile, '--reply-bytes', String(replyBytes)],
    {
      name: 'floor',
      cwd: REPO,
      env: { ...process.env, ...serverThreadPool({ floor: true }) },
      ready: /floor listening on (\S+)/,
    },
  );
  return { url: s.match[1]!, pid: s.pid, stop: s.stop };
}

/**
 * The micromdm leg: `scepserver` has no bind-address flag, so it runs in a private network namespace with
 * only loopback, and the load generator runs there too. Bounded by `timeoutSeconds`.
 */
export function runMicromdm(o: {
  dir: string;
  concurrencies: readonly number[];
  count: number;
  maxSeconds: number;
  warmup: number;
  keys: number;
  timeoutSeconds: number;
}): PointResult[] {
  mkdirSync(o.dir, { recursive: true });
  const results = join(o.dir, 'results.json');
  const script = `
    set -e
    cd '${o.dir}'
    ip link set lo up
    scepserver ca -init -depot depot -keySize 2048 >/dev/null 2>&1
    scepserver -depot depot -port 18080 -challenge bench-secret -allowrenew 0 > server.log 2>&1 &
    pid=$!
    trap 'kill $pid 2>/dev/null || true' EXIT
    for i in $(seq 1 100); do
      if node -e "require('net').connect(18080,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"; then break; fi
      sleep 0.1
    done
    node '${LOAD_MAIN}' --server micromdm --url http://127.0.0.1:18080/scep --pid $pid \\
      --challenge bench-secret --concurrency ${o.concurrencies.join(',')} --count ${o.count} \\
      --max-seconds ${o.maxSeconds} --warmup ${o.warmup} --keys ${o.keys} --http-client ${currentHttpClient()} \\
      --out '${results}'
  `;
  const r = spawnSync('unshare', ['--net', 'bash', '-c', script], {
    encoding: 'utf8',
    timeout: o.timeoutSeconds * 1000,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`micromdm leg failed (status ${r.status}, ${r.error?.message ?? ''})`);
  return JSON.parse(readFileSync(results, 'utf8')) as PointResult[];
}

/** `openssl speed -seconds 3 rsa2048`: RSA-2048 private (sign) operations per second on one core. */
export function rsaSignsPerSecond(): { signsPerSecond: number; line: string } {
  const r = spawnSync('openssl', ['speed', '-seconds', '3', 'rsa2048'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = /^rsa\s+2048 bits.*$/m.exec(r.stdout)?.[0] ?? '';
  const m = /^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/.exec(line);
  if (!m?.[1]) throw new Error(`cannot parse openssl speed output:\n${r.stdout}\n${r.stderr}`);
  return { signsPerSecond: Number(m[1]), line: line.replace(/\s+/g, ' ') };
}
