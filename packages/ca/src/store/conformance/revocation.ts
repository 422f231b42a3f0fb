import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StoreError } from '../errors.js';
import { REVOCATION_REASONS } from '../types.js';
import type { RevocationReason } from '../types.js';
import { DAY_MS, fresh, makeCert, randomSerial } from './harness.js';
import type { StoreFactory } from './harness.js';

const audit = { actor: 'scep', action: 'issue' };

export function revocationTests(factory: StoreFactory): void {
  describe('revocation', () => {
    test('ok/revoke-states', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const cert = await store.issue({ certificate: makeCert(clock), audit });
      const at = new Date(clock.ms + 5000);
      assert.equal(await store.revoke(randomSerial(), 1, at), 'not-found');
      assert.equal(
        await store.revoke(cert.serial, REVOCATION_REASONS.keyCompromise, at, {
          actor: 'admin:alice',
          action: 'revoke',
        }),
        'revoked',
      );
      const revoked = await store.getCertificate(cert.serial);
      assert.equal(revoked?.status, 'revoked');
      assert.deepEqual(revoked?.revokedAt, at);
      assert.equal(revoked?.revocationReason, 1);
      assert.equal(
        await store.revoke(cert.serial, 4, new Date(at.getTime() + 1), { actor: 'x', action: 'revoke' }),
        'already-revoked',
      );
      const after = await store.getCertificate(cert.serial);
      assert.deepEqual(after?.revokedAt, at, 'first revocation kept');
      assert.equal(after?.revocationReason, 1);
      const events = await store.queryAudit({ action: 'revoke' });
      assert.equal(events.length, 1, 'audit only on change');
      assert.equal(events[0]?.actor, 'admin:alice');
      assert.equal(events[0]?.serial, cert.serial);
    });

    test('ok/hold-then-final-reason', async (t) => {
      // RFC 5280 §5.3.1: certificateHold is temporary; it may become a permanent revocation.
      const { store, clock } = await fresh(t, factory);
      const cert = await store.issue({ certificate: makeCert(clock), audit });
      assert.equal(
        await store.revoke(cert.serial, REVOCATION_REASONS.certificateHold, clock.now()),
        'revoked',
      );
      assert.equal(
        await store.revoke(cert.serial, REVOCATION_REASONS.certificateHold, clock.now()),
        'already-revoked',
      );
      clock.advance(1000);
      assert.equal(await store.revoke(cert.serial, REVOCATION_REASONS.superseded, clock.now()), 'revoked');
      const r = await store.getCertificate(cert.serial);
      assert.equal(r?.revocationReason, 4);
      assert.deepEqual(r?.revokedAt, clock.now());
      assert.equal(
        await store.revoke(cert.serial, REVOCATION_REASONS.keyCompromise, clock.now()),
        'already-revoked',
      );
    });

    for (const reason of [7, 8, 11, -1]) {
      test(`fail/revoke-invalid-reason-${reason}`, async (t) => {
        const { store, clock } = await fresh(t, factory);
        const cert = await store.issue({ certificate: makeCert(clock), audit });
        await assert.rejects(
          store.revoke(cert.serial, reason as RevocationReason, clock.now()),
          (err: unknown) => err instanceof StoreError && err.code === 'invalid-input',
        );
        assert.equal((await store.getCertificate(cert.serial))?.status, 'valid');
      });
    }

    test('ok/list-revoked-for-crl', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const expired = makeCert(clock, { serial: 'c0', notAfter: new Date(clock.ms - DAY_MS) });
      for (const c of [
        makeCert(clock, { serial: 'b1' }),
        makeCert(clock, { serial: 'a2' }),
        makeCert(clock, { serial: 'ff' }),
        expired,
      ]) {
        await store.issue({ certificate: c, audit });
      }
      const at = clock.now();
      await store.revoke('b1', 1, at);
      await store.revoke('a2', 0, at);
      await store.revoke('c0', 5, at);
      const all = await store.listRevoked();
      assert.deepEqual(
        all.map((e) => [e.serial, e.reason]),
        [
          ['a2', 0],
          ['b1', 1],
          ['c0', 5],
        ],
      );
      assert.deepEqual(all[0]?.revokedAt, at);
      assert.deepEqual(all[2]?.notAfter, expired.notAfter);
      const current = await store.listRevoked({ notExpiredAt: clock.now() });
      assert.deepEqual(
        current.map((e) => e.serial),
        ['a2', 'b1'],
        'expired certificates may leave the CRL',
      );
    });
  });
}
