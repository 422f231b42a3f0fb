// The admin console in a real browser: `scepkit serve` with the console enabled (password set with
// `scepkit admin-password`), certificates enrolled and refused with `scepkit enroll`, then Debian's Chromium driven by
// playwright-core (headless): sign in, read the chart, find a certificate by its subject, revoke it with a reason,
// and check the CRL (openssl) and the dashboard.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { startScepkit } from '../support/scepkit.js';
import type { RunningScepkit } from '../support/scepkit.js';
import { have, openssl, run, SCEPKIT, tempDir } from '../support/tools.js';

const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'e2e console password 1';
const STEP_MS = 15_000;

/**
 * Polls a condition read through Playwright locators (the console's CSP forbids the string evaluation that
 * `page.waitForFunction` would need here).
 */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + STEP_MS;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** In CI (.ci/run installs chromium) a missing browser fails the test; locally it skips with the reason. */
function missing(): string | false {
  const absent = [CHROMIUM, 'openssl'].filter((p) => !have(p));
  if (absent.length === 0) return false;
  const why = `missing ${absent.join(', ')} (apt-get install chromium openssl)`;
  if (process.env['CI']) throw new Error(why);
  return why;
}

describe('admin console in Chromium', { skip: missing(), timeout: 180_000 }, () => {
  const dir = tempDir('admin-e2e');
  const data = join(dir, 'data');
  let server: RunningScepkit;
  let context: BrowserContext;
  let page: Page;
  let fingerprint: string;
  const browserErrors: string[] = [];

  const enroll = async (cn: string, o: { challengeFile?: string; keySize?: number; path?: string } = {}) =>
    run(
      process.execPath,
      [
        SCEPKIT,
        'enroll',
        '-u',
        `${server.url}${o.path ?? '/scep'}`,
        '--ca-fingerprint',
        fingerprint,
        '--challenge-file',
        o.challengeFile ?? server.staticChallengeFile,
        '-s',
        `CN=${cn},O=scepkit e2e`,
        '--dns',
        `${cn}.example.test`,
        '--key-size',
        String(o.keySize ?? 2048),
        '--out-key',
        join(dir, `${cn}.key.pem`),
        '--out-cert',
        join(dir, `${cn}.cert.pem`),
        '--out-chain',
        join(dir, `${cn}.chain.pem`),
        '--poll-interval',
        '1',
        '--max-polls',
        '60',
      ],
      { timeoutMs: 60_000 },
    );

  before(async () => {
    const config = {
      ca: { keyType: 'rsa-2048' },
      admin: { sessionTtlMinutes: 30 },
      profiles: { default: {}, manual: { manualApproval: true } },
      endpoints: [
        { path: '/scep', profile: 'default', challenge: { type: 'static' } },
        { path: '/scep/manual', profile: 'manual', challenge: { type: 'static' } },
      ],
    };
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'scepkit.json'), JSON.stringify({ dataDir: '.', ...config }));
    const set = await run(process.execPath, [SCEPKIT, '-c', join(data, 'scepkit.json'), 'admin-password'], {
      env: { SCEPKIT_ADMIN_PASSWORD: PASSWORD },
    });
    assert.equal(set.status, 0, set.stderr);
    assert.equal(readFileSync(join(data, 'secrets', 'admin-password'), 'utf8').split('$')[0], 'scrypt');
    server = await startScepkit(data, config);
    assert.match(server.output(), /admin console: http:\/\/127\.0\.0\.1:\d+\/admin/);
    fingerprint = /CA SHA-256 fingerprint: ([0-9a-f]{64})/.exec(server.output())![1]!;

    for (const cn of ['e2e-laptop-1', 'e2e-laptop-2']) {
      const r = await enroll(cn);
      assert.equal(r.status, 0, `${cn}: ${r.stderr}`);
    }
    const wrong = join(dir, 'wrong-challenge');
    writeFileSync(wrong, 'not-the-challenge\n');
    const refused = await enroll('e2e-intruder', { challengeFile: wrong });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /badRequest/);
    const weak = await enroll('e2e-weak', { keySize: 1024 });
    assert.match(weak.stderr, /badAlg/);

    context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      timeout: 60_000,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(STEP_MS);
    page.on('console', (m) => {
      if (m.type() === 'error') browserErrors.push(m.text());
    });
    page.on('pageerror', (e) => browserErrors.push(e.message));
  });

  after(async () => {
    await context?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sum of `data-count` of the chart's bars of one series. */
  const barTotal = (series: string) =>
    page.$$eval(`svg[data-testid=activity-chart] rect[data-series=${series}]`, (rects) =>
      rects.reduce((n, r) => n + Number(r.getAttribute('data-count')), 0),
    );

  it('ok/sign-in-and-see-the-chart', async () => {
    await page.goto(`${server.url}/admin`);
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    await page.getByRole('alert').getByText('wrong password').waitFor();
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('svg[data-testid=activity-chart] rect.bar');
    const cookie = (await context.cookies()).find((c) => c.name === 'scepkit_admin');
    assert.ok(cookie, 'session cookie set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true, 'Chromium keeps a Secure cookie on http://127.0.0.1');
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(await barTotal('issued'), 2);
    assert.equal(await barTotal('policy'), 2, 'wrong challenge and 1024-bit key');
    assert.equal(await barTotal('intune'), 0);
    assert.equal(await page.textContent('[data-total=issued]'), '2');
    const titles = await page.$$eval('svg[data-testid=activity-chart] g.hour title', (ts) =>
      ts.map((t) => t.textContent ?? ''),
    );
    const busy = titles.filter((t) => t.includes('Issued: 2'));
    assert.equal(busy.length, 1, 'one hour holds the two issuances');
    assert.match(busy[0]!, /Refused by policy: 2/);
    assert.match(busy[0]!, /failInfo badAlg: 1/);
    assert.match(busy[0]!, /failInfo badRequest: 1/);
    assert.match((await page.textContent('[data-refusal="policy:badAlg"]'))!, /badAlg\s*1/);
    assert.match((await page.textContent('[data-refusal="policy:badRequest"]'))!, /badRequest\s*1/);
    assert.equal(await page.textContent('[data-stat=Issued]'), '2');
    assert.equal(await page.textContent('[data-stat=Revoked]'), '0');
  });

  let serial = '';

  it('ok/find-a-certificate-by-subject-and-open-it', async () => {
    await page.click('nav >> text=Certificates');
    await page.fill('input[type=search]', 'e2e-laptop-2');
    await page.selectOption('select[name=by]', 'subject');
    await page.click('form[role=search] button[type=submit]');
    await until(async () => (await page.locator('table.list tbody tr').count()) === 1, 'one search result');
    await page.click('table.list tbody tr a');
    await page.waitForSelector('.detail [data-field=serial]');
    serial = (await page.textContent('.detail [data-field=serial]'))!.trim();
    assert.match(serial, /^[0-9a-f]+$/);
    const pem = readFileSync(join(dir, 'e2e-laptop-2.cert.pem'), 'utf8');
    const fromFile = openssl(['x509', '-noout', '-serial'], Buffer.from(pem)).trim().split('=')[1]!;
    assert.equal(fromFile.toLowerCase().replace(/^0+/, ''), serial, 'the enrolled certificate');
    assert.match((await page.textContent('h1'))!, /CN=e2e-laptop-2/);
    assert.match((await page.textContent('table.extensions'))!, /Key Usage[\s\S]*digitalSignature/);
    const download = page.waitForEvent('download');
    await page.click('text=Download PEM');
    const file = await (await download).path();
    assert.match(readFileSync(file, 'utf8'), /^-----BEGIN CERTIFICATE-----/);
  });

  it('ok/revoke-with-a-reason-and-see-it-in-the-crl', async () => {
    await page.click('button:has-text("Revoke…")');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.locator('select#reason').selectOption('keyCompromise');
    await dialog.locator('button[type=submit]').click();
    await until(async () => (await page.textContent('.detail [data-field=status]')) === 'revoked', 'revoked');
    const crl = new Uint8Array(await (await fetch(`${server.url}/crl`)).arrayBuffer());
    const text = openssl(['crl', '-inform', 'DER', '-noout', '-text'], crl);
    const entry = text
      .split('Serial Number: ')
      .find((e) => e.toLowerCase().replace(/^0+/, '').startsWith(serial));
    assert.ok(entry, `serial ${serial} on the CRL:\n${text}`);
    assert.match(entry, /CRL Reason Code:\s+Key Compromise/);

    await page.click('nav >> text=Dashboard');
    await until(async () => (await page.textContent('[data-stat=Revoked]')) === '1', 'revoked count 1');
    await page.click('nav >> text=Audit');
    await page.fill('input[name=action]', 'revoke');
    await page.click('button:has-text("Filter")');
    await page.waitForSelector('table.list tbody tr[data-action=revoke]');
    assert.match((await page.textContent('table.list tbody tr[data-action=revoke]'))!, /admin:console/);
  });

  it('ok/approve-and-reject-pending-requests', async () => {
    // Two clients wait for manual approval, polling every second.
    const approved = enroll('e2e-manual-ok', { path: '/scep/manual' });
    const rejected = enroll('e2e-manual-no', { path: '/scep/manual' });
    await page.click('nav >> text=Requests');
    await page.click('button.chip:has-text("Pending")');
    const row = (cn: string) => page.locator('table.list tbody tr', { hasText: `CN=${cn}` });
    await until(
      async () => (await row('e2e-manual-ok').count()) === 1 && (await row('e2e-manual-no').count()) === 1,
      'both requests awaiting approval',
    );
    assert.match((await row('e2e-manual-ok').textContent())!, /awaiting approval/);
    await row('e2e-manual-ok').locator('button:has-text("Approve")').click();
    await until(
      async () => (await row('e2e-manual-ok').count()) === 0,
      'approved request leaves the pending list',
    );
    await row('e2e-manual-no').locator('button:has-text("Reject…")').click();
    const dialog = page.getByRole('dialog');
    await dialog.locator('#reject-reason').fill('unknown device');
    await dialog.locator('button[type=submit]').click();
    await until(
      async () => (await row('e2e-manual-no').count()) === 0,
      'rejected request leaves the pending list',
    );

    const ok = await approved;
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(readFileSync(join(dir, 'e2e-manual-ok.cert.pem'), 'utf8'), /BEGIN CERTIFICATE/);
    const no = await rejected;
    assert.notEqual(no.status, 0);
    assert.match(no.stderr, /badRequest/);
    await page.click('button.chip:has-text("Failures")');
    await until(async () => (await row('e2e-manual-no').count()) === 1, 'the rejection among the failures');
    assert.match((await row('e2e-manual-no').textContent())!, /rejected.*badRequest.*unknown device/);
  });

  it('ok/no-csp-violation-or-script-error', () => {
    // Only the deliberate failed sign-in (401) may show up.
    const unexpected = browserErrors.filter((e) => !/status of 401/.test(e));
    assert.deepEqual(unexpected, []);
  });
});
