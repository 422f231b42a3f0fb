// Microsoft's third-party CA integration test matrix (docs/intune-api.md §2), one `it` per row: a SCEP profile with
// that setting is created in the Intune emulator and assigned to a seeded device, the device enrolls through scepkit
// `serve()`, and the ISSUED certificate and the emulator's deployment status (succeeded, with its thumbprint) are
// checked. The failure rows (challenge refused, HTTP 500, wrong Entra secret) live in intune.test.ts.
import 'reflect-metadata';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { webcrypto } from 'node:crypto';
import { KeyObject, X509Certificate } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { toPem } from '@scepkit/ca';
import {
  buildDeviceCsr,
  createDevice,
  generateDeviceKeys,
  startEmulator,
  type CreateProfileInput,
  type Device,
  type RunningEmulator,
  type ScepProfile,
} from '@scepkit/intune-emulator';
import type * as ServeModule from '../../packages/cli/dist/commands/serve-command.js';
import { enroll, parseConfig, serve } from '../support/cli.js';
import { emulatorIntuneConfig } from '../support/emulator.js';

type Served = Awaited<ReturnType<typeof ServeModule.serve>>;
type KeyPair = webcrypto.CryptoKeyPair;

const DAY_MS = 86_400_000;
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const IPSEC_USER = '1.3.6.1.5.5.7.3.7';
const IKE_INTERMEDIATE = '1.3.6.1.5.5.8.2.2';
const SID_PREFIX = 'tag:microsoft.com,2022-09-14:sid:';
/** scepkit CA profile of /scep/short: an admin matching the Intune profile's 30-day validity. */
const SHORT_DAYS = 30;
/** scepkit's defaults (IssuanceProfile): validityDays 365, maxValidityDays 825. */
const DEFAULT_DAYS = 365;
const DEFAULT_MAX_DAYS = 825;
const sink = { write: () => true } as unknown as NodeJS.WritableStream;

interface Issued {
  der: Uint8Array;
  node: X509Certificate;
  cert: x509.X509Certificate;
  profile: ScepProfile;
  keys: KeyPair;
}

const thumbprint = (c: X509Certificate): string => c.fingerprint.replace(/:/g, '');

function sans(cert: x509.X509Certificate): { type: string; value: string }[] {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return ext ? ext.names.items.map((n) => ({ type: n.type, value: n.value })) : [];
}

function keyUsage(cert: x509.X509Certificate): number | undefined {
  return cert.getExtension(x509.KeyUsagesExtension)?.usages;
}

function ekus(cert: x509.X509Certificate): string[] {
  return Array.from(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [], String);
}

