import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { makeFixture, sharedDeviceKeys, type Fixture } from '../testdata/fixture.js';
import type { Platform } from '../model.js';
import { createDevice, type SimulatedDevice } from './device.js';
import { DeviceError } from './errors.js';
import { startTestScepServer, type ReceivedRequest, type TestScepServer } from './testdata/scep-server.js';

describe('simulated devices', () => {
  let f: Fixture;
  let server: TestScepServer;
  let secret: string;

  const device = (
    platform: Platform,
    extra: Partial<Parameters<typeof createDevice>[1]> = {},
  ): SimulatedDevice => {
    let slot: 0 | 1 = 0;
    return createDevice(f.emu, {
      tenantId: f.seed.tenant.id,
      deviceId: f.seed.devices[platform].id,
      // Fixed keys (shared cores): the first enrollment uses slot 0, the next slot 1.
      generateKeys: (bits) => {
        const keys = sharedDeviceKeys(bits === 1024 ? 1024 : 2048, slot);
        slot = slot === 0 ? 1 : 0;
        return keys;
      },
      sleep: () => Promise.resolve(),
      ...extra,
    });
  };
  const since = (n: number): ReceivedRequest[] => server.received.slice(n);
  const ops = (rs: ReceivedRequest[]): string[] => rs.map((r) => `${r.method} ${r.operation ?? ''}`);
  const scepServer = (o: Partial<Parameters<typeof startTestScepServer>[0]> = {}) =>
    startTestScepServer({
      emulator: f.emu,
      tenant: f.seed.tenant.domain,
      clientId: f.seed.app.clientId,
      clientSecret: secret,
      ...o,
    });
  const assertInstalled = (platform: Platform, thumbprint: string): void => {
    const d = f.seed.devices[platform];
    const profileId = f.seed.deviceProfiles[platform].id;
    const [status] = f.emu.deploymentStatuses({ deviceId: d.id, profileId });
    assert.equal(status?.state, 'succeeded');
    assert.equal(status?.certificateThumbprint, thumbprint);
    assert.deepEqual(
      f.emu.state.devices
        .get(d.id)
        ?.certificates.filter((c) => c.profileId === profileId)
        .map((c) => c.thumbprint),
      [thumbprint],
    );
  };

  before(async () => {
    f = await makeFixture();
    // The seeded secret lives 180 days; the renewal test moves the clock by ~10 months.
    secret = f.emu.state.addSecret(f.seed.tenant.id, f.seed.app.clientId, 3 * 365 * 86400_000).value;
    server = await scepServer();
  });
  after(() => server.close());

  it('ok/windows: /pkiclient.exe, GetCACaps+GetCACert message=default, CA thumbprint, POST, SHA-256, AES, OAEP to the RA', async () => {
    const n = server.received.length;
    const d = device('windows');
    const profileId = f.seed.deviceProfiles.windows.id;
    const r = await d.enroll({ scepUrl: server.url, trustCaPem: server.rootPem, profileId });
    const got = since(n);
    assert.deepEqual(ops(got), ['GET GetCACaps', 'GET GetCACert', 'POST PKIOperation']);
    for (const q of got) {
      assert.equal(q.path, '/scep/pkiclient.exe');
      assert.equal(q.userAgent, 'Mozilla/4.0 (compatible; Win32; NDES client)');
    }
    assert.equal(got[0]?.rawQuery, 'operation=GetCACaps&message=default');
    assert.equal(got[1]?.rawQuery, 'operation=GetCACert&message=default');
    assert.deepEqual(got[2]?.decoded && { ...got[2].decoded, transactionId: '' }, {
      messageType: 'PKCSReq',
      digest: 'sha256',
      cipher: 'aes-256-cbc',
      keyTransport: 'rsa-oaep',
      transactionId: '',
    });
    assert.ok(r.steps.some((s) => s.step === 'GetCACert' && s.detail.includes('CAThumbprint') && s.ok));
    assert.deepEqual(
      r.steps.map((s) => s.step),
      [
        'check-in',
        'GetCACaps',
        'GetCACert',
        'GetCACert',
        'PKIOperation',
        'validation',
        'install',
        'notification',
      ],
    );
    assert.ok(r.steps.every((s) => s.ok));
    assert.equal(r.certificate.request.method, 'POST');
    assert.match(r.certificate.subject, new RegExp(`CN=${f.seed.devices.windows.aadDeviceId}`));
    assertInstalled('windows', r.certificate.thumbprint);
    assert.equal(d.installed.get(profileId), r.certificate);
    // Every exchange is recorded, without the PKIOperation message.
    assert.deepEqual(
      d.exchanges.map((x) => [x.operation, x.method, x.status, x.contentType]),
      [
        ['GetCACaps', 'GET', 200, 'text/plain'],
        ['GetCACert', 'GET', 200, 'application/x-x509-ca-ra-cert'],
        ['PKIOperation', 'POST', 200, 'application/x-pki-message'],
      ],
    );
    assert.equal(d.exchanges[2]?.url, `${server.url}/pkiclient.exe?operation=PKIOperation`);
  });

  it('ok/windows-pkcs1-key-transport: configurable RSAES-PKCS1-v1_5; the profile root is the default trust', async () => {
    const profile = f.seed.deviceProfiles.windows;
    f.emu.state.profile(f.seed.tenant.id, profile.id).rootCertificatePem = server.rootPem;
    const n = server.received.length;
    const r = await device('windows', { windowsKeyTransport: 'rsa-pkcs1' }).enroll({
      scepUrl: server.url,
      profileId: profile.id,
    });
    assert.equal(since(n).at(-1)?.decoded?.keyTransport, 'rsa-pkcs1');
    assert.ok(r.steps.some((s) => s.detail.includes('CAThumbprint') && s.ok));
    assertInstalled('windows', r.certificate.thumbprint);
  });

  it('fail/windows-ca-thumbprint-mismatch: stops after GetCACert', async () => {
    const other = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=Another Root',
      keys: await sharedDeviceKeys(2048, 1),
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    });
    const n = server.received.length;
    await assert.rejects(
      device('windows').enroll({
        scepUrl: server.url,
        trustCaPem: other.toString('pem'),
        profileId: f.seed.deviceProfiles.windows.id,
      }),
      (e: unknown) => e instanceof DeviceError && e.code === 'CA_THUMBPRINT_MISMATCH',
    );
    assert.deepEqual(ops(since(n)), ['GET GetCACaps', 'GET GetCACert']);
  });

  it('fail/windows-no-ra: a CA-only GetCACert has nothing Windows encrypts to', async () => {
    const caOnly = await scepServer({ mode: 'ca' });
    try {
      await assert.rejects(
        device('windows').enroll({
          scepUrl: caOnly.url,
          trustCaPem: caOnly.rootPem,
          profileId: f.seed.deviceProfiles.windows.id,
        }),
        (e: unknown) => e instanceof DeviceError && e.code === 'NO_RECIPIENT',
      );
      assert.deepEqual(ops(caOnly.received), ['GET GetCACaps', 'GET GetCACert']);
    } finally {
      await caOnly.close();
    }
  });

  for (const platform of ['ios', 'macos'] as const) {
    const name =
      platform === 'ios' ? 'ok/ios-get-PKIOperation-ber' : 'ok/get-PKIOperation-macos-unescaped-plus';
    it(`${name}: GetCACert first, GET although POST is offered, SHA-512, DES3, BER indefinite, no EKU`, async () => {
      const n = server.received.length;
      const r = await device(platform).enroll({ scepUrl: server.url });
      const got = since(n);
      assert.deepEqual(ops(got), ['GET GetCACert', 'GET GetCACaps', 'GET PKIOperation']);
      assert.equal(got[0]?.rawQuery, 'operation=GetCACert&message=SCEP%20Authority');
      assert.equal(got[1]?.rawQuery, 'operation=GetCACaps&message=SCEP%20Authority');
      for (const q of got) assert.equal(q.path, '/scep');
      const pki = got[2];
      assert.ok(pki?.pkiMessage && pki.decoded);
      const b64 = pki.pkiMessage.toString('base64');
      const rawMessage = pki.rawQuery.slice(pki.rawQuery.indexOf('message=') + 'message='.length);
      assert.ok(b64.includes('+') && b64.includes('/'), 'this message has + and / to encode');
      if (platform === 'ios') {
        assert.equal(rawMessage, encodeURIComponent(b64));
        assert.ok(!rawMessage.includes('+'));
      } else {
        assert.equal(rawMessage, encodeURIComponent(b64).replace(/%2B/g, '+'));
        assert.ok(!rawMessage.includes('%2B'));
      }
      assert.ok(rawMessage.includes('%2F'));
      assert.equal(pki.decoded.digest, 'sha512');
      assert.equal(pki.decoded.cipher, 'des-ede3-cbc');
      assert.equal(pki.decoded.keyTransport, 'rsa-pkcs1');
      // ContentInfo (30 80), [0] (a0 80), SignedData (30 80): indefinite lengths; the message ends in EOCs.
      const m = pki.pkiMessage;
      assert.deepEqual([m[0], m[1]], [0x30, 0x80]);
      const afterOid = 2 + 2 + 9;
      assert.deepEqual([...m.subarray(afterOid, afterOid + 4)], [0xa0, 0x80, 0x30, 0x80]);
      assert.deepEqual([...m.subarray(-4)], [0, 0, 0, 0]);
      // Apple sends no EKU; the CA added clientAuth, and Intune validated the CSR.
      const issued = new x509.X509Certificate(r.certificate.der);
      assert.deepEqual(
        [...(issued.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])],
        ['1.3.6.1.5.5.7.3.2'],
      );
      assert.ok(r.steps.every((s) => s.ok));
      assertInstalled(platform, r.certificate.thumbprint);
    });
  }

  it('ok/android: GetCACaps message=ca first, strongest digest and cipher, POST when offered', async () => {
    const n = server.received.length;
    const r = await device('android').enroll({ scepUrl: server.url });
    const got = since(n);
    assert.deepEqual(ops(got), ['GET GetCACaps', 'GET GetCACert', 'POST PKIOperation']);
    assert.equal(got[0]?.rawQuery, 'operation=GetCACaps&message=ca');
    assert.equal(got[1]?.rawQuery, 'operation=GetCACert&message=ca');
    assert.equal(got[2]?.decoded?.digest, 'sha512');
    assert.equal(got[2]?.decoded?.cipher, 'aes-128-cbc');
    assert.equal(got[2]?.decoded?.keyTransport, 'rsa-pkcs1');
    assertInstalled('android', r.certificate.thumbprint);
  });

  it('ok/android-old-ca: GET without POSTPKIOperation, SHA-256 without SHA-512, DES3 without AES', async () => {
    const old = await scepServer({ caps: ['SHA-256', 'SHA-1', 'DES3'] });
    try {
      const r = await device('android').enroll({ scepUrl: old.url });
      const pki = old.received.at(-1);
      assert.equal(pki?.method, 'GET');
      assert.equal(pki?.decoded?.digest, 'sha256');
      assert.equal(pki?.decoded?.cipher, 'des-ede3-cbc');
      // Not BER: Android's message is DER (definite length).
      assert.notEqual(pki?.pkiMessage?.[1], 0x80);
      assertInstalled('android', r.certificate.thumbprint);
    } finally {
      await old.close();
    }
  });

  it('ok/pending-then-certpoll: the device polls with CertPoll and installs what the CA issues', async () => {
    server.pendingNext = 1;
    const n = server.received.length;
    const r = await device('android').enroll({ scepUrl: server.url });
    const got = since(n).filter((q) => q.operation === 'PKIOperation');
    assert.deepEqual(
      got.map((q) => q.decoded?.messageType),
      ['PKCSReq', 'CertPoll'],
    );
    assert.equal(got[0]?.decoded?.transactionId, got[1]?.decoded?.transactionId);
    assert.equal(r.certificate.request.polls, 1);
    assert.deepEqual(
      r.steps.filter((s) => s.step === 'PKIOperation').map((s) => s.detail.split(': ')[1]),
      ['PENDING', 'SUCCESS'],
    );
    assertInstalled('android', r.certificate.thumbprint);
  });

  it('ok/renewal-at-threshold: nothing before, a new PKCSReq with a new key and a fresh challenge after', async () => {
    const d = device('ios');
    const first = await d.enroll({ scepUrl: server.url });
    const early = await d.renewIfDue({ scepUrl: server.url });
    assert.deepEqual(early.renewed, []);
    const lifetime = first.certificate.notAfter.getTime() - first.certificate.notBefore.getTime();
    // Profile threshold 20 %: due at 80 % of the lifetime.
    f.clock.now += Math.ceil(lifetime * 0.79);
    assert.deepEqual((await d.renewIfDue({ scepUrl: server.url })).renewed, []);
    f.clock.now += Math.ceil(lifetime * 0.02);
    const n = server.received.length;
    const renewal = await d.renewIfDue({ scepUrl: server.url });
    const [cert] = renewal.renewed;
    assert.ok(cert);
    assert.equal(since(n).at(-1)?.decoded?.messageType, 'PKCSReq');
    assert.notDeepEqual(Buffer.from(cert.publicKey), Buffer.from(first.certificate.publicKey));
    assert.notEqual(cert.thumbprint, first.certificate.thumbprint);
    assert.equal(renewal.steps[0]?.step, 'check-in');
    assertInstalled('ios', cert.thumbprint);
    assert.equal(d.installed.get(cert.profileId), cert);
  });

  it('ok/https: the device trusts the server through tlsCaPem (and fails without it)', async () => {
    const keys = f.emu.ctx.keys;
    const tls = await scepServer({ tls: { certPem: keys.tlsCertPem, keyPem: keys.tlsKeyPem } });
    try {
      assert.match(tls.url, /^https:/);
      await assert.rejects(
        device('android').enroll({ scepUrl: tls.url }),
        (e: unknown) => e instanceof DeviceError && e.code === 'HTTP',
      );
      const r = await device('android', { tlsCaPem: keys.tlsCertPem }).enroll({ scepUrl: tls.url });
      assert.equal(tls.received.at(-1)?.decoded?.messageType, 'PKCSReq');
      assertInstalled('android', r.certificate.thumbprint);
    } finally {
      await tls.close();
    }
  });

  it('ok/windows-url-failover: the next SCEP URL of the profile after a connection failure; all operations there', async () => {
    const profile = f.emu.state.profile(f.seed.tenant.id, f.seed.deviceProfiles.windows.id);
    profile.scepServerUrls = ['http://127.0.0.1:1/scep', server.url];
    const n = server.received.length;
    const d = device('windows');
    const r = await d.enroll({ trustCaPem: server.rootPem, profileId: profile.id });
    assert.deepEqual(ops(since(n)), ['GET GetCACaps', 'GET GetCACert', 'POST PKIOperation']);
    assert.deepEqual(
      r.steps.slice(0, 3).map((s) => [s.step, s.ok]),
      [
        ['check-in', true],
        ['GetCACaps', false],
        ['GetCACaps', true],
      ],
    );
    assertInstalled('windows', r.certificate.thumbprint);
  });

  it('fail/ios-one-url: iOS gets one URL from Intune and does not fail over', async () => {
    const profile = f.emu.state.profile(f.seed.tenant.id, f.seed.deviceProfiles.ios.id);
    profile.scepServerUrls = ['http://127.0.0.1:1/scep', server.url];
    const n = server.received.length;
    await assert.rejects(
      device('ios').enroll(),
      (e: unknown) => e instanceof DeviceError && e.code === 'HTTP',
    );
    assert.equal(server.received.length, n);
  });
});
