import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StoreError } from '../errors.js';
import { fresh } from './harness.js';
import type { StoreFactory } from './harness.js';

export function recordTests(factory: StoreFactory): void {
  describe('audit log', () => {
    test('ok/append-and-query', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const t0 = clock.now();
      const e1 = await store.appendAudit({
        actor: 'scep',
        action: 'issue',
        serial: 'ab',
        subject: 'CN=x',
        details: { a: 1, nested: { b: [true, null] } },
      });
      clock.advance(1000);
      const e2 = await store.appendAudit({ actor: 'admin:alice', action: 'revoke', transactionId: 't1' });
      clock.advance(1000);
      const e3 = await store.appendAudit({
        actor: 'scep',
        action: 'reject',
        time: new Date(t0.getTime() + 5000),
      });
      assert.ok(e1.id < e2.id && e2.id < e3.id, 'ids increase');
      assert.deepEqual(e1, {
        id: e1.id,
        time: t0,
        actor: 'scep',
        action: 'issue',
        transactionId: null,
        serial: 'ab',
        subject: 'CN=x',
        details: { a: 1, nested: { b: [true, null] } },
      });
      assert.deepEqual(e2.details, {});
      const ids = async (q: Parameters<typeof store.queryAudit>[0]) =>
        (await store.queryAudit(q)).map((e) => e.id);
      assert.deepEqual(await ids({}), [e3.id, e2.id, e1.id], 'newest first');
      assert.deepEqual(await ids({ actor: 'scep' }), [e3.id, e1.id]);
      assert.deepEqual(await ids({ action: 'revoke' }), [e2.id]);
      assert.deepEqual(await ids({ transactionId: 't1' }), [e2.id]);
      assert.deepEqual(
        await ids({ from: new Date(t0.getTime() + 1000) }),
        [e3.id, e2.id],
        'from is inclusive',
      );
      assert.deepEqual(await ids({ to: new Date(t0.getTime() + 1000) }), [e1.id], 'to is exclusive');
      assert.deepEqual(await ids({ limit: 1 }), [e3.id]);
    });

    test('fail/details-not-serialisable', async (t) => {
      const { store } = await fresh(t, factory);
      await assert.rejects(
        store.appendAudit({ actor: 'scep', action: 'x', details: { n: 1n } }),
        (err: unknown) => err instanceof StoreError && err.code === 'invalid-input',
      );
      assert.equal((await store.queryAudit({})).length, 0);
    });
  });

  describe('challenges', () => {
    test('ok/mint-and-consume-once', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const minted = await store.mintChallenge({ expiresAt: new Date(clock.ms + 60_000) });
      assert.match(minted.password, /^[0-9a-f]{40}$/);
      const other = await store.mintChallenge({ expiresAt: new Date(clock.ms + 60_000) });
      assert.notEqual(other.password, minted.password);
      assert.equal(await store.consumeChallenge('wrong'), 'not-found');
      assert.equal(await store.consumeChallenge(minted.password), 'ok');
      assert.equal(await store.consumeChallenge(minted.password), 'used');
      assert.equal(await store.consumeChallenge(other.password), 'ok');
    });

    test('ok/expiry-and-purge', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const { password } = await store.mintChallenge({
        password: 'p1',
        expiresAt: new Date(clock.ms + 1000),
      });
      assert.equal(password, 'p1');
      assert.equal(await store.consumeChallenge('p1', { now: new Date(clock.ms + 1000) }), 'expired');
      clock.advance(2000);
      assert.equal(await store.consumeChallenge('p1'), 'expired');
      await store.mintChallenge({ password: 'p2', expiresAt: new Date(clock.ms + 1000) });
      assert.equal(await store.purgeChallenges(clock.now()), 1);
      assert.equal(await store.consumeChallenge('p1'), 'not-found');
      assert.equal(await store.consumeChallenge('p2'), 'ok');
    });

    test('ok/profile-restriction', async (t) => {
      const { store, clock } = await fresh(t, factory);
      await store.mintChallenge({ password: 'p', profile: 'wifi', expiresAt: new Date(clock.ms + 1000) });
      assert.equal(await store.consumeChallenge('p', { profile: 'vpn' }), 'not-found');
      assert.equal(await store.consumeChallenge('p'), 'not-found', 'restricted challenge needs its profile');
      assert.equal(await store.consumeChallenge('p', { profile: 'wifi' }), 'ok');
      await store.mintChallenge({ password: 'any', expiresAt: new Date(clock.ms + 1000) });
      assert.equal(
        await store.consumeChallenge('any', { profile: 'vpn' }),
        'ok',
        'unrestricted works for any profile',
      );
    });

    test('fail/mint-same-password-twice', async (t) => {
      const { store, clock } = await fresh(t, factory);
      await store.mintChallenge({ password: 'p', expiresAt: new Date(clock.ms + 1000) });
      await assert.rejects(
        store.mintChallenge({ password: 'p', expiresAt: new Date(clock.ms + 1000) }),
        StoreError,
      );
    });
  });

  describe('crl', () => {
    test('ok/crl-number-and-latest', async (t) => {
      const { store, clock } = await fresh(t, factory);
      assert.equal(await store.nextCrlNumber(), 1n);
      assert.equal(await store.nextCrlNumber(), 2n);
      assert.equal(await store.getLatestCrl(), null);
      const crl = {
        crlNumber: 2n,
        der: new Uint8Array([0x30, 1, 2]),
        thisUpdate: clock.now(),
        nextUpdate: new Date(clock.ms + 3_600_000),
      };
      assert.equal(await store.saveCrl(crl), true);
      assert.deepEqual(await store.getLatestCrl(), crl);
      assert.equal(
        await store.saveCrl({ ...crl, crlNumber: 1n, der: new Uint8Array([9]) }),
        false,
        'older CRL refused',
      );
      assert.equal(await store.saveCrl({ ...crl, der: new Uint8Array([9]) }), false, 'same number refused');
      const big = { ...crl, crlNumber: 2n ** 62n, der: new Uint8Array([4]) };
      assert.equal(await store.saveCrl(big), true);
      assert.deepEqual(await store.getLatestCrl(), big);
    });
  });

  describe('intune revocations', () => {
    test('ok/record-once', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const rec = { requestContext: 'ctx-1', serial: 'ab', result: 'revoked', processedAt: clock.now() };
      assert.equal(await store.getIntuneRevocation('ctx-1'), null);
      assert.equal(await store.recordIntuneRevocation(rec), 'recorded');
      assert.equal(await store.recordIntuneRevocation({ ...rec, result: 'other' }), 'duplicate');
      assert.deepEqual(await store.getIntuneRevocation('ctx-1'), rec);
      assert.equal(
        await store.recordIntuneRevocation({ ...rec, requestContext: 'ctx-2', serial: null }),
        'recorded',
      );
    });
  });
}
