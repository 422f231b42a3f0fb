import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TransactionStateError } from '../errors.js';
import { fresh, makeCert } from './harness.js';
import type { StoreFactory } from './harness.js';

const key = (id: string, profile = 'intune') => ({ transactionId: id, profile });

export function transactionTests(factory: StoreFactory): void {
  describe('transactions', () => {
    test('ok/begin-creates-then-returns-existing', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const csr = new Uint8Array([0x30, 0x03, 1, 2, 3]);
      const first = await store.beginTransaction(
        { ...key('t1'), requestHash: 'h1', csr },
        { actor: 'scep', action: 'request' },
      );
      assert.equal(first.created, true);
      assert.deepEqual(first.transaction, {
        transactionId: 't1',
        profile: 'intune',
        requestHash: 'h1',
        state: 'pending',
        serial: null,
        failInfo: null,
        reason: null,
        csr,
        notified: false,
        createdAt: clock.now(),
        updatedAt: clock.now(),
      });
      clock.advance(1000);
      const again = await store.beginTransaction(
        { ...key('t1'), requestHash: 'other' },
        { actor: 'scep', action: 'request' },
      );
      assert.equal(again.created, false);
      assert.deepEqual(again.transaction, first.transaction, 'existing record unchanged');
      assert.equal((await store.queryAudit({ action: 'request' })).length, 1, 'audit only for the creator');
      const otherProfile = await store.beginTransaction({ ...key('t1', 'wifi'), requestHash: 'h2' });
      assert.equal(otherProfile.created, true, 'key is transactionId + profile');
      assert.equal(await store.getTransaction(key('t2')), null);
    });

    test('ok/approve-then-fail', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const csr = new Uint8Array([7, 7]);
      await store.beginTransaction({ ...key('t1'), requestHash: 'h', csr });
      clock.advance(500);
      const approved = await store.updateTransaction(
        key('t1'),
        { state: 'approved' },
        { actor: 'admin:bob', action: 'approve' },
      );
      assert.equal(approved.state, 'approved');
      assert.deepEqual(approved.csr, csr, 'CSR kept while approved');
      assert.deepEqual(approved.updatedAt, clock.now());
      const failed = await store.updateTransaction(key('t1'), {
        state: 'failed',
        failInfo: 'badCertId',
        reason: 'signer error',
      });
      assert.equal(failed.state, 'failed');
      assert.equal(failed.failInfo, 'badCertId');
      assert.equal(failed.reason, 'signer error');
      assert.equal(failed.csr, null);
      const [event] = await store.queryAudit({ action: 'approve' });
      assert.equal(event?.transactionId, 't1');
      assert.equal(event?.actor, 'admin:bob');
    });

    test('ok/reject-pending', async (t) => {
      const { store } = await fresh(t, factory);
      await store.beginTransaction({ ...key('t1'), requestHash: 'h' });
      const r = await store.updateTransaction(key('t1'), {
        state: 'rejected',
        failInfo: 'badRequest',
        reason: 'challenge',
      });
      assert.equal(r.state, 'rejected');
      assert.equal(r.failInfo, 'badRequest');
    });

    test('fail/invalid-transitions', async (t) => {
      const { store, clock } = await fresh(t, factory);
      await store.beginTransaction({ ...key('t1'), requestHash: 'h' });
      await store.issue({
        certificate: makeCert(clock),
        transaction: key('t1'),
        audit: { actor: 'scep', action: 'issue' },
      });
      for (const update of [
        { state: 'failed' as const },
        { state: 'rejected' as const },
        { state: 'approved' as const },
      ]) {
        await assert.rejects(
          store.updateTransaction(key('t1'), update, { actor: 'x', action: 'change' }),
          (err: unknown) =>
            err instanceof TransactionStateError &&
            err.code === 'invalid-transition' &&
            err.state === 'issued',
        );
      }
      assert.equal((await store.queryAudit({ action: 'change' })).length, 0, 'no audit for refused changes');
      await store.beginTransaction({ ...key('t2'), requestHash: 'h' });
      await store.updateTransaction(key('t2'), { state: 'approved' });
      await assert.rejects(store.updateTransaction(key('t2'), { state: 'approved' }), TransactionStateError);
      await assert.rejects(
        store.updateTransaction(key('missing'), { state: 'failed' }),
        (err: unknown) => err instanceof TransactionStateError && err.code === 'transaction-not-found',
      );
      assert.equal((await store.getTransaction(key('t2')))?.state, 'approved');
    });

    test('ok/list-and-notified', async (t) => {
      const { store, clock } = await fresh(t, factory);
      for (const id of ['a', 'b', 'c']) {
        await store.beginTransaction({ ...key(id), requestHash: id });
        clock.advance(10);
      }
      await store.updateTransaction(key('b'), { state: 'rejected' });
      const ids = async (q: Parameters<typeof store.listTransactions>[0]) =>
        (await store.listTransactions(q)).map((r) => r.transactionId);
      assert.deepEqual(await ids({}), ['c', 'b', 'a']);
      assert.deepEqual(await ids({ state: 'pending' }), ['c', 'a']);
      assert.deepEqual(await ids({ state: 'pending', limit: 1, offset: 1 }), ['a']);
      assert.deepEqual(await ids({ profile: 'wifi' }), []);
      assert.equal(await store.markTransactionNotified(key('a')), true);
      assert.equal((await store.getTransaction(key('a')))?.notified, true);
      assert.equal((await store.getTransaction(key('c')))?.notified, false);
      assert.equal(await store.markTransactionNotified(key('zzz')), false);
    });
  });
}
