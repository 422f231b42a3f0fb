import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { enroll } from './client/enroll.js';
import { CliError } from './errors.js';
import { loadConfig } from './config/load-config.js';
import { serve } from './commands/serve-command.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const run = promisify(execFile);

describe('scepkit init, serve, enroll, certs, crl, challenge', () => {
  let dir: string;
  let s: Awaited<ReturnType<typeof serve>>;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => run(process.execPath, [MAIN, ...args], { env, timeout: 60_000 });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scepkit-cli-'));
    env = {
      ...process.env,
      SCEPKIT_DATA_DIR: dir,
      SCEPKIT_CA_KEY_TYPE: 'rsa-2048',
      SCEPKIT_LOG_LEVEL: 'silent',
    };
    const file = {
      dataDir: '.',
      ca: { keyType: 'rsa-2048' },
      log: { level: 'silent' },
      endpoints: [
        { path: '/scep', challenge: { type: 'static' } },
        { path: '/scep/otp', challenge: { type: 'otp' } },
      ],
    };
    await writeFile(join(dir, 'scepkit.json'), JSON.stringify(file));
    const init = await cli('init');
    assert.match(init.stdout, /created: /);
    assert.match(init.stdout, /CA SHA-256 fingerprint: [0-9a-f]{64}/);
    const { config } = await loadConfig(join(dir, 'scepkit.json'), { SCEPKIT_PORT: '0' });
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    s = await serve(config, { out: sink });
  });
  after(async () => {
    await s?.close();
  });

  it('ok/init-wrote-encrypted-keys-0600-and-is-idempotent', async () => {
    for (const f of ['ca/ca.key.pem', 'ca/ra.key.pem', 'ca/ocsp.key.pem', 'secrets/key-passphrase']) {
      assert.equal((await stat(join(dir, f))).mode & 0o777, 0o600, f);
    }
    assert.match(await readFile(join(dir, 'ca/ca.key.pem'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
    const again = await cli('init');
    assert.match(again.stdout, /already initialized/);
  });

  it('ok/enroll-list-show-revoke-crl', async () => {
    const challenge = (await readFile(join(dir, 'secrets/static-challenge'), 'utf8')).trim();
    const r = await enroll({
      url: `${s.url}/scep`,
      challenge,
      subject: 'CN=cli-test',
      dns: ['cli.example.test'],
    });
    const list = await cli('certs', 'list', '--subject', 'cli-test');
    const serial = list.stdout.split(/\s+/)[0]!;
    assert.match(serial, /^[0-9a-f]+$/);
    const show = await cli('certs', 'show', serial);
    assert.match(show.stdout, /subject: +CN=cli-test/);
    assert.match(show.stdout, /dns:cli\.example\.test/);
    assert.ok(show.stdout.includes(Buffer.from(r.certificate).toString('base64').slice(0, 64)));
    const revoke = await cli('certs', 'revoke', serial, '--reason', 'keyCompromise');
    assert.match(revoke.stdout, /revoked/);
    const crlFile = join(dir, 'crl.der');
    await cli('crl', '--der', '--out', crlFile);
    const { stdout } = await run('openssl', ['crl', '-inform', 'DER', '-in', crlFile, '-noout', '-text']);
    assert.match(stdout.toLowerCase(), new RegExp(`serial number: 0*${serial}`));
    assert.match(stdout, /Key Compromise/);
    const twice = await cli('certs', 'revoke', serial);
    assert.match(twice.stdout, /already revoked/);
    // /metrics counts from the store, so a revocation made by another process (this CLI) shows.
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /scepkit_certificates\{status="revoked"\} 1/);
    assert.match(metrics, /scepkit_certificates\{status="issued"\} [1-9]/);
  });

  it('ok/otp-challenge-works-once', async () => {
    const minted = await cli('challenge', 'new', '--endpoint', '/scep/otp', '--ttl', '5');
    const otp = minted.stdout.trim();
    assert.match(otp, /^\S{16,}$/);
    const r = await enroll({ url: `${s.url}/scep/otp`, challenge: otp, subject: 'CN=otp-1' });
    assert.ok(r.certificate.length > 0);
    await assert.rejects(
      enroll({ url: `${s.url}/scep/otp`, challenge: otp, subject: 'CN=otp-2' }),
      (e: unknown) => e instanceof CliError && /badRequest/.test(e.message),
    );
  });

  it('fail/bad-config-names-the-key', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ server: { port: 'x' } }));
    await assert.rejects(cli('-c', bad, 'certs', 'list'), (e: { stderr?: string }) =>
      /server\.port/.test(e.stderr ?? ''),
    );
  });
  it('ok/admin-commands-need-no-intune-secret', async () => {
    const withIntune = join(dir, 'with-intune.json');
    await writeFile(
      withIntune,
      JSON.stringify({
        dataDir: '.',
        log: { level: 'silent' },
        endpoints: [{ path: '/scep/intune', challenge: { type: 'intune' } }],
        intune: { tenant: 'contoso.onmicrosoft.com', clientId: '00000000-0000-0000-0000-000000000001' },
      }),
    );
    const env2 = { ...env };
    delete env2['SCEPKIT_INTUNE_CLIENT_SECRET'];
    const r = await run(process.execPath, [MAIN, '-c', withIntune, 'certs', 'list'], {
      env: env2,
      timeout: 60_000,
    });
    assert.match(r.stdout, /certificate\(s\)/);
  });
});
