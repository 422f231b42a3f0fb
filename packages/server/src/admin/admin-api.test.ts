import 'reflect-metadata';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import type { InjectOptions } from 'fastify';
import { adminFixture, ORIGIN, signIn } from '../testing/admin-fixture.js';
import type { AdminFixture, TestSession } from '../testing/admin-fixture.js';
import type { ActivityChart } from './activity.js';

const HOUR = 3_600_000;

describe('admin console API (real Authority, in-memory SQLite)', () => {
  let f: AdminFixture;
  let s: TestSession;
  /** Serials by CN. */
  const serials = new Map<string, string>();
  let hour0: number;

  before(async () => {
    f = await adminFixture();
    s = await signIn(f.server);
    hour0 = Math.floor(f.clock.ms / HOUR) * HOUR;
    // Two hours ago: two issued, one refused by policy (1024-bit key), one refused by Intune.
    f.clock.ms = hour0 - 2 * HOUR + 5 * 60_000;
    for (const cn of ['laptop-1', 'laptop-2']) {
      const r = await f.enroll({ cn });
      assert.equal(r.status, 'SUCCESS');
      if (r.status === 'SUCCESS') serials.set(cn, r.serial);
    }
    await assert.rejects(f.enroll({ cn: 'weak', weak: true }), { failInfo: 'badAlg' });
    await assert.rejects(f.enroll({ cn: 'phone-1', profile: 'intune' }), { failInfo: 'badRequest' });
    // This hour: one more issued, two waiting for approval.
    f.clock.ms = hour0 + 60_000;
    const r = await f.enroll({ cn: 'printer-7' });
    if (r.status === 'SUCCESS') serials.set('printer-7', r.serial);
    assert.equal(
      (await f.enroll({ cn: 'pending-1', profile: 'manual', transactionId: 'tx-pending-1' })).status,
      'PENDING',
    );
    assert.equal(
      (await f.enroll({ cn: 'pending-2', profile: 'manual', transactionId: 'tx-pending-2' })).status,
      'PENDING',
    );
    // Out-of-band records with SANs and a device id, for search (the store does not parse the DER).
    const der = (await f.store.getCertificate(serials.get('laptop-1')!))!.der;
    await f.store.issue({
      certificate: {
        serial: 'abc123def4567',
        der,
        subject: 'CN=kiosk-12,O=Example',
        sans: ['dns:kiosk-12.example.test', 'upn:kiosk@example.test'],
        notBefore: new Date(f.clock.ms - HOUR),
        notAfter: new Date(f.clock.ms + 10 * 86_400_000),
        profile: 'intune',
        deviceId: '7f3e2a10-aaaa-bbbb-cccc-000000000001',
      },
      audit: { actor: 'system', action: 'import' },
    });
  });
  after(() => f.close());

  const get = (url: string) => f.server.app.inject({ url, headers: { cookie: s.cookie } });
  const post = (url: string, payload: unknown, extra: Partial<InjectOptions> = {}) =>
    f.server.app.inject({
      method: 'POST',
      url,
      headers: { cookie: s.cookie, origin: ORIGIN, 'x-csrf-token': s.csrf },
      payload: payload as InjectOptions['payload'],
      ...extra,
    });

  it('ok/summary-counts-and-ca-certificates', async () => {
    const r = await get('/admin/api/summary');
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    const body = r.json();
    assert.deepEqual(body.counts, {
      issued: 4,
      revoked: 0,
      expiring30d: 1,
      pendingApproval: 2,
      pendingCapped: false,
    });
    assert.deepEqual(
      body.certificates.map((c: { role: string }) => c.role),
      ['CA', 'RA'],
    );
    assert.ok(body.certificates[0].daysLeft > 3000);
    assert.equal(body.intune, null);
    f.server.setDoctorResult({ ok: true, checkedAt: '2026-01-01T00:00:00Z', steps: [] });
    assert.equal((await get('/admin/api/summary')).json().intune.ok, true);
  });

  it('ok/chart-buckets-by-outcome', async () => {
    const r = await get('/admin/api/activity');
    assert.equal(r.statusCode, 200);
    const chart = r.json() as ActivityChart;
    assert.equal(chart.buckets.length, 168);
    assert.equal(chart.buckets.at(-1)!.hour, new Date(hour0).toISOString(), 'the last bucket is this hour');
    const twoAgo = chart.buckets.at(-3)!;
    assert.equal(twoAgo.hour, new Date(hour0 - 2 * HOUR).toISOString());
    assert.deepEqual(twoAgo.counts, { issued: 2, pending: 0, policy: 1, intune: 1, error: 0 });
    assert.deepEqual(
      twoAgo.refusals.sort((a, b) => a.series.localeCompare(b.series)),
      [
        { series: 'intune', label: 'ChallengeExpired', count: 1 },
        { series: 'policy', label: 'badAlg', count: 1 },
      ],
    );
    assert.deepEqual(chart.buckets.at(-1)!.counts, { issued: 1, pending: 2, policy: 0, intune: 0, error: 0 });
    assert.deepEqual(chart.totals, { issued: 3, pending: 2, policy: 1, intune: 1, error: 0 });
    const empty = chart.buckets.slice(0, -3).every((b) => Object.values(b.counts).every((n) => n === 0));
    assert.ok(empty, 'older hours are empty');
    assert.equal((await get('/admin/api/activity?hours=24')).json().buckets.length, 24);
  });

  it('ok/search-by-subject-san-serial-device', async () => {
    const find = async (query: string) => {
      const r = await get(`/admin/api/certificates?${query}`);
      assert.equal(r.statusCode, 200, `${query}: ${r.body}`);
      return (r.json().items as Array<{ subject: string; serial: string }>).map((c) => c.subject);
    };
    assert.deepEqual(await find('q=LAPTOP&by=subject'), ['CN=laptop-2', 'CN=laptop-1']);
    assert.deepEqual(await find('q=kiosk%40example&by=san'), ['CN=kiosk-12,O=Example']);
    assert.deepEqual(await find('q=7f3e2a10-aaaa-bbbb-cccc-000000000001&by=device'), [
      'CN=kiosk-12,O=Example',
    ]);
    assert.deepEqual(
      await find('q=00:AB:C1:23&by=serial'),
      ['CN=kiosk-12,O=Example'],
      'colons, case, leading zeros',
    );
    const printer = serials.get('printer-7')!;
    assert.deepEqual(await find(`q=${printer}`), ['CN=printer-7'], 'any field: the serial');
    assert.deepEqual(await find('q=kiosk-12.example'), ['CN=kiosk-12,O=Example'], 'any field: a SAN');
    assert.deepEqual(await find('q=no-such-thing'), []);
    const all = await get('/admin/api/certificates?limit=2');
    assert.equal(all.json().items.length, 2);
    assert.equal(all.json().more, true);
    const page2 = await get('/admin/api/certificates?limit=2&offset=2');
    assert.equal(page2.json().items.length, 2);
    assert.equal(page2.json().more, false);
    assert.deepEqual(await find('status=valid&expiringDays=30'), ['CN=kiosk-12,O=Example']);
  });

  it('ok/certificate-detail-decoded', async () => {
    const serial = serials.get('laptop-1')!;
    const r = await get(`/admin/api/certificates/${serial}`);
    assert.equal(r.statusCode, 200);
    const c = r.json();
    assert.equal(c.serial, serial);
    assert.equal(c.subject, 'CN=laptop-1');
    assert.equal(c.issuer, 'CN=scepkit admin test CA, O=scepkit');
    assert.equal(c.publicKey, 'RSASSA-PKCS1-v1_5 2048 bits');
    const names = c.extensions.map((e: { name: string }) => e.name);
    for (const n of [
      'Key Usage',
      'Extended Key Usage',
      'Subject Key Identifier',
      'Authority Key Identifier',
    ]) {
      assert.ok(names.includes(n), n);
    }
    const ku = c.extensions.find((e: { name: string }) => e.name === 'Key Usage');
    assert.equal(ku.critical, true);
    assert.match(ku.text, /digitalSignature/);
    assert.equal(c.chain.length, 1);
    assert.equal(c.chain[0].subject, 'CN=scepkit admin test CA, O=scepkit');
    assert.equal(c.transaction.state, 'issued');
    assert.equal(c.transaction.notified, false);
    assert.deepEqual(c.intune, { profile: false, validated: false, notified: false });
    assert.equal(c.audit[0].action, 'issue');
    assert.equal((await get('/admin/api/certificates/ffff0000')).statusCode, 404);
  });

  it('ok/pem-download', async () => {
    const serial = serials.get('laptop-2')!;
    const r = await get(`/admin/api/certificates/${serial}/pem`);
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-disposition'], `attachment; filename="${serial}.pem"`);
    assert.equal(r.headers['content-type'], 'application/x-pem-file');
    const cert = new X509Certificate(r.body);
    assert.equal(cert.serialNumber.toLowerCase().replace(/^0+/, ''), serial);
  });

  it('ok/revoke-shows-in-store-crl-and-audit', async () => {
    const serial = serials.get('printer-7')!;
    const r = await post(`/admin/api/certificates/${serial}/revoke`, { reason: 'keyCompromise' });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().result, 'revoked');
    const stored = await f.store.getCertificate(serial);
    assert.equal(stored?.status, 'revoked');
    assert.equal(stored?.revocationReason, 1);
    const crl = await f.server.app.inject({ url: '/crl' });
    assert.equal(crl.statusCode, 200);
    const parsed = new x509.X509Crl(crl.rawPayload);
    const entry = parsed.entries.find((e) => e.serialNumber.toLowerCase().replace(/^0+/, '') === serial);
    assert.ok(entry, 'the serial is on the CRL');
    assert.equal(entry.reason, x509.X509CrlReason.keyCompromise);
    const [event] = await f.store.queryAudit({ action: 'revoke', serial, limit: 1 });
    assert.equal(event?.actor, 'admin:console');
    assert.equal(event?.details['reason'], 1);
    assert.equal((await get('/admin/api/summary')).json().counts.revoked, 1);
    const again = await post(`/admin/api/certificates/${serial}/revoke`, { reason: 'superseded' });
    assert.equal(again.json().result, 'already-revoked');
    const missing = await post('/admin/api/certificates/ffff0001/revoke', { reason: 'superseded' });
    assert.equal(missing.statusCode, 404);
  });

  it('ok/requests-list-failures-approve-reject', async () => {
    const list = async (q: string) => {
      const r = await get(`/admin/api/requests${q}`);
      assert.equal(r.statusCode, 200, r.body);
      return r.json().items as Array<{
        transactionId: string;
        state: string;
        failInfo: string | null;
        reason: string | null;
        subject: string | null;
        awaitingApproval: boolean;
      }>;
    };
    const all = await list('');
    assert.equal(all.length, 7);
    const failures = await list('?state=failures');
    assert.deepEqual(failures.map((t) => [t.failInfo, t.reason]).sort(), [
      ['badAlg', 'RSA 1024-bit keys are not allowed'],
      ['badRequest', 'challenge refused: Intune: ChallengeExpired'],
    ]);
    const pending = await list('?state=pending');
    assert.deepEqual(pending.map((t) => [t.transactionId, t.subject, t.awaitingApproval]).sort(), [
      ['tx-pending-1', 'CN=pending-1', true],
      ['tx-pending-2', 'CN=pending-2', true],
    ]);
    const issued = await list('?state=issued');
    assert.ok(
      issued.some((t) => t.subject === 'CN=laptop-1'),
      'the subject of issued requests',
    );

    const approve = await post('/admin/api/requests/manual/tx-pending-1/approve', {});
    assert.equal(approve.statusCode, 200, approve.body);
    assert.equal(approve.json().state, 'approved');
    const reject = await post('/admin/api/requests/manual/tx-pending-2/reject', { reason: 'unknown device' });
    assert.equal(reject.json().state, 'rejected');
    const twice = await post('/admin/api/requests/manual/tx-pending-2/approve', {});
    assert.equal(twice.statusCode, 409);
    assert.equal((await post('/admin/api/requests/manual/tx-nope/approve', {})).statusCode, 404);
    const [approved] = await f.store.queryAudit({ action: 'approve', limit: 1 });
    assert.equal(approved?.actor, 'admin:console');
    const after = await list('?state=failures');
    const gone = after.find((t) => t.transactionId === 'tx-pending-2');
    assert.equal(gone?.state, 'rejected');
    assert.equal(gone?.subject, 'CN=pending-2', 'the subject of a rejected request (its CSR is gone)');
    const [rejected] = await f.store.queryAudit({ action: 'reject', limit: 1 });
    assert.equal(rejected?.details['reason'], 'unknown device');
  });

  it('ok/audit-filter-and-paging', async () => {
    const r = await get('/admin/api/audit?actor=scep&action=issue&limit=2');
    assert.equal(r.statusCode, 200);
    const page1 = r.json();
    assert.equal(page1.items.length, 2);
    assert.ok(
      page1.items.every((e: { actor: string; action: string }) => e.actor === 'scep' && e.action === 'issue'),
    );
    assert.ok(page1.next);
    const page2 = (await get(`/admin/api/audit?actor=scep&action=issue&limit=2&before=${page1.next}`)).json();
    assert.equal(page2.items.length, 1);
    assert.equal(page2.next, null);
    const ids = [...page1.items, ...page2.items].map((e: { id: number }) => e.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
      'newest first, no repeats',
    );
    const refusals = (await get('/admin/api/audit?action=refuse')).json().items;
    assert.equal(refusals.length, 2);
  });

  for (const [name, url] of [
    ['fail/search-limit-not-a-number', '/admin/api/certificates?limit=abc'],
    ['fail/search-limit-too-large', '/admin/api/certificates?limit=100000'],
    ['fail/search-unknown-field', '/admin/api/certificates?by=owner&q=x'],
    ['fail/search-serial-not-hex', '/admin/api/certificates?by=serial&q=xyz'],
    ['fail/search-unknown-parameter', '/admin/api/certificates?sql=1'],
    ['fail/detail-serial-not-hex', '/admin/api/certificates/not-a-serial'],
    ['fail/pem-serial-too-long', `/admin/api/certificates/${'a'.repeat(41)}/pem`],
    ['fail/activity-hours-zero', '/admin/api/activity?hours=0'],
    ['fail/requests-unknown-state', '/admin/api/requests?state=lost'],
    ['fail/audit-before-negative', '/admin/api/audit?before=-4'],
  ] as const) {
    it(name, async () => {
      const r = await get(url);
      assert.equal(r.statusCode, 400, r.body);
      const body = r.json();
      assert.equal(body.error, 'bad-request');
      assert.ok(body.message.length > 0);
    });
  }

  it('fail/bad-action-bodies-400', async () => {
    const serial = serials.get('laptop-1')!;
    for (const payload of [
      { reason: 'bogus' },
      {},
      { reason: 'removeFromCRL' },
      { reason: 'keyCompromise', x: 1 },
    ]) {
      const r = await post(`/admin/api/certificates/${serial}/revoke`, payload);
      assert.equal(r.statusCode, 400, JSON.stringify(payload));
      assert.equal(r.json().error, 'bad-request');
    }
    const notJson = await post(`/admin/api/certificates/${serial}/revoke`, 'reason=keyCompromise', {
      headers: {
        cookie: s.cookie,
        origin: ORIGIN,
        'x-csrf-token': s.csrf,
        'content-type': 'application/x-www-form-urlencoded',
      },
    });
    assert.equal(notJson.statusCode, 415);
    assert.equal(notJson.json().error, 'bad-request');
    const badJson = await post(`/admin/api/certificates/${serial}/revoke`, '{"reason":', {
      headers: {
        cookie: s.cookie,
        origin: ORIGIN,
        'x-csrf-token': s.csrf,
        'content-type': 'application/json',
      },
    });
    assert.equal(badJson.statusCode, 400);
    const longReason = await post('/admin/api/requests/manual/tx-pending-1/reject', {
      reason: 'x'.repeat(500),
    });
    assert.equal(longReason.statusCode, 400);
    assert.equal((await f.store.getCertificate(serial))?.status, 'valid');
    assert.equal((await get('/admin/api/nothing-here')).statusCode, 404);
  });
});

describe('admin console API: Intune notification status', () => {
  let f: AdminFixture;
  before(async () => {
    f = await adminFixture();
  });
  after(() => f.close());

  it('ok/certificate-detail-intune-validated-and-notified', async () => {
    const s = await signIn(f.server);
    const r = await f.enroll({ cn: 'intune-device', profile: 'intune-ok' });
    assert.equal(r.status, 'SUCCESS');
    if (r.status !== 'SUCCESS') return;
    const c = (
      await f.server.app.inject({ url: `/admin/api/certificates/${r.serial}`, headers: { cookie: s.cookie } })
    ).json();
    assert.deepEqual(c.intune, { profile: true, validated: true, notified: true });
    assert.equal(c.transaction.notified, true);
  });
});
