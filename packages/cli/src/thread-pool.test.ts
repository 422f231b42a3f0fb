import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chooseThreadPoolSize, threadPoolSize } from './thread-pool.cjs';
import { childrenOf } from './testing/proc.js';

const BIN = fileURLToPath(new URL('./bin.cjs', import.meta.url));
const run = promisify(execFile);

describe('threadPoolSize: this process’s share of the cores', () => {
  it('ok/one-process-gets-every-core', () => {
    assert.equal(threadPoolSize(1, 1), 1);
    assert.equal(threadPoolSize(2, 1), 2);
    assert.equal(threadPoolSize(16, 1), 16);
  });
  it('ok/workers-share-the-cores-rounded-up', () => {
    assert.equal(threadPoolSize(2, 2), 1);
    assert.equal(threadPoolSize(8, 3), 3);
    assert.equal(threadPoolSize(2, 8), 1);
  });
  it('edge/nonsense-counts-give-at-least-one', () => {
    assert.equal(threadPoolSize(0, 1), 1);
    assert.equal(threadPoolSize(4, 0), 4);
    assert.equal(threadPoolSize(4, Number.NaN), 4);
  });
});

describe('chooseThreadPoolSize', () => {
  it('ok/sets-the-share-when-unset', () => {
    const env: NodeJS.ProcessEnv = {};
    assert.equal(chooseThreadPoolSize(env, 6), true);
    assert.equal(env.UV_THREADPOOL_SIZE, '6');
  });
  it('ok/a-worker-takes-its-share', () => {
    const env: NodeJS.ProcessEnv = { SCEPKIT_WORKER_COUNT: '4' };
    assert.equal(chooseThreadPoolSize(env, 6), true);
    assert.equal(env.UV_THREADPOOL_SIZE, '2');
  });
  it('ok/the-operator-wins', () => {
    const env: NodeJS.ProcessEnv = { UV_THREADPOOL_SIZE: '12', SCEPKIT_WORKER_COUNT: '4' };
    assert.equal(chooseThreadPoolSize(env, 6), false);
    assert.equal(env.UV_THREADPOOL_SIZE, '12');
  });
});

/** The threads of a process (Linux). */
async function threads(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/task`)).length;
}

/** The environment a process was started with (Linux), as KEY=VALUE strings. */
async function startEnv(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').filter(Boolean);
}

describe('the scepkit command sizes libuv’s pool before the pool starts', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  /** `scepkit serve [args]` on a port of its own; resolves with its pid once it listens (every worker, if any). */
  async function serve(extraEnv: NodeJS.ProcessEnv, args: string[] = []): Promise<ChildProcess> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...extraEnv,
      SCEPKIT_DATA_DIR: dir,
      SCEPKIT_PORT: '0',
      SCEPKIT_HOST: '127.0.0.1',
    };
    if (!('UV_THREADPOOL_SIZE' in extraEnv)) delete env.UV_THREADPOOL_SIZE;
    const child = spawn(process.execPath, [BIN, 'serve', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 60_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        if (/listening on http:\/\/127\.0\.0\.1:\d+/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited with ${code}:\n${out}`));
      });
    });
    return child;
  }

  async function stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scepkit-pool-'));
    const env = {
      ...process.env,
      SCEPKIT_DATA_DIR: dir,
      SCEPKIT_CA_KEY_TYPE: 'ec-p256',
      SCEPKIT_LOG_LEVEL: 'warn',
    };
    await run(process.execPath, [BIN, 'init'], { env, timeout: 60_000 });
  });
  after(async () => {
    for (const c of children) await stop(c);
    await rm(dir, { recursive: true, force: true });
  });

  it('ok/one-thread-per-core-unless-UV_THREADPOOL_SIZE-is-set', async () => {
    // libuv starts every pool thread at once: a pool 3 larger is exactly 3 more threads, the rest being equal.
    const cores = availableParallelism();
    const chosen = await serve({});
    const chosenThreads = await threads(chosen.pid!);
    await stop(chosen);
    const larger = await serve({ UV_THREADPOOL_SIZE: String(cores + 3) });
    const largerThreads = await threads(larger.pid!);
    await stop(larger);
    assert.equal(largerThreads - chosenThreads, 3, `${chosenThreads} threads, then ${largerThreads}`);
  });

  it('ok/workers-choose-their-own-share-not-the-primarys', async () => {
    const primary = await serve({}, ['--workers', '2']);
    const workers = await childrenOf(primary.pid!);
    assert.equal(workers.length, 2);
    for (const pid of workers) {
      const env = await startEnv(pid);
      assert.ok(env.includes('SCEPKIT_WORKER_COUNT=2'), 'the worker knows how many there are');
      assert.ok(!env.some((e) => e.startsWith('UV_THREADPOOL_SIZE=')), 'and inherits no pool size');
    }
    await stop(primary);
  });
});
