import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { mintChallenge, openChallenge } from './challenge.js';
import { buildCsr, buildDeviceCsr } from './csr.js';
import type { ScepPayload } from './deployment.js';
import { SCEP_SERVICE_PATH } from './graph.js';
import type { ExpectedCsr, Platform } from './model.js';
import { seedEmulator } from './seed.js';
import { CLIENT_KEY_2048 } from './testdata/fixed-keys.js';
import {
  INTUNE_SCOPE,
  GRAPH_SCOPE,
  makeFixture,
  sharedDeviceKeys,
  type Fixture,
} from './testdata/fixture.js';

describe('ScepActions/validateRequest', () => {
  let f: Fixture;
  let token: string;
  const payloadFor = (platform: Platform, kind: 'device' | 'user' = 'device'): ScepPayload => {
    const device = f.seed.devices[platform];
    const profileId = kind === 'user' ? f.seed.userProfile.id : f.seed.deviceProfiles[platform].id;
    const p = f.emu
      .checkIn(f.seed.tenant.id, device.id, { force: true })
      .find((x) => x.profileId === profileId);
    assert.ok(p, `no payload for ${platform}/${kind}`);
    return p;
  };
  const validate = async (csr: string, bearer = token, apiVersion = '2018-02-20') =>
    f.call('POST', `${SCEP_SERVICE_PATH}/ScepActions/validateRequest`, {
      headers: {
        authorization: `Bearer ${bearer}`,
        'api-version': apiVersion,
        'content-type': 'application/json',
      },
      body: { request: { transactionId: 'tx-1', certificateRequest: csr, callerInfo: 'scepkit-test/1.0' } },
    });
  const tampered = async (change: Partial<ExpectedCsr>, bits: 1024 | 2048 = 2048): Promise<string> => {
    const p = payloadFor('windows');
    const csr = await buildCsr(
      { ...p.expected, ...change },
      { challenge: p.challenge, keys: await sharedDeviceKeys(bits) },
    );
    return csr.base64;
  };
  const expectCode = async (csr: string, code: string, description?: RegExp | string): Promise<void> => {
    const r = await validate(csr);
    assert.equal(r.status, 200);
    assert.equal(r.json['code'], code, String(r.json['errorDescription']));
    assert.match(
      String(r.json['@odata.context']),
      /\$metadata#microsoft\.management\.services\.scepRequestValidationService\.api\.scepActionResult$/,
    );
    if (typeof description === 'string') assert.equal(r.json['errorDescription'], description);
    else if (description) assert.match(String(r.json['errorDescription']), description);
  };

  before(async () => {
    f = await makeFixture();
    token = await f.token(INTUNE_SCOPE);
  });

  it('ok/challenge-is-standard-base64-of-several-kB', () => {
    const { challenge } = payloadFor('windows');
    assert.match(challenge, /^[A-Za-z0-9+/]+={0,2}$/);
    assert.ok(challenge.length > 4000 && challenge.length < 12000, `length ${challenge.length}`);
  });

  for (const platform of ['windows', 'android', 'ios', 'macos'] as const) {
    it(`ok/${platform}-device-certificate`, async () => {
      const p = payloadFor(platform);
      const csr = await buildDeviceCsr({
        profile: f.seed.deviceProfiles[platform],
        device: f.seed.devices[platform],
        challenge: p.challenge,
        keys: await sharedDeviceKeys(2048),
      });
      await expectCode(csr.base64, 'Success', '');
    });
  }

  it('ok/windows-user-certificate-with-upn-email-and-sid-uri', async () => {
    const p = payloadFor('windows', 'user');
    assert.deepEqual(
      p.expected.subjectAlternativeNames.map((s) => `${s.type}:${s.value}`),
      [
        `upn:alice@${f.seed.tenant.domain}`,
        'email:alice@contoso.example',
        'uri:tag:microsoft.com,2022-09-14:sid:S-1-5-21-1004336348-1177238915-682003330-1105',
      ],
    );
    assert.equal(p.expected.subject, 'CN=alice,E=alice@contoso.example,O=Contoso');
    const csr = await buildDeviceCsr({
      profile: f.seed.userProfile,
      device: f.seed.devices.windows,
      user: f.seed.users[0]!,
      challenge: p.challenge,
      keys: await sharedDeviceKeys(2048),
    });
    await expectCode(csr.base64, 'Success');
  });

  it('fail/CertificateRequestDecodingFailed: not DER, and a CSR with a broken signature', async () => {
    await expectCode(
      Buffer.from('definitely not a CSR').toString('base64'),
      'CertificateRequestDecodingFailed',
    );
    const good = Buffer.from(await tampered({}), 'base64');
    good[good.length - 5] = (good[good.length - 5] ?? 0) ^ 0xff;
    await expectCode(good.toString('base64'), 'CertificateRequestDecodingFailed');
  });

  it('fail/CertificateRequestDecodingFailed: malformed DER (truncated, wrong tag, huge length, deep nesting)', async () => {
    const good = Buffer.from(await tampered({}), 'base64');
    const wrongTag = Buffer.from(good);
    wrongTag[0] = 0x31;
    const cases = [
      good.subarray(0, good.length >> 1),
      wrongTag,
      Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00]),
      Buffer.concat([Buffer.alloc(400, 0x30).map((b, i) => (i % 2 === 0 ? b : 0x80)), Buffer.alloc(400, 0)]),
    ];
    for (const der of cases) await expectCode(der.toString('base64'), 'CertificateRequestDecodingFailed');
  });

  it('fail/ChallengePasswordMissing', async () => {
    const p = payloadFor('windows');
    const csr = await buildCsr(p.expected, { keys: await sharedDeviceKeys(2048) });
    await expectCode(csr.base64, 'ChallengePasswordMissing');
  });

  const withChallenge = async (challenge: string): Promise<string> =>
    (await buildCsr(payloadFor('windows').expected, { challenge, keys: await sharedDeviceKeys(2048) }))
      .base64;

  it('fail/ChallengeDecodingError: not standard base64', async () => {
    await expectCode(await withChallenge('abc-def_ghij'), 'ChallengeDecodingError');
  });

  it('fail/ChallengeDeserializationError: base64 that is no challenge, and a truncated one', async () => {
    await expectCode(
      await withChallenge(Buffer.from('password1234').toString('base64')),
      'ChallengeDeserializationError',
    );
    const blob = Buffer.from(payloadFor('windows').challenge, 'base64').subarray(0, 30);
    await expectCode(await withChallenge(blob.toString('base64')), 'ChallengeDeserializationError');
  });

  it('fail/ChallengeDecryptionError: one ciphertext byte flipped', async () => {
    const blob = Buffer.from(payloadFor('windows').challenge, 'base64');
    blob[200] = (blob[200] ?? 0) ^ 0x01;
    await expectCode(await withChallenge(blob.toString('base64')), 'ChallengeDecryptionError');
  });

  it('fail/SignatureValidationFailed: encrypted with our key, signed by another', async () => {
    const p = payloadFor('windows');
    const claims = openChallenge(p.challenge, {
      encryptionKey: f.emu.ctx.keys.challengeKey,
      verifyKey: f.emu.ctx.verifyKey,
    });
    const forged = mintChallenge(claims, {
      encryptionKey: f.emu.ctx.keys.challengeKey,
      signingKey: createPrivateKey(CLIENT_KEY_2048),
    });
    await expectCode(await withChallenge(forged), 'SignatureValidationFailed');
  });

  it('fail/ChallengeExpired: after 60 minutes, with the real text', async () => {
    const p = payloadFor('windows');
    const csr = await buildCsr(p.expected, { challenge: p.challenge, keys: await sharedDeviceKeys(2048) });
    await expectCode(csr.base64, 'Success');
    f.clock.now += 60 * 60_000;
    try {
      // The access token (3599 s) expired as well: the service says so first.
      assert.equal((await validate(csr.base64)).status, 401);
      const r = await validate(csr.base64, await f.token(INTUNE_SCOPE));
      assert.equal(r.json['code'], 'ChallengeExpired');
      assert.equal(
        r.json['errorDescription'],
        'SCEP challenge has expired.SCEP Challenge has expired. challengeExpInterval=60, challengeExpiration=11/27/2026 04:00:00, challengeCreation=11/27/2026 03:00:00',
      );
    } finally {
      f.clock.now -= 60 * 60_000;
    }
  });

  it('fail/BadTenantIdInChallenge: token of another tenant', async () => {
    const other = seedEmulator(f.emu, { tenantName: 'fabrikam' });
    const otherToken = await f.token(
      INTUNE_SCOPE,
      other.app.clientId,
      other.clientSecret,
      other.tenant.domain,
    );
    const r = await validate(await tampered({}), otherToken);
    assert.equal(r.json['code'], 'BadTenantIdInChallenge');
    assert.equal(
      r.json['errorDescription'],
      'Failed to parse the tenant id in the challenge.tenantId in challenge does not match tenantId from security token.',
    );
  });

  it('fail/SubjectNameMismatch', async () => {
    await expectCode(
      await tampered({ subject: 'CN=someone-else,OU=Devices,O=Contoso' }),
      'SubjectNameMismatch',
      /^Subject Name in CSR CN=someone-else/,
    );
  });

  it('fail/SubjectAltNameMismatch', async () => {
    await expectCode(
      await tampered({ subjectAlternativeNames: [{ type: 'uri', value: 'IntuneDeviceId://forged' }] }),
      'SubjectAltNameMismatch',
    );
  });

  it('fail/SubjectAltNameMissing', async () => {
    await expectCode(await tampered({ subjectAlternativeNames: [] }), 'SubjectAltNameMissing');
  });

  it('fail/KeyUsageMismatch', async () => {
    await expectCode(
      await tampered({ keyUsage: 1 }),
      'KeyUsageMismatch',
      'Key usage in CSR 1 and challenge 5 do not match',
    );
  });

  it('fail/KeyLengthMismatch: 1024-bit key for a 2048-bit profile', async () => {
    await expectCode(
      await tampered({}, 1024),
      'KeyLengthMismatch',
      'Key length in CSR 1024 and challenge 2048 do not match',
    );
  });

  it('fail/EnhancedKeyUsageMismatch', async () => {
    await expectCode(
      await tampered({ extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'] }),
      'EnhancedKeyUsageMismatch',
    );
  });

  it('fail/EnhancedKeyUsageMissing: Windows CSR without EKU', async () => {
    await expectCode(await tampered({ extendedKeyUsages: [] }), 'EnhancedKeyUsageMissing');
  });

  it('fail/ScepProfileNoLongerTargetedToTheClient: unassigned after check-in', async () => {
    const device = f.seed.devices.android;
    const profile = f.seed.deviceProfiles.android;
    const p = payloadFor('android');
    f.emu.state.unassign(f.seed.tenant.id, profile.id, device.id);
    try {
      const csr = await buildDeviceCsr({
        profile,
        device,
        challenge: p.challenge,
        keys: await sharedDeviceKeys(2048),
      });
      await expectCode(csr.base64, 'ScepProfileNoLongerTargetedToTheClient');
    } finally {
      f.emu.state.assign(f.seed.tenant.id, profile.id, { kind: 'device', id: device.id });
    }
  });

  it('fail/BadDeviceIdInChallenge and BadUserIdInChallenge: deleted after check-in', async () => {
    const t = f.seed.tenant.id;
    const user = f.emu.state.addUser(t, {
      userPrincipalName: `erin@${f.seed.tenant.domain}`,
      onPremisesSid: 'S-1-5-21-1-2-3-1107',
    });
    const device = f.emu.state.addDevice(t, { platform: 'windows', userId: user.id });
    const deviceProfile = f.seed.deviceProfiles.windows;
    f.emu.state.assign(t, deviceProfile.id, { kind: 'device', id: device.id });
    f.emu.state.assign(t, f.seed.userProfile.id, { kind: 'user', id: user.id });
    const payloads = f.emu.checkIn(t, device.id);
    const keys = await sharedDeviceKeys(2048);
    const forDevice = payloads.find((p) => p.profileId === deviceProfile.id);
    const forUser = payloads.find((p) => p.profileId === f.seed.userProfile.id);
    assert.ok(forDevice && forUser);
    const userCsr = await buildCsr(forUser.expected, { challenge: forUser.challenge, keys });
    const deviceCsr = await buildCsr(forDevice.expected, { challenge: forDevice.challenge, keys });
    f.emu.state.deleteUser(t, user.id);
    await expectCode(userCsr.base64, 'BadUserIdInChallenge');
    f.emu.state.deleteDevice(t, device.id);
    await expectCode(deviceCsr.base64, 'BadDeviceIdInChallenge');
  });

  it('fail/replay-with-a-new-key: refused; the same key again is accepted', async () => {
    const p = payloadFor('windows');
    const first = await buildCsr(p.expected, { challenge: p.challenge, keys: await sharedDeviceKeys(2048) });
    const second = await buildCsr(p.expected, {
      challenge: p.challenge,
      keys: await sharedDeviceKeys(2048, 1),
    });
    await expectCode(first.base64, 'Success');
    await expectCode(
      second.base64,
      'BadCertificateRequestIdInChallenge',
      /already used with a different key/,
    );
    await expectCode(first.base64, 'Success');
  });

  it('fail/auth: no token 401, graph token 401, no role 403, wrong api-version 400', async () => {
    const csr = await tampered({});
    assert.equal((await validate(csr, 'x.y.z')).status, 401);
    const graph = await validate(csr, await f.token(GRAPH_SCOPE));
    assert.equal(graph.status, 401);
    assert.deepEqual((graph.json['error'] as Record<string, unknown>)['code'], 'Unauthorized');
    const app = f.emu.state.addApp(f.seed.tenant.id, {
      permissions: [{ resource: 'graph', name: 'Application.Read.All' }],
      adminConsent: true,
    });
    const secret = f.emu.state.addSecret(f.seed.tenant.id, app.clientId).value;
    const noRole = await validate(csr, await f.token(INTUNE_SCOPE, app.clientId, secret));
    assert.equal(noRole.status, 403);
    assert.equal((noRole.json['error'] as Record<string, unknown>)['code'], 'Forbidden');
    assert.equal((await validate(csr, token, '5019-05-05')).status, 400);
  });
});
