import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { verifyPassword } from '@scepkit/server';
import { serve } from './commands/serve-command.js';
import { loadConfig, parseConfig } from './config/load-config.js';
import { CliError } from './errors.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const run = promisify(execFile);
const sink = { write: () => true } as unknown as NodeJS.WritableStream;

/** Runs `scepkit` with `input` on standard input. */
function withStdin(args: string[], input: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('scepkit admin-password and the admin config section', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const hashFile = () => join(dir, 'secrets', 'admin-password');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scepkit-admin-'));
    env = {
      ...process.env,
      SCEPKIT_DATA_DIR: dir,
      SCEPKIT_CA_KEY_TYPE: 'rsa-2048',
      SCEPKIT_LOG_LEVEL: 'silent',
    };
    delete env['SCEPKIT_ADMIN_PASSWORD'];
    await writeFile(join(dir, 'scepkit.json'), JSON.stringify({ dataDir: '.', ca: { keyType: 'rsa-2048' } }));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('ok/password-from-stdin-hashed-0600', async () => {
    const r = await withStdin(['admin-password'], 'a long console password\n', env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /add "admin": \{\} to the config/);
    assert.equal((await stat(hashFile())).mode & 0o777, 0o600);
    const stored = (await readFile(hashFile(), 'utf8')).trim();
    assert.match(stored, /^scrypt\$32768\$8\$1\$/);
    assert.ok(!stored.includes('a long console password'));
    assert.equal(await verifyPassword('a long console password', stored), true);
    assert.ok(!r.stdout.includes('a long console password') && !r.stderr.includes('a long console password'));
  });

  it('ok/password-from-env-replaces-the-hash', async () => {
    const before = await readFile(hashFile(), 'utf8');
    await run(process.execPath, [MAIN, 'admin-password'], {
      env: { ...env, SCEPKIT_ADMIN_PASSWORD: 'another console password' },
    });
    const stored = (await readFile(hashFile(), 'utf8')).trim();
    assert.notEqual(stored, before.trim());
    assert.equal(await verifyPassword('another console password', stored), true);
  });

  it('fail/short-password-refused', async () => {
    const r = await withStdin(['admin-password'], 'short\n', env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /at least 12 characters/);
  });

  it('ok/config-defaults-and-validation', () => {
    const c = parseConfig({ admin: {} });
    assert.deepEqual(c.admin, { name: 'console', sessionTtlMinutes: 60 });
    assert.equal(parseConfig({}).admin, undefined);
    assert.throws(() => parseConfig({ admin: { passwordHash: 'hunter2' } }), /admin\.passwordHash/);
    assert.throws(() => parseConfig({ admin: { sessionTtlMinutes: 1 } }), /admin\.sessionTtlMinutes/);
    assert.throws(() => parseConfig({ admin: { name: 'a b' } }), /admin\.name/);
    assert.throws(() => parseConfig({ admin: { password: 'x' } }), /admin/);
    assert.throws(
      () => parseConfig({ admin: { passwordHash: 'scrypt$1$1$1$a$b', passwordHashFile: '/x' } }),
      /give one/,
    );
  });

  describe('serve', () => {
    let served: Awaited<ReturnType<typeof serve>> | undefined;
    after(async () => {
      await served?.close();
    });

    it('fail/console-configured-without-password', async () => {
      const { config } = await loadConfig(join(dir, 'scepkit.json'), { SCEPKIT_PORT: '0' });
      await assert.rejects(
        serve(
          {
            ...config,
            admin: { name: 'console', sessionTtlMinutes: 60, passwordHashFile: join(dir, 'none') },
          },
          {
            init: true,
            out: sink,
          },
        ),
        (err: unknown) => err instanceof CliError && /scepkit admin-password/.test(err.message),
      );
    });

    it('ok/serves-the-console-when-configured', async () => {
      const { config } = await loadConfig(join(dir, 'scepkit.json'), { SCEPKIT_PORT: '0' });
      let banner = '';
      const out = { write: (s: string) => ((banner += s), true) } as unknown as NodeJS.WritableStream;
      served = await serve({ ...config, admin: { name: 'ops', sessionTtlMinutes: 60 } }, { init: true, out });
      assert.match(banner, /admin console: http:\/\/127\.0\.0\.1:\d+\/admin/);
      const login = await fetch(`${served.url}/admin/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: served.url },
        body: JSON.stringify({ password: 'another console password' }),
      });
      assert.equal(login.status, 200);
      assert.equal(((await login.json()) as { actor: string }).actor, 'ops');
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const summary = (await (
        await fetch(`${served.url}/admin/api/summary`, { headers: { cookie } })
      ).json()) as {
        certificates: Array<{ role: string }>;
      };
      assert.deepEqual(
        summary.certificates.map((c) => c.role),
        ['CA', 'RA', 'OCSP'],
      );
      const [event] = await served.runtime.store.queryAudit({ action: 'login', limit: 1 });
      assert.equal(event?.actor, 'admin:ops');
    });
  });
});
