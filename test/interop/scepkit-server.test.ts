/*
 * Interop with real SCEP clients from Debian against `scepkit serve`: micromdm scepclient (package `scep`) by POST
 * and by GET (base64url), including renewal; certmonger through the RA by GET with AES; and `scepkit enroll`.
 * Every issued certificate is checked with `openssl verify` against the CA, with the subject and SANs asked for.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, SCEPKIT, openssl, requireTools, run, tempDir } from '../support/tools.js';
import { startScepkit } from '../support/scepkit.js';
import type { RunningScepkit } from '../support/scepkit.js';

function verify(caFile: string, certFile: string): void {
  assert.match(openssl(['verify', '-CAfile', caFile, certFile]), /: OK/);
}

describe('real clients -> scepkit serve', () => {
  const skip = requireTools('scepclient', 'openssl', 'getcert', 'certmonger', 'dbus-run-session');
  let s: RunningScepkit;
  let dir: string;
  let caFile: string;
  let challenge: string;

  before(async () => {
    if (skip) return;
    dir = tempDir('interop');
    s = await startScepkit(join(dir, 'data'), {
      endpoints: [
        { path: '/scep', challenge: { type: 'static' } },
        // Without POSTPKIOperation, clients fall back to GET (micromdm's scepclient then uses base64url).
        {
          path: '/scep/get-only',
          challenge: { type: 'static' },
          capabilities: ['Renewal', 'SHA-1', 'SHA-256', 'AES', 'DES3'],
        },
      ],
    });
    caFile = join(s.dataDir, 'ca', 'ca.cert.pem');
    challenge = readFileSync(s.staticChallengeFile, 'utf8').trim();
  });
  after(async () => {
    await s?.stop();
  });

  for (const [name, path] of [
    ['ok/micromdm-scepclient-POST-then-renewal', '/scep'],
    ['ok/micromdm-scepclient-GET-base64url-then-renewal', '/scep/get-only'],
  ] as const) {
    it(name, { skip, timeout: 60_000 }, async () => {
      const work = tempDir('scepclient');
      const scepclient = (extra: string[]) =>
        run(
          'scepclient',
          [
            '-server-url',
            `${s.url}${path}`,
            '-private-key',
            join(work, 'key.pem'),
            '-certificate',
            join(work, 'cert.pem'),
            '-cn',
            'mm-interop',
            '-organization',
            'scepkit-interop',
            '-keySize',
            '2048',
            ...extra,
          ],
          { timeoutMs: 30_000 },
        );
      const first = await scepclient(['-challenge', challenge]);
      assert.equal(first.status, 0, `${first.stdout}\n${first.stderr}`);
      verify(caFile, join(work, 'cert.pem'));
      const subject = openssl(['x509', '-in', join(work, 'cert.pem'), '-noout', '-subject', '-serial']);
      assert.match(subject, /CN ?= ?mm-interop/);
      assert.match(subject, /O ?= ?scepkit-interop/);
      // With the certificate present, scepclient renews (RenewalReq signed by that certificate).
      const second = await scepclient(['-challenge', challenge]);
      assert.equal(second.status, 0, `${second.stdout}\n${second.stderr}`);
      verify(caFile, join(work, 'cert.pem'));
      const renewed = openssl(['x509', '-in', join(work, 'cert.pem'), '-noout', '-subject', '-serial']);
      assert.notEqual(renewed, subject, 'renewal issued a new certificate (new serial)');
      assert.ok(!s.output().includes(challenge), 'the challenge never appears in the server output');
      await new Promise((r) => setTimeout(r, 200));
      const method = path === '/scep' ? 'POST' : 'GET';
      assert.ok(
        s.output().includes(`"op":"PKIOperation","path":"${path}","method":"${method}"`),
        `scepclient used ${method} on ${path}`,
      );
    });
  }

  it('fail/micromdm-scepclient-wrong-challenge-gets-signed-FAILURE', { skip, timeout: 60_000 }, async () => {
    const work = tempDir('scepclient-bad');
    const r = await run(
      'scepclient',
      [
        '-server-url',
        `${s.url}/scep`,
        '-private-key',
        join(work, 'key.pem'),
        '-certificate',
        join(work, 'cert.pem'),
        '-challenge',
        'not-the-challenge',
      ],
      { timeoutMs: 30_000 },
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /badRequest|failInfo|FAILURE/i);
  });

  it('ok/certmonger-GET-AES-through-the-RA', { skip, timeout: 120_000 }, async () => {
    const work = tempDir('certmonger');
    const chFile = join(work, 'challenge');
    writeFileSync(chFile, challenge, { mode: 0o600 });
    const cmHome = join(work, 'cm');
    mkdirSync(cmHome);
    const r = await run(
      'dbus-run-session',
      [
        '--',
        'bash',
        join(REPO, 'test/support/certmonger-enroll.sh'),
        `${s.url}/scep`,
        chFile,
        'CN=certmonger-interop,O=scepkit',
        join(work, 'cm'),
        'cm.example.test',
      ],
      // The bus (and so the certmonger it activates) must see HOME too: certmonger keeps its state there.
      { timeoutMs: 110_000, env: { HOME: cmHome } },
    );
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /status: MONITORING/);
    const cert = join(work, 'cm', 'cert.pem');
    verify(caFile, cert);
    const text = openssl(['x509', '-in', cert, '-noout', '-subject', '-ext', 'subjectAltName']);
    assert.match(text, /CN ?= ?certmonger-interop/);
    assert.match(text, /DNS:cm\.example\.test/);
    // certmonger used GET (it has no POST): the server's log line says so.
    await new Promise((r) => setTimeout(r, 200));
    assert.match(s.output(), /"op":"PKIOperation","path":"\/scep","method":"GET"/);
  });

  it('ok/scepkit-enroll-against-scepkit-with-pinning-and-SANs', { skip, timeout: 60_000 }, async () => {
    const work = tempDir('self');
    const fp = openssl(['x509', '-in', caFile, '-noout', '-fingerprint', '-sha256']).split('=')[1]!.trim();
    const r = await run(
      process.execPath,
      [
        SCEPKIT,
        'enroll',
        '-u',
        `${s.url}/scep`,
        '--challenge-file',
        s.staticChallengeFile,
        '-s',
        'CN=self-interop,O=scepkit',
        '--dns',
        'self.example.test',
        '--email',
        'self@example.test',
        '--ca-fingerprint',
        fp,
        '--out-key',
        join(work, 'k.pem'),
        '--out-cert',
        join(work, 'c.pem'),
        '--out-chain',
        join(work, 'chain.pem'),
      ],
      { timeoutMs: 50_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    verify(caFile, join(work, 'c.pem'));
    const text = openssl([
      'x509',
      '-in',
      join(work, 'c.pem'),
      '-noout',
      '-subject',
      '-ext',
      'subjectAltName',
    ]);
    assert.match(text, /CN ?= ?self-interop/);
    assert.match(text, /DNS:self\.example\.test/);
    assert.match(text, /email:self@example\.test/);
    // The chain file holds the CA.
    assert.match(openssl(['x509', '-in', join(work, 'chain.pem'), '-noout', '-subject']), /scepkit Root CA/);
  });
});
