import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mintChallenge, openChallenge, type ChallengeClaims } from './challenge.js';
import { ChallengeValidationError } from './errors.js';
import { makeFixture, sharedKeys } from './testdata/fixture.js';

const claims: ChallengeClaims = {
  tenantId: 't',
  deviceId: 'd',
  userId: 'u',
  profileId: 'p',
  requestId: 'r',
  createdAt: 1_800_000_000,
  expiresAt: 1_800_003_600,
  expected: {
    subject: 'CN=x',
    subjectAlternativeNames: [],
    keyUsage: 5,
    keySize: 2048,
    extendedKeyUsages: [],
  },
};

describe('challenge blob', () => {
  it('ok/round-trip: claims survive; two mints of the same claims differ', async () => {
    const k = await sharedKeys();
    const keys = { encryptionKey: k.challengeKey, signingKey: k.signingKey };
    const a = mintChallenge(claims, keys);
    const b = mintChallenge(claims, keys);
    assert.notEqual(a, b);
    assert.deepEqual(openChallenge(a, { encryptionKey: k.challengeKey, verifyKey: k.signingKey }), claims);
  });

  it('fail/ChallengeInvalidTimestamp: expiry before creation', async () => {
    const k = await sharedKeys();
    const blob = mintChallenge(
      { ...claims, expiresAt: claims.createdAt - 1 },
      { encryptionKey: k.challengeKey, signingKey: k.signingKey },
    );
    assert.throws(
      () => openChallenge(blob, { encryptionKey: k.challengeKey, verifyKey: k.signingKey }),
      (e: unknown) => e instanceof ChallengeValidationError && e.code === 'ChallengeInvalidTimestamp',
    );
  });

  it('fail/ChallengeDecryptionError: another emulator key', async () => {
    const k = await sharedKeys();
    const blob = mintChallenge(claims, { encryptionKey: Buffer.alloc(32, 7), signingKey: k.signingKey });
    assert.throws(
      () => openChallenge(blob, { encryptionKey: k.challengeKey, verifyKey: k.signingKey }),
      (e: unknown) => e instanceof ChallengeValidationError && e.code === 'ChallengeDecryptionError',
    );
  });

  it('ok/check-in: one unique challenge per device and profile, each with its own request id', async () => {
    const f = await makeFixture();
    const t = f.seed.tenant.id;
    const windows = f.emu.checkIn(t, f.seed.devices.windows.id);
    assert.deepEqual(
      windows.map((p) => p.profileId).sort(),
      [f.seed.deviceProfiles.windows.id, f.seed.userProfile.id].sort(),
    );
    const all = [
      ...windows,
      ...f.emu.checkIn(t, f.seed.devices.ios.id),
      ...f.emu.checkIn(t, f.seed.devices.windows.id),
    ];
    assert.equal(new Set(all.map((p) => p.challenge)).size, all.length);
    assert.equal(new Set(all.map((p) => p.requestId)).size, all.length);
    const [first] = windows;
    assert.ok(first);
    assert.equal(first.challengeExpiresAt, new Date(f.clock.now + 3600_000).toISOString());
    assert.deepEqual(first.scepServerUrls, ['https://127.0.0.1:8443/scep']);
  });
});
