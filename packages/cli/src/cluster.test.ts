import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { hashPassword } from '@scepkit/server';
import { workerCount } from './commands/cluster-command.js';
import { parseConfig } from './config/load-config.js';
import { dataDirLayout } from './setup/data-dir.js';
import { childrenOf } from './testing/proc.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const run = promisify(execFile);
const PASSWORD = 'a long console password';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a connection of its own (no keep-alive), so that successive requests reach different workers. */
function request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'GET', headers: o.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

function metric(text: string, line: string): number | undefined {
  const m = text.split('\n').find((l) => l.startsWith(`${line} `));
  return m === undefined ? undefined : Number(m.slice(line.length + 1));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('scepkit serve --workers', () => {
  let dir: string;
  let primary: ChildProcess;
  let stdout = '';
  let stderr = '';
  let url = '';
  let workers: number[] = [];
  let exited: Promise<number | null>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scepkit-cluster-'));
    await mkdir(join(dir, 'secrets'), { mode: 0o700 });
    await writeFile(join(dir, 'secrets', 'admin-password'), `${await hashPassword(PASSWORD)}\n`, {
      mode: 0o600,
    });
    await writeFile(
      join(dir, 'scepkit.json'),
      JSON.stringify({ dataDir: '.', ca: { keyType: 'rsa-2048' }, admin: { name: 'ops' } }),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SCEPKIT_DATA_DIR: dir,
      SCEPKIT_PORT: '0',
      SCEPKIT_HOST: '127.0.0.1',
      SCEPKIT_LOG_LEVEL: 'silent',
    };
    primary = spawn(
      process.execPath,
      [MAIN, '-c', join(dir, 'scepkit.json'), 'serve', '--init', '--workers', '2'],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    exited = new Promise((resolve) => primary.on('exit', (code) => resolve(code)));
    primary.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    primary.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await until('the banner', () => /workers: 2 \(pids \d+, \d+; primary \d+\)/.test(stdout), 60_000);
    url = /scepkit listening on (\S+)/.exec(stdout)![1]!;
    workers = /pids (\d+), (\d+);/
      .exec(stdout)!
      .slice(1)
      .map((p) => Number(p));
  });

  after(async () => {
    if (primary.exitCode === null && primary.signalCode === null) primary.kill('SIGKILL');
    for (const pid of workers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('ok/workers-option-and-config', () => {
    assert.equal(workerCount('4'), 4);
    assert.throws(() => workerCount('0'), /1 to 64/);
    assert.throws(() => workerCount('1.5'), /1 to 64/);
    assert.equal(parseConfig({}).server.workers, 1);
    assert.equal(parseConfig({ server: { workers: 8 } }).server.workers, 8);
    assert.throws(() => parseConfig({ server: { workers: 0 } }), /server\.workers/);
  });

  it('ok/two-worker-processes-one-port', () => {
    assert.equal(workers.length, 2);
    assert.notEqual(workers[0], workers[1]);
    for (const pid of workers) assert.ok(alive(pid), `worker ${pid} runs`);
    assert.equal(stdout.match(/scepkit listening on/g)?.length, 1, 'one banner');
    assert.equal(stderr, '');
  });

  it('ok/metrics-count-every-worker', async () => {
    for (let i = 0; i < 6; i++) {
      const r = await request(`${url}/scep?operation=GetCACaps`);
      assert.equal(r.status, 200);
    }
    // Six connections went round-robin to two workers: each counted 3; every worker's /metrics answers 6.
    for (let i = 0; i < 2; i++) {
      const m = await request(`${url}/metrics`);
      assert.equal(m.status, 200);
      assert.equal(metric(m.body, 'scepkit_requests_total{operation="GetCACaps",outcome="ok"}'), 6);
      assert.equal(metric(m.body, 'scepkit_certificates{status="issued"}'), 0, 'store gauge not summed');
    }
  });

  it('ok/enrolls-through-the-cluster', async () => {
    const fp = /fingerprint ([0-9a-f]{64})/.exec(stdout)![1]!;
    const cert = join(dir, 'client.cert.pem');
    await run(process.execPath, [
      MAIN,
      'enroll',
      '-u',
      `${url}/scep`,
      '--ca-fingerprint',
      fp,
      '--challenge-file',
      join(dir, 'secrets', 'static-challenge'),
      '-s',
      'CN=cluster-client',
      '--out-key',
      join(dir, 'client.key.pem'),
      '--out-cert',
      cert,
      '--out-chain',
      join(dir, 'client.chain.pem'),
    ]);
    const issued = new X509Certificate(await readFile(cert));
    assert.equal(issued.subject, 'CN=cluster-client');
    const m = await request(`${url}/metrics`);
    assert.equal(metric(m.body, 'scepkit_certificates_issued_total'), 1);
    assert.equal(metric(m.body, 'scepkit_certificates{status="issued"}'), 1);
  });

  it('ok/console-session-outlives-the-workers', async () => {
    const answer = await request(`${url}/admin/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({ password: PASSWORD }),
    });
    assert.equal(answer.status, 200, answer.body);
    const csrf = (JSON.parse(answer.body) as { csrfToken: string }).csrfToken;
    const cookie = String(answer.headers['set-cookie']).split(';')[0]!;
    // Both workers die, one after the other; the primary starts two others, which never saw the sign-in. (One
    // at a time: with port 0, the port is the cluster's only while a worker holds it.)
    for (const [i, pid] of workers.entries()) {
      process.kill(pid, 'SIGKILL');
      await until(`restart ${i + 1}`, () => (stderr.match(/is serving/g) ?? []).length === i + 1);
    }
    assert.equal((stderr.match(/exited \(SIGKILL\): starting another/g) ?? []).length, 2);
    for (let i = 0; i < 4; i++) {
      const s = await request(`${url}/admin/api/session`, { headers: { cookie } });
      assert.equal(s.status, 200, s.body);
      assert.equal((JSON.parse(s.body) as { csrfToken: string }).csrfToken, csrf);
    }
    const none = await request(`${url}/admin/api/session`, { headers: { cookie: 'scepkit_admin=forged' } });
    assert.equal(none.status, 401);
  });

  it('ok/failed-sign-ins-counted-across-workers', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await request(`${url}/admin/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: url },
        body: JSON.stringify({ password: 'not the password' }),
      });
      statuses.push(r.status);
    }
    // Five failures allowed per address in all (not five per worker, which would let all six through), then 429.
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
  });

  it('ok/sigterm-stops-every-worker', async () => {
    const pids = await childrenOf(primary.pid!);
    assert.equal(pids.length, 2);
    primary.kill('SIGTERM');
    assert.equal(await exited, 0);
    for (const pid of pids) await until(`worker ${pid} to exit`, () => !alive(pid), 10_000);
  });
});

