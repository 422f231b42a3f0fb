import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { DuplicateSerialError, StoreError, TransactionStateError } from '../errors.js';
import { DAY_MS, fresh, makeCert, randomSerial } from './harness.js';
import type { StoreFactory } from './harness.js';

const tx = (id: string) => ({ transactionId: id, profile: 'intune' });
const audit = { actor: 'scep', action: 'issue' };

export function certificateTests(factory: StoreFactory): void {
  describe('certificates', () => {
    test('ok/issue-and-get-round-trip', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const input = makeCert(clock, { sans: ['dns:a.example', 'upn:u@example.com'], deviceId: 'dev-1' });
      const issued = await store.issue({ certificate: input, audit });
      const got = await store.getCertificate(input.serial);
      assert.deepEqual(got, issued);
      assert.equal(issued.serial, input.serial);
      assert.deepEqual(issued.der, input.der);
      assert.deepEqual(issued.sans, ['dns:a.example', 'upn:u@example.com']);
      assert.deepEqual(issued.notBefore, input.notBefore);
      assert.deepEqual(issued.notAfter, input.notAfter);
      assert.equal(issued.thumbprint, createHash('sha1').update(input.der).digest('hex'));
      assert.equal(issued.status, 'valid');
      assert.equal(issued.revokedAt, null);
      assert.equal(issued.revocationReason, null);
      assert.equal(issued.transactionId, null);
      assert.equal(issued.deviceId, 'dev-1');
      assert.deepEqual(issued.createdAt, clock.now());
      assert.deepEqual(await store.getCertificateByThumbprint(issued.thumbprint), issued);
      assert.deepEqual(await store.getCertificateByThumbprint(issued.thumbprint.toUpperCase()), issued);
      assert.equal(await store.getCertificate(randomSerial()), null);
      assert.equal(await store.getCertificateByThumbprint('00'.repeat(20)), null);
      const events = await store.queryAudit({ serial: input.serial });
      assert.equal(events.length, 1);
      assert.equal(events[0]?.action, 'issue');
    });

    test('ok/issue-without-sans', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const issued = await store.issue({ certificate: makeCert(clock, { sans: [] }), audit });
      assert.deepEqual(issued.sans, []);
    });

    test('ok/issue-completes-transaction', async (t) => {
      const { store, clock } = await fresh(t, factory);
      await store.beginTransaction({ ...tx('t1'), requestHash: 'aa', csr: new Uint8Array([1, 2, 3]) });
      const cert = makeCert(clock);
      clock.advance(1000);
      const issued = await store.issue({
        certificate: cert,
        transaction: tx('t1'),
        audit: { ...audit, transactionId: 't1' },
      });
      assert.equal(issued.transactionId, 't1');
      const record = await store.getTransaction(tx('t1'));
      assert.equal(record?.state, 'issued');
      assert.equal(record?.serial, cert.serial);
      assert.equal(record?.csr, null, 'CSR is cleared once final');
      assert.deepEqual(record?.updatedAt, clock.now());
      const [event] = await store.queryAudit({ transactionId: 't1' });
      assert.equal(event?.serial, cert.serial);
    });

    test('ok/issue-approved-transaction', async (t) => {
      const { store, clock } = await fresh(t, factory);
      await store.beginTransaction({ ...tx('t1'), requestHash: 'aa' });
      await store.updateTransaction(tx('t1'), { state: 'approved' });
      await store.issue({ certificate: makeCert(clock), transaction: tx('t1'), audit });
      assert.equal((await store.getTransaction(tx('t1')))?.state, 'issued');
    });

    test('fail/issue-duplicate-serial-changes-nothing', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const first = await store.issue({ certificate: makeCert(clock), audit });
      await store.beginTransaction({ ...tx('t2'), requestHash: 'bb' });
      const dup = makeCert(clock, { serial: first.serial, subject: 'CN=other' });
      await assert.rejects(
        store.issue({ certificate: dup, transaction: tx('t2'), audit }),
        (err: unknown) =>
          err instanceof DuplicateSerialError &&
          err.code === 'duplicate-serial' &&
          err.serial === first.serial,
      );
      assert.deepEqual(await store.getCertificate(first.serial), first);
      assert.equal((await store.getTransaction(tx('t2')))?.state, 'pending');
      assert.equal((await store.queryAudit({})).length, 1);
    });

    for (const serial of ['', '00ab', 'ABCD', 'xyz', '1'.repeat(41), '-1']) {
      test(`fail/issue-invalid-serial-${JSON.stringify(serial)}`, async (t) => {
        const { store, clock } = await fresh(t, factory);
        await assert.rejects(
          store.issue({ certificate: makeCert(clock, { serial }), audit }),
          (err: unknown) => err instanceof StoreError && err.code === 'invalid-input',
        );
      });
    }

    test('fail/issue-san-with-newline', async (t) => {
      const { store, clock } = await fresh(t, factory);
      await assert.rejects(
        store.issue({ certificate: makeCert(clock, { sans: ['dns:a\ndns:b'] }), audit }),
        (err: unknown) => err instanceof StoreError && err.code === 'invalid-input',
      );
    });

    test('ok/out-of-band-transaction-id-and-search', async (t) => {
      const { store, clock } = await fresh(t, factory);
      await store.beginTransaction({ ...tx('t1'), requestHash: 'aa' });
      const first = await store.issue({ certificate: makeCert(clock), transaction: tx('t1'), audit });
      const oob = await store.issue({ certificate: makeCert(clock, { transactionId: 't1' }), audit });
      const another = await store.issue({
        certificate: makeCert(clock, { transactionId: 'other' }),
        transaction: undefined,
        audit,
      });
      assert.equal(oob.transactionId, 't1', 'recorded without touching the transaction');
      assert.equal((await store.getTransaction(tx('t1')))?.serial, first.serial);
      const found = await store.searchCertificates({ transactionId: 't1' });
      assert.deepEqual(new Set(found.map((c) => c.serial)), new Set([first.serial, oob.serial]));
      assert.deepEqual(
        (await store.searchCertificates({ transactionId: 'other' })).map((c) => c.serial),
        [another.serial],
      );
    });

    test('ok/search-filters-order-and-paging', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const a = makeCert(clock, {
        serial: 'a1',
        subject: 'CN=Laptop-1,O=Acme',
        sans: ['dns:laptop1.acme.test', 'upn:alice@acme.test'],
        deviceId: 'd-a',
      });
      const b = makeCert(clock, {
        serial: 'a2',
        subject: 'CN=phone-2,O=Acme',
        sans: ['email:bob@acme.test'],
        profile: 'wifi',
      });
      const c = makeCert(clock, {
        serial: 'b3',
        subject: 'CN=100%_done',
        sans: [],
        notAfter: new Date(clock.ms + 5 * DAY_MS),
      });
      for (const cert of [a, b, c]) {
        await store.issue({ certificate: cert, audit });
        clock.advance(1000);
      }
      await store.revoke('a2', 1, clock.now());
      const serials = async (q: Parameters<typeof store.searchCertificates>[0]) =>
        (await store.searchCertificates(q)).map((r) => r.serial);
      assert.deepEqual(await serials({}), ['b3', 'a2', 'a1'], 'newest first');
      assert.deepEqual(await serials({ subject: 'laptop' }), ['a1'], 'case-insensitive subject');
      assert.deepEqual(await serials({ subject: 'O=ACME' }), ['a2', 'a1']);
      assert.deepEqual(await serials({ san: 'ALICE@' }), ['a1']);
      assert.deepEqual(await serials({ san: 'email:' }), ['a2']);
      assert.deepEqual(await serials({ serialPrefix: 'a' }), ['a2', 'a1']);
      assert.deepEqual(await serials({ status: 'revoked' }), ['a2']);
      assert.deepEqual(await serials({ status: 'valid' }), ['b3', 'a1']);
      assert.deepEqual(await serials({ expiringBefore: new Date(clock.ms + 30 * DAY_MS) }), ['b3']);
      assert.deepEqual(await serials({ profile: 'wifi' }), ['a2']);
      assert.deepEqual(await serials({ deviceId: 'd-a' }), ['a1']);
      assert.deepEqual(await serials({ subject: 'acme', san: 'bob' }), ['a2'], 'filters combine');
      assert.deepEqual(await serials({ subject: '%' }), ['b3'], 'LIKE wildcards are literal');
      assert.deepEqual(await serials({ subject: '_' }), ['b3']);
      assert.deepEqual(await serials({ limit: 2 }), ['b3', 'a2']);
      assert.deepEqual(await serials({ limit: 2, offset: 2 }), ['a1']);
      await assert.rejects(store.searchCertificates({ serialPrefix: "a' OR 1=1" }), StoreError);
      await assert.rejects(store.searchCertificates({ limit: 0 }), StoreError);
    });

    test('ok/counts', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const soon = new Date(clock.ms + 10 * DAY_MS);
      await store.issue({ certificate: makeCert(clock, { notAfter: soon }), audit });
      await store.issue({ certificate: makeCert(clock, { notAfter: soon, serial: 'c2' }), audit });
      await store.issue({ certificate: makeCert(clock), audit });
      await store.issue({ certificate: makeCert(clock, { notAfter: new Date(clock.ms - DAY_MS) }), audit });
      await store.revoke('c2', 0, clock.now());
      assert.deepEqual(await store.countCertificates({ expiringWithinDays: 30 }), {
        issued: 4,
        revoked: 1,
        expiring: 1,
      });
      assert.deepEqual(await store.countCertificates({ expiringWithinDays: 5 }), {
        issued: 4,
        revoked: 1,
        expiring: 0,
      });
      assert.deepEqual(
        await store.countCertificates({ expiringWithinDays: 1, now: new Date(clock.ms + 9.5 * DAY_MS) }),
        { issued: 4, revoked: 1, expiring: 1 },
      );
    });
  });

  describe('issue atomicity', () => {
    test('fail/issue-for-final-transaction-rolls-back-certificate', async (t) => {
      const { store, clock } = await fresh(t, factory);
      await store.beginTransaction({ ...tx('t1'), requestHash: 'aa' });
      await store.updateTransaction(tx('t1'), {
        state: 'rejected',
        failInfo: 'badRequest',
        reason: 'policy',
      });
      const cert = makeCert(clock);
      await assert.rejects(
        store.issue({ certificate: cert, transaction: tx('t1'), audit }),
        (err: unknown) =>
          err instanceof TransactionStateError &&
          err.code === 'invalid-transition' &&
          err.state === 'rejected',
      );
      assert.equal(await store.getCertificate(cert.serial), null, 'certificate insert rolled back');
      const record = await store.getTransaction(tx('t1'));
      assert.equal(record?.state, 'rejected');
      assert.equal(record?.serial, null);
      assert.equal((await store.queryAudit({ action: 'issue' })).length, 0);
    });

    test('fail/issue-for-missing-transaction-rolls-back-certificate', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const cert = makeCert(clock);
      await assert.rejects(
        store.issue({ certificate: cert, transaction: tx('nope'), audit }),
        (err: unknown) => err instanceof TransactionStateError && err.code === 'transaction-not-found',
      );
      assert.equal(await store.getCertificate(cert.serial), null);
      assert.deepEqual(await store.countCertificates({ expiringWithinDays: 1 }), {
        issued: 0,
        revoked: 0,
        expiring: 0,
      });
    });

    test('fail/issue-audit-insert-fails-rolls-back-everything', async (t) => {
      // The audit insert is the last step; an empty action violates a database CHECK constraint.
      const { store, clock } = await fresh(t, factory);
      await store.beginTransaction({ ...tx('t1'), requestHash: 'aa', csr: new Uint8Array([9]) });
      const cert = makeCert(clock);
      await assert.rejects(
        store.issue({ certificate: cert, transaction: tx('t1'), audit: { actor: 'scep', action: '' } }),
        StoreError,
      );
      assert.equal(await store.getCertificate(cert.serial), null);
      const record = await store.getTransaction(tx('t1'));
      assert.equal(record?.state, 'pending');
      assert.equal(record?.serial, null);
      assert.deepEqual(record?.csr, new Uint8Array([9]), 'CSR still kept');
      // The serial is free again: a retry succeeds.
      await store.issue({ certificate: cert, transaction: tx('t1'), audit });
      assert.equal((await store.getTransaction(tx('t1')))?.state, 'issued');
    });
  });
}
