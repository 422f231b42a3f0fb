import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fresh } from './harness.js';
import type { StoreFactory } from './harness.js';

const HOUR = 3_600_000;

export function consoleTests(factory: StoreFactory): void {
  describe('console queries', () => {
    test('ok/enrollment-activity-per-hour-by-outcome', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const h0 = Math.floor(clock.ms / HOUR) * HOUR;
      const at = (h: number, min = 0) => new Date(h0 + h * HOUR + min * 60_000);
      const ev = (time: Date, action: string, details: Record<string, unknown> = {}, actor = 'scep') =>
        store.appendAudit({ actor, action, time, details: { profile: 'p', ...details } });
      await ev(at(0, 1), 'issue');
      await ev(at(0, 59), 'issue');
      await ev(at(0, 30), 'refuse', { failInfo: 'badAlg', reason: 'RSA key of 1024 bits is below 2048' });
      await ev(at(0, 31), 'refuse', {
        failInfo: 'badRequest',
        reason: 'challenge refused: Intune: ChallengeExpired',
      });
      await ev(at(0, 32), 'refuse', {
        failInfo: 'badRequest',
        reason: 'challenge refused: Intune: ChallengeExpired',
      });
      await ev(at(1, 5), 'pending');
      await ev(at(1, 6), 'error', { error: 'store down' });
      await ev(at(1, 7), 'replay'); // not an enrollment decision
      await ev(at(1, 8), 'revoke', {}, 'admin:alice'); // not the enrollment flow
      await ev(at(1, 9), 'issue', {}, 'admin:alice'); // only actor scep counts
      await ev(at(-1, 59), 'issue'); // before the window
      await ev(at(2, 0), 'issue'); // at `to`: excluded

      const rows = await store.enrollmentActivity({ from: at(0, 10), to: at(2) });
      assert.deepEqual(rows, [
        { hour: at(0), outcome: 'issued', failInfo: null, intune: null, count: 2 },
        { hour: at(0), outcome: 'refused', failInfo: 'badAlg', intune: null, count: 1 },
        {
          hour: at(0),
          outcome: 'refused',
          failInfo: 'badRequest',
          intune: 'Intune: ChallengeExpired',
          count: 2,
        },
        { hour: at(1), outcome: 'error', failInfo: null, intune: null, count: 1 },
        { hour: at(1), outcome: 'pending', failInfo: null, intune: null, count: 1 },
      ]);
      assert.deepEqual(await store.enrollmentActivity({ from: at(5), to: at(6) }), []);
    });

    test('ok/audit-keyset-paging-before-id', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        // Same millisecond for all: paging by time alone would skip or repeat events.
        ids.push((await store.appendAudit({ actor: 'scep', action: 'issue', time: clock.now() })).id);
      }
      const page1 = await store.queryAudit({ limit: 2 });
      assert.deepEqual(
        page1.map((e) => e.id),
        [ids[4], ids[3]],
      );
      const page2 = await store.queryAudit({ limit: 2, beforeId: page1[1]!.id });
      assert.deepEqual(
        page2.map((e) => e.id),
        [ids[2], ids[1]],
      );
      const page3 = await store.queryAudit({ limit: 2, beforeId: page2[1]!.id, action: 'issue' });
      assert.deepEqual(
        page3.map((e) => e.id),
        [ids[0]],
      );
    });
  });
}