describe('Intune integration test matrix (emulator + scepkit serve)', () => {
  let emu: RunningEmulator;
  let s: Served;
  let tenantId: string;
  let windows: Device;
  let android: Device;
  let caPem: string;
  const pool: KeyPair[] = [];
  const key = (): KeyPair => {
    const k = pool.pop();
    if (!k) throw new Error('key pool exhausted: make more keys in before()');
    return k;
  };

  before(async () => {
    const keys = Promise.all(Array.from({ length: 22 }, () => generateDeviceKeys(2048)));
    emu = await startEmulator({ port: 0 });
    tenantId = emu.tenantId!;
    windows = emu.seed!.devices.windows;
    android = emu.seed!.devices.android;
    const dir = await mkdtemp(join(tmpdir(), 'scepkit-e2e-matrix-'));
    const tlsCaFile = join(dir, 'emulator-tls.pem');
    await writeFile(tlsCaFile, emu.tlsCaPem);
    const config = parseConfig({
      dataDir: join(dir, 'data'),
      ca: { keyType: 'rsa-2048', commonName: 'scepkit matrix CA' },
      server: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
      profiles: {
        intune: { sid: 'intune-validated' },
        // An admin whose Intune profiles still ask for 1024-bit keys allows them on this endpoint only.
        legacy: { sid: 'intune-validated', rsaMinBits: 1024 },
        short: { sid: 'intune-validated', validityDays: SHORT_DAYS, maxValidityDays: SHORT_DAYS },
        daily: { sid: 'intune-validated', validityDays: 1, maxValidityDays: 1 },
      },
      endpoints: [
        { path: '/scep', profile: 'intune', challenge: { type: 'intune' } },
        { path: '/scep/legacy', profile: 'legacy', challenge: { type: 'intune' } },
        { path: '/scep/short', profile: 'short', challenge: { type: 'intune' } },
        { path: '/scep/daily', profile: 'daily', challenge: { type: 'intune' } },
      ],
      intune: {
        ...emulatorIntuneConfig(emu, tlsCaFile),
        revocationIntervalSeconds: 3600,
        outboxIntervalSeconds: 3600,
        doctorAtStartup: false,
      },
    });
    s = await serve(config, {
      init: true,
      out: sink,
      env: { SCEPKIT_INTUNE_CLIENT_SECRET: emu.clientSecret! },
    });
    caPem = toPem('CERTIFICATE', s.runtime.ca.certificateDer);
    pool.push(...(await keys));
  });

  after(async () => {
    await s?.close();
    await emu?.stop();
  });

  /** A profile for `device` (only it: removed from targeting once the row is done). */
  function addProfile(input: Omit<CreateProfileInput, 'platform'>, device: Device = windows): ScepProfile {
    return emu.emulator.state.addProfile(tenantId, {
      platform: device.platform,
      name: `matrix ${Math.random().toString(36).slice(2)}`,
      ...input,
      assignments: [{ kind: 'device', id: device.id }],
    });
  }

  /** Creates the profile, enrolls through scepkit with the CSR the device builds, checks the deployment. */
  async function issue(
    input: Omit<CreateProfileInput, 'platform'>,
    o: { device?: Device; path?: string; keys?: KeyPair } = {},
  ): Promise<Issued> {
    const device = o.device ?? windows;
    const profile = addProfile(input, device);
    try {
      const payload = emu.emulator
        .checkIn(tenantId, device.id, { force: true })
        .find((p) => p.profileId === profile.id);
      assert.ok(payload, `no payload for ${profile.name}`);
      const user = device.userId ? emu.emulator.state.users.get(device.userId) : undefined;
      const keys = o.keys ?? key();
      const csr = await buildDeviceCsr({
        profile,
        device,
        ...(profile.certificateType === 'user' && user ? { user } : {}),
        challenge: payload.challenge,
        keys,
      });
      const result = await enroll({
        url: `${s.url}${o.path ?? '/scep'}`,
        subject: '',
        csr: { der: csr.der, privateKey: KeyObject.from(keys.privateKey) },
      });
      const node = new X509Certificate(result.certificate);
      assertDeployed(device, profile, node);
      return {
        der: result.certificate,
        node,
        cert: new x509.X509Certificate(result.certificate),
        profile,
        keys,
      };
    } finally {
      emu.emulator.state.unassign(tenantId, profile.id, device.id);
    }
  }

  function assertDeployed(device: Device, profile: ScepProfile, cert: X509Certificate): void {
    const [status] = emu.emulator.deploymentStatuses({ deviceId: device.id, profileId: profile.id });
    assert.equal(status?.state, 'succeeded', JSON.stringify(status));
    assert.equal(status?.certificateThumbprint, thumbprint(cert));
  }

  const days = (c: x509.X509Certificate): number => (c.notAfter.getTime() - Date.now()) / DAY_MS;

  // --- validity period ---------------------------------------------------------------------------------------
  // Intune does not pass the profile's validity to a third-party CA in the CSR it validates: scepkit issues for its
  // own CA profile's validityDays (capped by maxValidityDays). The admin sets /scep/short to the Intune profile's 30.
  it('validity/30-days-honoured-by-matching-ca-profile', async () => {
    const r = await issue(
      { certificateType: 'device', validityPeriod: { value: 30, unit: 'days' } },
      { path: '/scep/short' },
    );
    const d = days(r.cert);
    assert.ok(d <= 30 + 0.01, `notAfter ${r.cert.notAfter.toISOString()} within the requested 30 days`);
    assert.ok(d > 29.9, `notAfter ${r.cert.notAfter.toISOString()} is ~30 days out`);
    assert.ok(r.cert.notBefore.getTime() <= Date.now());
  });

  it('validity/2-years-capped-by-default-ca-profile', async () => {
    const r = await issue({ certificateType: 'device', validityPeriod: { value: 2, unit: 'years' } });
    const d = days(r.cert);
    assert.ok(d <= 2 * 366, 'not beyond the requested 2 years');
    assert.ok(d <= DEFAULT_MAX_DAYS, 'within the CA profile maxValidityDays');
    assert.ok(Math.abs(d - DEFAULT_DAYS) < 0.1, `the CA profile's ${DEFAULT_DAYS} days, got ${d}`);
  });

  // --- subject name formats ----------------------------------------------------------------------------------
  it('subject/CN={{UserName}}', async () => {
    const r = await issue({ certificateType: 'user', subjectNameFormat: 'CN={{UserName}}' });
    assert.equal(r.cert.subject, 'CN=alice');
  });

  it('subject/CN={{UserName}},E={{EmailAddress}}', async () => {
    const r = await issue({
      certificateType: 'user',
      subjectNameFormat: 'CN={{UserName}},E={{EmailAddress}}',
    });
    assert.equal(r.cert.subjectName.getField('CN')[0], 'alice');
    assert.equal(r.cert.subjectName.getField('E')[0], 'alice@contoso.example');
    assert.match(r.node.subject, /^CN=alice$/m);
    assert.match(r.node.subject, /^emailAddress=alice@contoso\.example$/m);
  });

  it('subject/E={{EmailAddress}}-only', async () => {
    const r = await issue({ certificateType: 'user', subjectNameFormat: 'E={{EmailAddress}}' });
    assert.equal(r.node.subject, 'emailAddress=alice@contoso.example');
  });

  it('subject/CN={{IMEINumber}}', async () => {
    assert.ok(android.imei, 'the seeded Android device has an IMEI');
    const r = await issue(
      { certificateType: 'device', subjectNameFormat: 'CN={{IMEINumber}}' },
      { device: android },
    );
    assert.equal(r.cert.subject, `CN=${android.imei}`);
  });

  it('subject/CN={{SerialNumber}}', async () => {
    const r = await issue({ certificateType: 'device', subjectNameFormat: 'CN={{SerialNumber}}' });
    assert.equal(r.cert.subject, `CN=${windows.serialNumber}`);
  });

  it('subject/custom-CN={{DeviceId}},OU=Devices,O=Contoso', async () => {
    const r = await issue({
      certificateType: 'device',
      subjectNameFormat: 'CN={{DeviceId}},OU=Devices,O=Contoso',
    });
    assert.equal(r.cert.subject, `CN=${windows.id}, OU=Devices, O=Contoso`);
  });

  // --- subject alternative names -----------------------------------------------------------------------------
  it('san/email', async () => {
    const r = await issue({
      certificateType: 'user',
      subjectAlternativeNames: [{ type: 'email', value: '{{EmailAddress}}' }],
    });
    assert.deepEqual(sans(r.cert), [{ type: 'email', value: 'alice@contoso.example' }]);
  });

  it('san/upn', async () => {
    const r = await issue({
      certificateType: 'user',
      subjectAlternativeNames: [{ type: 'upn', value: '{{UserPrincipalName}}' }],
    });
    assert.deepEqual(sans(r.cert), [{ type: 'upn', value: `alice@${emu.tenantDomain}` }]);
  });

  it('san/email-and-upn', async () => {
    const r = await issue({
      certificateType: 'user',
      subjectAlternativeNames: [
        { type: 'email', value: '{{EmailAddress}}' },
        { type: 'upn', value: '{{UserPrincipalName}}' },
      ],
    });
    assert.deepEqual(sans(r.cert), [
      { type: 'email', value: 'alice@contoso.example' },
      { type: 'upn', value: `alice@${emu.tenantDomain}` },
    ]);
  });

  it('san/on-premises-sid-uri', async () => {
    const alice = emu.seed!.users[0]!;
    const r = await issue({
      certificateType: 'user',
      subjectAlternativeNames: [{ type: 'uri', value: `${SID_PREFIX}{{OnPremisesSecurityIdentifier}}` }],
    });
    assert.deepEqual(sans(r.cert), [{ type: 'url', value: `${SID_PREFIX}${alice.onPremisesSid}` }]);
  });

  // --- key usage ---------------------------------------------------------------------------------------------
  const KU = x509.KeyUsageFlags;
  for (const [name, usage, bits] of [
    ['digital-signature', ['digitalSignature'], KU.digitalSignature],
    ['key-encipherment', ['keyEncipherment'], KU.keyEncipherment],
    ['both', ['digitalSignature', 'keyEncipherment'], KU.digitalSignature | KU.keyEncipherment],
  ] as const) {
    it(`key-usage/${name}`, async () => {
      const r = await issue({ certificateType: 'device', keyUsage: [...usage] });
      assert.equal(keyUsage(r.cert), bits);
    });
  }

  // --- key size ----------------------------------------------------------------------------------------------
  it('key-size/1024-on-an-endpoint-allowing-it', async () => {
    const keys = await generateDeviceKeys(1024);
    // The default CA profile (rsaMinBits 2048) refuses it, although Intune validated the request.
    const refusing = addProfile({ certificateType: 'device', keySize: 1024 });
    try {
      const payload = emu.emulator
        .checkIn(tenantId, windows.id, { force: true })
        .find((p) => p.profileId === refusing.id);
      assert.ok(payload);
      const csr = await buildDeviceCsr({
        profile: refusing,
        device: windows,
        challenge: payload.challenge,
        keys,
      });
      await assert.rejects(
        enroll({
          url: `${s.url}/scep`,
          subject: '',
          csr: { der: csr.der, privateKey: KeyObject.from(keys.privateKey) },
        }),
        /the CA refused: badAlg/,
      );
    } finally {
      emu.emulator.state.unassign(tenantId, refusing.id, windows.id);
    }
    const r = await issue({ certificateType: 'device', keySize: 1024 }, { path: '/scep/legacy', keys });
    assert.equal(r.node.publicKey.asymmetricKeyDetails?.modulusLength, 1024);
  });

  it('key-size/2048', async () => {
    const r = await issue({ certificateType: 'device', keySize: 2048 });
    assert.equal(r.node.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  });

  it('key-size/4096', async () => {
    const keys = await generateDeviceKeys(4096); // the only 4096-bit key of the file
    const r = await issue({ certificateType: 'device', keySize: 4096 }, { keys });
    assert.equal(r.node.publicKey.asymmetricKeyDetails?.modulusLength, 4096);
  });

  // --- extended key usage ------------------------------------------------------------------------------------
  it('eku/client-authentication', async () => {
    const r = await issue({ certificateType: 'device', extendedKeyUsages: [CLIENT_AUTH] });
    assert.deepEqual(ekus(r.cert), [CLIENT_AUTH]);
  });

  // scepkit's default allowedEku holds both IPsec OIDs (ipsecUser and iKEIntermediate).
  it('eku/ipsec', async () => {
    const r = await issue({ certificateType: 'device', extendedKeyUsages: [IPSEC_USER, IKE_INTERMEDIATE] });
    assert.deepEqual(ekus(r.cert), [IPSEC_USER, IKE_INTERMEDIATE]);
  });

  // --- hash algorithm ----------------------------------------------------------------------------------------
  // The profile's hash is the digest the Windows SCEP client signs its pkiMessage with (SHA-2 only when GetCACaps
  // offers SHA-256). The emulator builds every CSR signed with SHA-256 and the CA signs what it issues with its own
  // algorithm, so what is testable is the request digest scepkit accepts, and the issued certificate.
  const simulated = () =>
    createDevice(emu.emulator, {
      tenantId,
      deviceId: windows.id,
      generateKeys: (bits) => (bits === 2048 ? Promise.resolve(key()) : generateDeviceKeys(bits)),
    });

  for (const [hash, digest] of [
    ['SHA-1', 'sha1'],
    ['SHA-2', 'sha256'],
  ] as const) {
    it(`hash/${hash}-windows-device`, async () => {
      const profile = addProfile({ certificateType: 'device', hashAlgorithm: hash });
      try {
        const device = simulated();
        const r = await device.enroll({ scepUrl: `${s.url}/scep`, trustCaPem: caPem, profileId: profile.id });
        assert.equal(r.certificate.request.digest, digest);
        assert.ok(
          r.steps.every((x) => x.ok),
          JSON.stringify(r.steps.map((x) => [x.step, x.ok, x.detail])),
        );
        const cert = new X509Certificate(r.certificate.der);
        assert.equal(r.certificate.profileId, profile.id);
        assert.match(cert.subject, new RegExp(`CN=${windows.aadDeviceId}`));
        assertDeployed(windows, profile, cert);
      } finally {
        emu.emulator.state.unassign(tenantId, profile.id, windows.id);
      }
    });
  }

  // --- renewal -----------------------------------------------------------------------------------------------
  // The device's clock is the emulator's (`clockOffsetMs`), which also drives Entra ID and Intune: scepkit's cached
  // access token (3599 s) expires there once the clock jumps more than an hour. So the row uses 1-day certificates
  // (/scep/daily) and a 98 % renewal threshold: due ~29 minutes after issuance, within the token's lifetime.
  it('renewal/at-threshold-new-key-new-certificate', async () => {
    const profile = addProfile({
      certificateType: 'device',
      validityPeriod: { value: 1, unit: 'days' },
      renewalThresholdPercent: 98,
    });
    const device = simulated();
    try {
      const scepUrl = `${s.url}/scep/daily`;
      const first = await device.enroll({ scepUrl, trustCaPem: caPem, profileId: profile.id });
      const old = first.certificate;
      assertDeployed(windows, profile, new X509Certificate(old.der));
      emu.emulator.clockOffsetMs = 15 * 60_000;
      assert.equal(device.isDue(old), false);
      assert.deepEqual((await device.renewIfDue({ scepUrl, trustCaPem: caPem })).renewed, [], 'not due yet');
      emu.emulator.clockOffsetMs = 40 * 60_000;
      assert.equal(device.isDue(old), true);
      const { renewed, steps } = await device.renewIfDue({ scepUrl, trustCaPem: caPem });
      assert.equal(renewed.length, 1, JSON.stringify(steps.map((x) => [x.step, x.ok, x.detail])));
      const fresh = renewed[0]!;
      assert.equal(fresh.profileId, profile.id);
      assert.notEqual(fresh.serialNumber, old.serialNumber);
      assert.notDeepEqual(Buffer.from(fresh.publicKey), Buffer.from(old.publicKey), 'a new key pair');
      // scepkit's clock is real time: two certificates issued within one second have the same notAfter.
      assert.ok(fresh.notAfter.getTime() >= old.notAfter.getTime());
      assert.equal(device.installed.get(profile.id)?.serialNumber, fresh.serialNumber);
      assertDeployed(windows, profile, new X509Certificate(fresh.der));
    } finally {
      emu.emulator.clockOffsetMs = 0;
      emu.emulator.state.unassign(tenantId, profile.id, windows.id);
    }
  });
});
