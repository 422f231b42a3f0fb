import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { enroll } from './client/enroll.js';
import { loadConfig } from './config/load-config.js';
import { serve } from './commands/serve-command.js';

const run = promisify(execFile);

/** Runs `openssl s_client` with one protocol version; resolves to its output (it fails when the handshake does). */
async function handshake(port: number, caFile: string, version: string): Promise<string> {
  const r = await run(
    'sh',
    [
      '-c',
      `echo | openssl s_client -connect 127.0.0.1:${port} -servername localhost -CAfile ${caFile} ${version} 2>&1`,
    ],
    { timeout: 20_000 },
  ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  return r.stdout;
}

describe('HTTPS with a server certificate from this CA', () => {
  let dir: string;
  let s: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scepkit-tls-'));
    await writeFile(
      join(dir, 'scepkit.json'),
      JSON.stringify({
        dataDir: '.',
        ca: { keyType: 'rsa-2048' },
        log: { level: 'silent' },
        server: { tls: { enabled: true } },
      }),
    );
    const { config } = await loadConfig(join(dir, 'scepkit.json'), { SCEPKIT_PORT: '0' });
    s = await serve(config, { init: true, out: { write: () => true } as unknown as NodeJS.WritableStream });
  });
  after(async () => {
    await s?.close();
  });

  it('ok/enroll-over-https-trusting-only-the-CA', async () => {
    assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const caPem = await readFile(join(dir, 'ca/ca.cert.pem'), 'utf8');
    const challenge = (await readFile(join(dir, 'secrets/static-challenge'), 'utf8')).trim();
    const r = await enroll({ url: `${s.url}/scep`, challenge, subject: 'CN=tls-client', tlsCa: caPem });
    assert.ok(r.certificate.length > 0);
    // Without trusting the CA the connection is refused.
    await assert.rejects(enroll({ url: `${s.url}/scep`, challenge, subject: 'CN=x' }), /certificate/i);
  });

  it('ok/tls-1.2-and-1.3-both-offered (Windows needs 1.2)', async () => {
    const port = Number(new URL(s.url).port);
    const caFile = join(dir, 'ca/ca.cert.pem');
    const t12 = await handshake(port, caFile, '-tls1_2');
    assert.match(t12, /Protocol *: TLSv1\.2/);
    assert.match(t12, /Verify return code: 0 \(ok\)/);
    const t13 = await handshake(port, caFile, '-tls1_3');
    assert.match(t13, /TLSv1\.3/);
    assert.match(t13, /Verify return code: 0 \(ok\)/);
    const t11 = await handshake(port, caFile, '-tls1_1');
    assert.match(t11, /alert protocol version|no protocols available|Cipher is \(NONE\)/);
  });
});

describe('revocation pointers in issued certificates', () => {
  it('ok/CDP-OCSP-and-caIssuers-follow-the-public-URL-and-are-served', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scepkit-aia-'));
    await writeFile(
      join(dir, 'scepkit.json'),
      JSON.stringify({ dataDir: '.', ca: { keyType: 'rsa-2048' }, log: { level: 'silent' } }),
    );
    // The public URL names the port the server will get: pick a free one first.
    const probe = await import('node:net').then(
      (net) =>
        new Promise<number>((resolve) => {
          const srv = net.createServer().listen(0, '127.0.0.1', () => {
            const port = (srv.address() as { port: number }).port;
            srv.close(() => resolve(port));
          });
        }),
    );
    const { config } = await loadConfig(join(dir, 'scepkit.json'), { SCEPKIT_PORT: String(probe) });
    const s = await serve(config, {
      init: true,
      out: { write: () => true } as unknown as NodeJS.WritableStream,
    });
    try {
      const challenge = (await readFile(join(dir, 'secrets/static-challenge'), 'utf8')).trim();
      const r = await enroll({ url: `${s.url}/scep`, challenge, subject: 'CN=aia' });
      const certFile = join(dir, 'leaf.pem');
      await writeFile(
        certFile,
        `-----BEGIN CERTIFICATE-----\n${Buffer.from(r.certificate).toString('base64')}\n-----END CERTIFICATE-----\n`,
      );
      const { stdout } = await run('openssl', [
        'x509',
        '-in',
        certFile,
        '-noout',
        '-ext',
        'crlDistributionPoints,authorityInfoAccess',
      ]);
      assert.ok(stdout.includes(`URI:${s.url}/crl`), stdout);
      assert.ok(stdout.includes(`OCSP - URI:${s.url}/ocsp`), stdout);
      assert.ok(stdout.includes(`CA Issuers - URI:${s.url}/ca.cer`), stdout);
      const ca = await fetch(`${s.url}/ca.cer`);
      assert.equal(ca.headers.get('content-type'), 'application/pkix-cert');
      assert.deepEqual(new Uint8Array(await ca.arrayBuffer()), new Uint8Array(r.chain[r.chain.length - 1]!));
      // openssl follows the certificate's own OCSP URL and gets "good".
      const caFile = join(dir, 'ca/ca.cert.pem');
      const ocsp = await run('openssl', [
        'ocsp',
        '-issuer',
        caFile,
        '-cert',
        certFile,
        '-url',
        `${s.url}/ocsp`,
        '-CAfile',
        caFile,
      ]);
      assert.match(ocsp.stdout, /: good/);
    } finally {
      await s.close();
    }
  });
});
