import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StoreError } from '../errors.js';
import { FakeClock, fresh, makeCert } from './harness.js';
import type { StoreFactory } from './harness.js';

export function lifecycleTests(factory: StoreFactory): void {
  describe('migrations and close', () => {
    test('ok/migrate-is-idempotent', async (t) => {
      const { store, clock, second } = await fresh(t, factory);
      const cert = await store.issue({
        certificate: makeCert(clock),
        audit: { actor: 'scep', action: 'issue' },
      });
      const version = await store.migrate();
      assert.ok(version >= 1);
      assert.equal(await store.migrate(), version);
      const other = await second();
      assert.equal(await other.migrate(), version);
      assert.deepEqual(await other.getCertificate(cert.serial), cert, 'data kept, visible to the other node');
    });

    test('ok/concurrent-migrations', async (t) => {
      const db = await factory.createDatabase({ pristine: true });
      t.after(() => db.drop());
      const clock = new FakeClock();
      const stores = await Promise.all([1, 2, 3].map(() => db.open({ clock: clock.now })));
      const versions = await Promise.all(stores.map((s) => s.migrate()));
      assert.equal(new Set(versions).size, 1);
      const [a, b] = stores;
      assert.ok(a && b);
      await a.issue({
        certificate: makeCert(clock, { serial: 'abc' }),
        audit: { actor: 'scep', action: 'issue' },
      });
      assert.equal((await b.getCertificate('abc'))?.serial, 'abc');
    });

    test('fail/use-after-close', async (t) => {
      const { store } = await fresh(t, factory);
      await store.close();
      await store.close();
      await assert.rejects(
        store.getCertificate('ab'),
        (err: unknown) => err instanceof StoreError && err.code === 'closed',
      );
      await assert.rejects(
        store.nextCrlNumber(),
        (err: unknown) => err instanceof StoreError && err.code === 'closed',
      );
    });
  });
}
