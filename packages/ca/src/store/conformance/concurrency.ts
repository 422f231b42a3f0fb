import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DuplicateSerialError, TransactionStateError } from '../errors.js';
import type { CertificateStore } from '../types.js';
import { fresh, makeCert, randomSerial, settle } from './harness.js';
import type { StoreFactory } from './harness.js';

const audit = { actor: 'scep', action: 'issue' };

export function concurrencyTests(factory: StoreFactory): void {
  describe('concurrency (two store instances on one database)', () => {
    test('ok/300-parallel-issues-with-forced-duplicates', async (t) => {
      const { store, clock, second } = await fresh(t, factory);
      const nodes: CertificateStore[] = [store, await second()];
      const serials = Array.from({ length: 300 }, () => randomSerial());
      // Every 10th serial is issued twice more, on both nodes: exactly one of the three attempts may win.
      const attempts = [...serials, ...serials.filter((_, i) => i % 10 === 0).flatMap((s) => [s, s])];
      const { ok, errors } = await settle(
        attempts.map((serial, i) =>
          (nodes[i % 2] as CertificateStore).issue({ certificate: makeCert(clock, { serial }), audit }),
        ),
      );
      assert.equal(ok.length, 300);
      assert.equal(errors.length, 60);
      for (const err of errors) assert.ok(err instanceof DuplicateSerialError, String(err));
      assert.deepEqual(new Set(ok.map((c) => c.serial)), new Set(serials));
      const counts = await store.countCertificates({ expiringWithinDays: 1 });
      assert.equal(counts.issued, 300, 'no duplicate rows');
      assert.equal(
        (await store.queryAudit({ action: 'issue', limit: 1000 })).length,
        300,
        'one audit event per issuance',
      );
    });

    test('ok/concurrent-begin-transaction-one-creator', async (t) => {
      const { store, second } = await fresh(t, factory);
      const other = await second();
      const { ok } = await settle(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? other : store).beginTransaction({
            transactionId: 'same',
            profile: 'p',
            requestHash: `h${i}`,
          }),
        ),
      );
      assert.equal(ok.length, 20);
      const creators = ok.filter((r) => r.created);
      assert.equal(creators.length, 1);
      for (const r of ok) assert.equal(r.transaction.requestHash, creators[0]?.transaction.requestHash);
    });

    test('ok/concurrent-issue-for-one-transaction-issues-once', async (t) => {
      const { store, clock, second } = await fresh(t, factory);
      const other = await second();
      const key = { transactionId: 't', profile: 'p' };
      await store.beginTransaction({ ...key, requestHash: 'h' });
      const { ok, errors } = await settle(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? other : store).issue({ certificate: makeCert(clock), transaction: key, audit }),
        ),
      );
      assert.equal(ok.length, 1);
      for (const err of errors) assert.ok(err instanceof TransactionStateError && err.state === 'issued');
      assert.equal((await store.countCertificates({ expiringWithinDays: 1 })).issued, 1);
      assert.equal((await store.getTransaction(key))?.serial, ok[0]?.serial);
    });

    test('ok/outbox-claims-never-overlap', async (t) => {
      const { store, second } = await fresh(t, factory);
      const other = await second();
      const ids = [];
      for (let i = 0; i < 60; i++) ids.push((await store.enqueueOutbox({ kind: 'k', payload: { i } })).id);
      const claimedBy = new Map<number, string>();
      const worker = async (node: CertificateStore, owner: string) => {
        for (;;) {
          const items = await node.claimOutbox({ owner, limit: 4, leaseMs: 60_000 });
          if (items.length === 0) return;
          for (const item of items) {
            assert.equal(claimedBy.has(item.id), false, `item ${item.id} claimed twice`);
            claimedBy.set(item.id, owner);
          }
        }
      };
      await Promise.all([worker(store, 'n1'), worker(other, 'n2'), worker(store, 'n3'), worker(other, 'n4')]);
      assert.deepEqual(
        [...claimedBy.keys()].sort((a, b) => a - b),
        ids,
      );
    });

    test('ok/challenge-consumed-exactly-once', async (t) => {
      const { store, clock, second } = await fresh(t, factory);
      const other = await second();
      const { password } = await store.mintChallenge({ expiresAt: new Date(clock.ms + 60_000) });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? other : store).consumeChallenge(password)),
      );
      assert.equal(results.filter((r) => r === 'ok').length, 1);
      assert.equal(results.filter((r) => r === 'used').length, 19);
    });

    test('ok/crl-numbers-strictly-increasing', async (t) => {
      const { store, second } = await fresh(t, factory);
      const other = await second();
      const numbers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? other : store).nextCrlNumber()),
      );
      const sorted = [...numbers].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      assert.deepEqual(
        sorted,
        Array.from({ length: 50 }, (_, i) => BigInt(i + 1)),
        'distinct, no gaps',
      );
      assert.equal(await store.nextCrlNumber(), 51n);
    });

    test('ok/concurrent-revoke-once', async (t) => {
      const { store, clock, second } = await fresh(t, factory);
      const other = await second();
      const cert = await store.issue({ certificate: makeCert(clock), audit });
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? other : store).revoke(cert.serial, 1, clock.now(), { actor: 'admin:x', action: 'revoke' }),
        ),
      );
      assert.equal(results.filter((r) => r === 'revoked').length, 1);
      assert.equal(results.filter((r) => r === 'already-revoked').length, 9);
      assert.equal((await store.queryAudit({ action: 'revoke' })).length, 1);
    });

    test('ok/intune-revocation-recorded-once', async (t) => {
      const { store, clock, second } = await fresh(t, factory);
      const other = await second();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? other : store).recordIntuneRevocation({
            requestContext: 'c',
            serial: null,
            result: 'ok',
            processedAt: clock.now(),
          }),
        ),
      );
      assert.equal(results.filter((r) => r === 'recorded').length, 1);
    });
  });
}
