import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StoreError } from '../errors.js';
import { fresh } from './harness.js';
import type { StoreFactory } from './harness.js';

export function outboxTests(factory: StoreFactory): void {
  describe('outbox', () => {
    test('ok/enqueue-claim-complete', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const a = await store.enqueueOutbox({ kind: 'intune-success', payload: { transactionId: 't1', n: 1 } });
      const b = await store.enqueueOutbox({ kind: 'intune-failure', payload: {} });
      const later = await store.enqueueOutbox({
        kind: 'x',
        payload: {},
        notBefore: new Date(clock.ms + 60_000),
      });
      assert.deepEqual(a, {
        id: a.id,
        kind: 'intune-success',
        payload: { transactionId: 't1', n: 1 },
        dedupeKey: null,
        attempts: 0,
        nextAttemptAt: clock.now(),
        lastError: null,
        done: false,
        leaseOwner: null,
        leaseExpiresAt: null,
        createdAt: clock.now(),
      });
      const claimed = await store.claimOutbox({ owner: 'n1', limit: 10, leaseMs: 30_000 });
      assert.deepEqual(
        claimed.map((i) => i.id),
        [a.id, b.id],
        'only due items, oldest first',
      );
      assert.equal(claimed[0]?.attempts, 1);
      assert.equal(claimed[0]?.leaseOwner, 'n1');
      assert.deepEqual(claimed[0]?.leaseExpiresAt, new Date(clock.ms + 30_000));
      assert.deepEqual(
        await store.claimOutbox({ owner: 'n2', limit: 10, leaseMs: 30_000 }),
        [],
        'leased items are not claimable',
      );
      assert.equal(await store.completeOutbox(a.id, 'n2'), false, 'only the lease owner completes');
      assert.equal(await store.completeOutbox(a.id, 'n1'), true);
      assert.equal(await store.completeOutbox(a.id, 'n1'), false, 'already done');
      const done = await store.getOutboxItem(a.id);
      assert.equal(done?.done, true);
      assert.equal(done?.leaseOwner, null);
      assert.equal(await store.getOutboxItem(999_999), null);
      clock.advance(60_000);
      // b's 30 s lease has expired: it is due again, together with the delayed item.
      assert.deepEqual(
        (await store.claimOutbox({ owner: 'n2', limit: 10, leaseMs: 1000 })).map((i) => i.id),
        [b.id, later.id],
      );
    });

    test('ok/reschedule-with-backoff', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const item = await store.enqueueOutbox({ kind: 'k', payload: {} });
      await store.claimOutbox({ owner: 'n1', limit: 1, leaseMs: 10_000 });
      const retryAt = new Date(clock.ms + 5000);
      assert.equal(
        await store.rescheduleOutbox(item.id, 'n2', { error: 'nope', nextAttemptAt: retryAt }),
        false,
      );
      assert.equal(
        await store.rescheduleOutbox(item.id, 'n1', { error: 'HTTP 503', nextAttemptAt: retryAt }),
        true,
      );
      const r = await store.getOutboxItem(item.id);
      assert.equal(r?.lastError, 'HTTP 503');
      assert.deepEqual(r?.nextAttemptAt, retryAt);
      assert.equal(r?.leaseOwner, null);
      assert.equal(r?.done, false);
      assert.deepEqual(
        await store.claimOutbox({ owner: 'n1', limit: 1, leaseMs: 10_000 }),
        [],
        'not due yet',
      );
      clock.advance(5000);
      const [again] = await store.claimOutbox({ owner: 'n2', limit: 1, leaseMs: 10_000 });
      assert.equal(again?.attempts, 2);
      assert.equal(await store.completeOutbox(item.id, 'n2', 'gave up after 2 attempts'), true);
      const dead = await store.getOutboxItem(item.id);
      assert.equal(dead?.done, true);
      assert.equal(dead?.lastError, 'gave up after 2 attempts');
    });

    test('ok/expired-lease-is-reclaimed', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const item = await store.enqueueOutbox({ kind: 'k', payload: {} });
      await store.claimOutbox({ owner: 'n1', limit: 1, leaseMs: 1000 });
      clock.advance(999);
      assert.deepEqual(await store.claimOutbox({ owner: 'n2', limit: 1, leaseMs: 1000 }), []);
      clock.advance(1);
      const [taken] = await store.claimOutbox({ owner: 'n2', limit: 1, leaseMs: 1000 });
      assert.equal(taken?.id, item.id);
      assert.equal(taken?.leaseOwner, 'n2');
      assert.equal(await store.completeOutbox(item.id, 'n1'), false, 'the old owner lost its lease');
      assert.equal(await store.completeOutbox(item.id, 'n2'), true);
    });

    test('ok/purge-done-items-only', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const done = await store.enqueueOutbox({ kind: 'k', payload: {} });
      const pending = await store.enqueueOutbox({ kind: 'k', payload: {} });
      await store.claimOutbox({ owner: 'n1', limit: 1, leaseMs: 1000 });
      await store.completeOutbox(done.id, 'n1');
      clock.advance(1000);
      const recent = await store.enqueueOutbox({ kind: 'k', payload: {} });
      await store.claimOutbox({ owner: 'n1', limit: 5, leaseMs: 1000 });
      await store.completeOutbox(recent.id, 'n1');
      assert.equal(await store.purgeOutbox(clock.now()), 1);
      assert.equal(await store.getOutboxItem(done.id), null);
      assert.notEqual(await store.getOutboxItem(pending.id), null, 'not done: kept');
      assert.notEqual(await store.getOutboxItem(recent.id), null, 'too recent: kept');
    });

    for (const [limit, leaseMs] of [
      [0, 1000],
      [1.5, 1000],
      [1001, 1000],
      [1, 0],
      [1, Number.NaN],
    ] as const) {
      test(`fail/claim-invalid-${limit}-${leaseMs}`, async (t) => {
        const { store } = await fresh(t, factory);
        await store.enqueueOutbox({ kind: 'k', payload: {} });
        await assert.rejects(
          store.claimOutbox({ owner: 'n1', limit, leaseMs }),
          (err: unknown) => err instanceof StoreError && err.code === 'invalid-input',
        );
      });
    }

    test('ok/dedupe-key', async (t) => {
      const { store } = await fresh(t, factory);
      const first = await store.enqueueOutbox({ kind: 'k', payload: { v: 1 }, dedupeKey: 'tx:1' });
      const second = await store.enqueueOutbox({ kind: 'k', payload: { v: 2 }, dedupeKey: 'tx:1' });
      assert.deepEqual(second, first);
      const third = await store.enqueueOutbox({ kind: 'k', payload: {}, dedupeKey: 'tx:2' });
      assert.notEqual(third.id, first.id);
    });
  });
}