describe('scepkit serve --workers over HTTPS', () => {
  it('ok/one-tls-certificate-for-every-worker', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scepkit-cluster-tls-'));
    let stdout = '';
    const primary = spawn(process.execPath, [MAIN, 'serve', '--init', '--workers', '2'], {
      env: {
        ...process.env,
        SCEPKIT_DATA_DIR: dir,
        SCEPKIT_PORT: '0',
        SCEPKIT_HOST: '127.0.0.1',
        SCEPKIT_TLS: 'true',
        SCEPKIT_CA_KEY_TYPE: 'rsa-2048',
        SCEPKIT_LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => primary.on('exit', (code) => resolve(code)));
    primary.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      await until('the banner', () => /workers: 2 /.test(stdout), 60_000);
      const url = new URL(/scepkit listening on (\S+)/.exec(stdout)![1]!);
      assert.equal(url.protocol, 'https:');
      // The primary issued the TLS certificate before the workers started: every worker serves that one.
      const onDisk = new X509Certificate(await readFile(dataDirLayout(dir).tlsCert)).fingerprint256;
      for (let i = 0; i < 4; i++) {
        const served = await new Promise<string>((resolve, reject) => {
          const s = tls.connect(
            { host: '127.0.0.1', port: Number(url.port), rejectUnauthorized: false },
            () => {
              resolve(s.getPeerX509Certificate()!.fingerprint256);
              s.destroy();
            },
          );
          s.on('error', reject);
        });
        assert.equal(served, onDisk);
      }
      primary.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (primary.exitCode === null && primary.signalCode === null) primary.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('scepkit serve --workers that cannot start', () => {
  it('fail/port-taken-stops-the-cluster-with-exit-1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scepkit-cluster-busy-'));
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [MAIN, 'serve', '--init', '--workers', '2'], {
          env: {
            ...process.env,
            SCEPKIT_DATA_DIR: dir,
            SCEPKIT_PORT: String(port),
            SCEPKIT_HOST: '127.0.0.1',
            SCEPKIT_CA_KEY_TYPE: 'rsa-2048',
            SCEPKIT_LOG_LEVEL: 'silent',
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /EADDRINUSE/);
      assert.match(r.stderr, /exited during start-up \(code 1\): stopping/);
    } finally {
      taken.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
