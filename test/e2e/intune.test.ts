// Intune enrollment end to end: the emulator (Entra ID, Graph, Intune) in-process over HTTPS on port 0, and
// scepkit `serve()` with Intune endpoints wired to it; devices send the emulator's exact CSRs with the SCEP client.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { webcrypto } from 'node:crypto';
import { KeyObject, X509Certificate } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  buildCsr,
  buildDeviceCsr,
  generateDeviceKeys,
  seedEmulator,
  startEmulator,
  type Device,
  type ExpectedCsr,
  type RunningEmulator,
  type ScepPayload,
  type ScepProfile,
  type User,
} from '@scepkit/intune-emulator';
import { IntuneOutboxWorker, toPem } from '@scepkit/ca';
import { hashPassword } from '@scepkit/server';
import { transactionIdFor } from '@scepkit/scep';
import type * as ServeModule from '../../packages/cli/dist/commands/serve-command.js';
import type * as EnrollModule from '../../packages/cli/dist/client/enroll.js';
import type * as DoctorModule from '../../packages/cli/dist/intune/doctor.js';
import type * as DoctorCommandModule from '../../packages/cli/dist/intune/doctor-command.js';
import { openssl } from '../support/tools.js';
import { cliModule, enroll, parseConfig, serve } from '../support/cli.js';
import { emulatorIntuneConfig } from '../support/emulator.js';

const { runDoctor } = (await cliModule('intune/doctor.js')) as typeof DoctorModule;
const { doctor } = (await cliModule('intune/doctor-command.js')) as typeof DoctorCommandModule;
type EnrollResult = EnrollModule.EnrollResult;

const execFileAsync = promisify(execFile);
type Served = Awaited<ReturnType<typeof ServeModule.serve>>;
type KeyPair = webcrypto.CryptoKeyPair;

const STATIC_CHALLENGE = 'static-e2e-challenge-1';
const SID_URI = 'tag:microsoft.com,2022-09-14:sid:S-1-5-21-1004336348-1177238915-682003330-1105';
const sink = { write: () => true } as unknown as NodeJS.WritableStream;
const ADMIN_PASSWORD = 'intune e2e console password';
const ADMIN_HASH = await hashPassword(ADMIN_PASSWORD, { N: 1024, r: 8, p: 1 });

describe('Intune enrollment end to end (emulator + scepkit serve)', () => {
  let emu: RunningEmulator;
  let s: Served;
  let tlsCaFile: string;
  let tenantId: string;
  let windows: Device;
  let alice: User;
  let deviceProfile: ScepProfile;
  const pool: KeyPair[] = [];
  const key = (): KeyPair => {
    const k = pool.pop();
    if (!k) throw new Error('key pool exhausted: make more keys in before()');
    return k;
  };

  async function startServer(dir: string, secret: string, doctorAtStartup = true): Promise<Served> {
    const config = parseConfig({
      dataDir: dir,
      ca: { keyType: 'rsa-2048', commonName: 'scepkit e2e CA' },
      server: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
      profiles: { intune: { sid: 'intune-validated' }, strict: { rsaMinBits: 4096 } },
      endpoints: [
        { path: '/scep', profile: 'intune', challenge: { type: 'intune' } },
        { path: '/scep/strict', profile: 'strict', challenge: { type: 'intune' } },
        { path: '/scep/static', profile: 'intune', challenge: { type: 'static' } },
      ],
      intune: {
        ...emulatorIntuneConfig(emu, tlsCaFile),
        revocationIntervalSeconds: 3600,
        outboxIntervalSeconds: 3600,
        doctorAtStartup,
      },
      admin: { passwordHash: ADMIN_HASH },
    });
    return serve(config, {
      init: true,
      out: sink,
      env: { SCEPKIT_INTUNE_CLIENT_SECRET: secret, SCEPKIT_STATIC_CHALLENGE: STATIC_CHALLENGE },
    });
  }

  before(async () => {
    const keys = Promise.all(Array.from({ length: 14 }, () => generateDeviceKeys(2048)));
    emu = await startEmulator({ port: 0 });
    tenantId = emu.tenantId!;
    windows = emu.seed!.devices.windows;
    alice = emu.seed!.users[0]!;
    deviceProfile = emu.seed!.deviceProfiles.windows;
    const dir = await mkdtemp(join(tmpdir(), 'scepkit-e2e-intune-'));
    tlsCaFile = join(dir, 'emulator-tls.pem');
    await writeFile(tlsCaFile, emu.tlsCaPem);
    s = await startServer(join(dir, 'data'), emu.clientSecret!);
    pool.push(...(await keys));
  });

  after(async () => {
    await s?.close();
    await emu?.stop();
  });

  const payload = (profile: ScepProfile, device = windows): ScepPayload => {
    const p = emu.emulator
      .checkIn(device.tenantId, device.id, { force: true })
      .find((x) => x.profileId === profile.id);
    if (!p) throw new Error(`no payload for ${profile.name}`);
    return p;
  };

  async function send(
    csr: { der: Uint8Array; keys: KeyPair },
    path = '/scep',
    server: Served = s,
  ): Promise<EnrollResult> {
    return enroll({
      url: `${server.url}${path}`,
      subject: '',
      csr: { der: csr.der, privateKey: KeyObject.from(csr.keys.privateKey) },
    });
  }

  /** The reason recorded on the transaction of `csr` (e.g. `challenge refused: Intune: ChallengeExpired`). */
  async function reasonOf(csrDer: Uint8Array, profile = 'scep', server: Served = s): Promise<string | null> {
    const tx = await server.runtime.store.getTransaction({
      transactionId: transactionIdFor(csrDer),
      profile,
    });
    return tx?.reason ?? null;
  }

  const refused = /the CA refused: badRequest/;

  async function tampered(change: (e: ExpectedCsr) => ExpectedCsr, keySize?: number) {
    const p = payload(deviceProfile);
    const expected = change(structuredClone(p.expected));
    return buildCsr(expected, {
      challenge: p.challenge,
      ...(keySize ? {} : { keys: key() }),
    });
  }

  it('ok/doctor-at-startup-published-on-healthz', async () => {
    const report = await s.doctor;
    assert.ok(report?.ok, JSON.stringify(report));
    const health = (await (await fetch(`${s.url}/healthz`)).json()) as {
      intune: { ok: boolean; steps: { name: string; status: string }[] };
    };
    assert.equal(health.intune.ok, true);
    assert.deepEqual(
      health.intune.steps.map((x) => x.status),
      ['ok', 'ok', 'ok', 'ok'],
    );
  });

  let issued: { result: EnrollResult; csr: { der: Uint8Array; keys: KeyPair } };

  it('ok/device-enrolls-deployment-succeeded-with-thumbprint', async () => {
    const p = payload(deviceProfile);
    const csr = await buildDeviceCsr({
      profile: deviceProfile,
      device: windows,
      challenge: p.challenge,
      keys: key(),
    });
    const result = await send(csr);
    issued = { result, csr };
    const cert = new X509Certificate(result.certificate);
    assert.match(cert.subject, new RegExp(`CN=${windows.aadDeviceId}`));
    const [status] = emu.emulator.deploymentStatuses({ deviceId: windows.id, profileId: deviceProfile.id });
    assert.equal(status?.state, 'succeeded');
    assert.equal(status?.certificateThumbprint, cert.fingerprint.replace(/:/g, ''));
    const tx = await s.runtime.store.getTransaction({ transactionId: result.transactionId, profile: 'scep' });
    assert.equal(tx?.state, 'issued');
    assert.equal(tx?.notified, true);
    const success = emu.emulator.requestsOf('successNotification').at(-1);
    assert.ok(success, 'a success notification was sent');
  });

  it('ok/retry-of-issued-transaction-returns-same-cert-without-asking-intune', async () => {
    const validations = emu.emulator.requestsOf('validateRequest').length;
    const notifications = emu.emulator.requestsOf('successNotification').length;
    const again = await send(issued.csr);
    assert.deepEqual(Buffer.from(again.certificate), Buffer.from(issued.result.certificate));
    assert.equal(emu.emulator.requestsOf('validateRequest').length, validations);
    assert.equal(emu.emulator.requestsOf('successNotification').length, notifications);
  });

  it('fail/challenge-refused-by-intune-no-certificate', async () => {
    const p = payload(deviceProfile);
    const csr = await buildDeviceCsr({
      profile: deviceProfile,
      device: windows,
      challenge: `${p.challenge.slice(0, -8)}AAAAAAA=`,
      keys: key(),
    });
    await assert.rejects(send(csr), refused);
    assert.match((await reasonOf(csr.der)) ?? '', /^challenge refused: Intune: \w+/);
    const certs = await s.runtime.store.searchCertificates({ transactionId: transactionIdFor(csr.der) });
    assert.equal(certs.length, 0);
  });

  it('fail/http-500-on-validate-no-certificate-and-doctor-names-it', async () => {
    const id = emu.emulator.faults.add('validateRequest', { kind: 'http500' });
    try {
      const p = payload(deviceProfile);
      const csr = await buildDeviceCsr({
        profile: deviceProfile,
        device: windows,
        challenge: p.challenge,
        keys: key(),
      });
      await assert.rejects(send(csr), refused);
      assert.equal(await reasonOf(csr.der), 'challenge refused: Intune: HTTP 500 InternalError');
      const report = await runDoctor(s.runtime.intune!.client, s.runtime.intune!.validator);
      assert.equal(report.ok, false);
      const canary = report.steps.find((x) => x.name === 'validateRequest canary');
      assert.equal(canary?.status, 'fail');
      assert.equal(canary?.code, 'HTTP 500');
      assert.match(canary?.detail ?? '', /HTTP 500/);
    } finally {
      emu.emulator.faults.clear({ id: id.id });
    }
  });

  it('fail/success-notification-500-withheld-revoked-then-retry-succeeds', async () => {
    const p = payload(deviceProfile);
    const csr = await buildDeviceCsr({
      profile: deviceProfile,
      device: windows,
      challenge: p.challenge,
      keys: key(),
    });
    const id = emu.emulator.faults.add('successNotification', { kind: 'http500' });
    try {
      await assert.rejects(send(csr), refused);
    } finally {
      emu.emulator.faults.clear({ id: id.id });
    }
    const txid = transactionIdFor(csr.der);
    const [withheld] = await s.runtime.store.searchCertificates({ transactionId: txid });
    assert.equal(withheld?.status, 'revoked');
    const again = await send(csr);
    const cert = new X509Certificate(again.certificate);
    assert.notEqual(cert.serialNumber.toLowerCase().replace(/^0+/, ''), withheld?.serial);
    const valid = await s.runtime.store.searchCertificates({ transactionId: txid, status: 'valid' });
    assert.equal(valid.length, 1);
    const [status] = emu.emulator.deploymentStatuses({ deviceId: windows.id, profileId: deviceProfile.id });
    assert.equal(status?.certificateThumbprint, cert.fingerprint.replace(/:/g, ''));
  });

  it('fail/tampered-requests-refused-with-intune-code', async () => {
    const cases: [string, () => Promise<{ der: Buffer; keys: KeyPair }>, RegExp][] = [
      ['subject', () => tampered((e) => ({ ...e, subject: 'CN=evil,OU=Devices,O=Contoso' })), /SubjectName/],
      [
        'san',
        () =>
          tampered((e) => ({
            ...e,
            subjectAlternativeNames: [{ type: 'uri', value: 'IntuneDeviceId://someone-else' }],
          })),
        /SubjectAltName/,
      ],
      ['key-size', () => tampered((e) => ({ ...e, keySize: 1024 }), 1024), /KeyLengthMismatch/],
      [
        'eku',
        () => tampered((e) => ({ ...e, extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'] })),
        /EnhancedKeyUsage/,
      ],
    ];
    for (const [name, make, code] of cases) {
      const csr = await make();
      await assert.rejects(send(csr), refused, name);
      assert.match((await reasonOf(csr.der)) ?? '', code, name);
    }
  });

  it('fail/expired-challenge-refused', async () => {
    emu.emulator.clockOffsetMs = -61 * 60 * 1000; // minted 61 minutes ago: 60-minute lifetime
    let p: ScepPayload;
    try {
      p = payload(deviceProfile);
    } finally {
      emu.emulator.clockOffsetMs = 0;
    }
    const csr = await buildDeviceCsr({
      profile: deviceProfile,
      device: windows,
      challenge: p.challenge,
      keys: key(),
    });
    await assert.rejects(send(csr), refused);
    assert.equal(await reasonOf(csr.der), 'challenge refused: Intune: ChallengeExpired');
  });

  it('fail/challenge-of-another-tenant-refused', async () => {
    const other = seedEmulator(emu.emulator, { tenantName: 'fabrikam' });
    const device = other.devices.windows;
    const profile = other.deviceProfiles.windows;
    const p = payload(profile, device);
    const csr = await buildDeviceCsr({ profile, device, challenge: p.challenge, keys: key() });
    await assert.rejects(send(csr), refused);
    assert.equal(await reasonOf(csr.der), 'challenge refused: Intune: BadTenantIdInChallenge');
  });

  it('fail/replayed-challenge-with-a-new-key-refused', async () => {
    const p = payload(deviceProfile);
    const first = await buildDeviceCsr({
      profile: deviceProfile,
      device: windows,
      challenge: p.challenge,
      keys: key(),
    });
    await send(first);
    const replay = await buildDeviceCsr({
      profile: deviceProfile,
      device: windows,
      challenge: p.challenge,
      keys: key(),
    });
    await assert.rejects(send(replay), refused);
    assert.equal(await reasonOf(replay.der), 'challenge refused: Intune: BadCertificateRequestIdInChallenge');
  });

  it('ok/sid-uri-only-with-intune-validation', async () => {
    const userProfile = emu.seed!.userProfile;
    const p = payload(userProfile);
    const csr = await buildDeviceCsr({
      profile: userProfile,
      device: windows,
      user: alice,
      challenge: p.challenge,
      keys: key(),
    });
    const r = await send(csr);
    const sans = new X509Certificate(r.certificate).subjectAltName ?? '';
    assert.ok(sans.replace(/\\u002c/g, ',').includes(SID_URI), sans); // Node escapes the comma
    // The same SID asked through a static challenge (no Intune validation) is refused.
    await assert.rejects(
      enroll({
        url: `${s.url}/scep/static`,
        challenge: STATIC_CHALLENGE,
        subject: 'CN=alice',
        uris: [SID_URI],
      }),
      refused,
    );
    const ok = await enroll({
      url: `${s.url}/scep/static`,
      challenge: STATIC_CHALLENGE,
      subject: 'CN=alice',
    });
    assert.ok(ok.certificate.length > 0);
  });

  it('ok/intune-revocation-shows-in-crl-and-ocsp-after-one-poll', async () => {
    const cert = new X509Certificate(issued.result.certificate);
    const serial = cert.serialNumber.toLowerCase().replace(/^0+/, '');
    const request = emu.emulator.queueRevocation(tenantId, { serialNumber: serial });
    const unknown = emu.emulator.queueRevocation(tenantId, { serialNumber: serial });
    unknown.serialNumber = 'abcdef0123';
    const worker = s.intuneWorkers!.revocation!;
    const run = await worker.runOnce();
    const bySerial = new Map(run.results.map((x) => [x.requestContext, x]));
    assert.equal(bySerial.get(request.requestContext)?.errorCode, 0);
    assert.equal(bySerial.get(unknown.requestContext)?.errorCode, 4004);
    assert.equal(request.state, 'succeeded');
    assert.equal((await s.runtime.store.getCertificate(serial))?.status, 'revoked');
    assert.ok(await s.runtime.store.getIntuneRevocation(request.requestContext));
    // Already applied: a second poll finds nothing to do.
    assert.equal((await worker.runOnce()).results.length, 0);

    const dir = await mkdtemp(join(tmpdir(), 'scepkit-e2e-crl-'));
    const crl = new Uint8Array(await (await fetch(`${s.url}/crl`)).arrayBuffer());
    const text = openssl(['crl', '-inform', 'DER', '-noout', '-text'], crl);
    assert.match(text.replace(/\s/g, '').toLowerCase(), new RegExp(`serialnumber:0*${serial}`));
    await writeFile(join(dir, 'ca.pem'), toPem('CERTIFICATE', s.runtime.ca.certificateDer));
    await writeFile(join(dir, 'cert.pem'), cert.toString());
    const { stdout: ocsp } = await execFileAsync('openssl', [
      'ocsp',
      '-issuer',
      join(dir, 'ca.pem'),
      '-cert',
      join(dir, 'cert.pem'),
      '-url',
      `${s.url}/ocsp`,
      '-noverify',
    ]); // async: the server answering it runs in this process
    assert.match(ocsp, /: revoked/);
  });

  it('ok/failure-notification-outbox-delivered-after-outage', async () => {
    const p = payload(deviceProfile);
    const csr = await buildDeviceCsr({
      profile: deviceProfile,
      device: windows,
      challenge: p.challenge,
      keys: key(),
    });
    const id = emu.emulator.faults.add('failureNotification', { kind: 'http500' });
    const worker = new IntuneOutboxWorker({
      store: s.runtime.store,
      validator: s.runtime.intune!.validator,
      backoff: { baseMs: 1, maxMs: 1 },
    });
    try {
      // Intune validates; our strict profile (RSA >= 4096) refuses; the failure notification cannot be delivered.
      await assert.rejects(send(csr, '/scep/strict'), /the CA refused: badAlg|the CA refused: badRequest/);
      assert.deepEqual(await worker.runOnce(), { delivered: 0, rescheduled: 1, abandoned: 0 });
    } finally {
      emu.emulator.faults.clear({ id: id.id });
    }
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(await worker.runOnce(), { delivered: 1, rescheduled: 0, abandoned: 0 });
    const [status] = emu.emulator.deploymentStatuses({ deviceId: windows.id, profileId: deviceProfile.id });
    assert.equal(status?.state, 'failed');
    assert.equal(status?.hResult, -2147467259);
    assert.ok((status?.errorDescription ?? '').length <= 255);
    const tx = await s.runtime.store.getTransaction({
      transactionId: transactionIdFor(csr.der),
      profile: 'scep-strict',
    });
    assert.equal(tx?.notified, true);
  });

  it('ok/admin-console-counts-intune-refusals-by-code-and-shows-doctor', async () => {
    const login = await fetch(`${s.url}/admin/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: s.url },
      body: JSON.stringify({ password: ADMIN_PASSWORD }),
    });
    assert.equal(login.status, 200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const get = async <T>(path: string) =>
      (await (await fetch(`${s.url}/admin/api${path}`, { headers: { cookie } })).json()) as T;
    // The tests above ran within the last two hours (one, unless an hour began meanwhile).
    const chart = await get<{
      buckets: Array<{ refusals: Array<{ series: string; label: string; count: number }> }>;
      totals: Record<string, number>;
    }>('/activity?hours=2');
    const intune = new Map<string, number>();
    for (const b of chart.buckets) {
      for (const r of b.refusals)
        if (r.series === 'intune') intune.set(r.label, (intune.get(r.label) ?? 0) + r.count);
    }
    for (const code of [
      'ChallengeExpired',
      'BadTenantIdInChallenge',
      'BadCertificateRequestIdInChallenge',
      'HTTP 500 InternalError',
    ]) {
      assert.ok(
        (intune.get(code) ?? 0) >= 1,
        `Intune refusal ${code} on the chart: ${JSON.stringify([...intune])}`,
      );
    }
    assert.ok(chart.totals['issued']! >= 2);
    assert.ok(chart.totals['policy']! >= 1, 'the strict profile refused a 2048-bit key');
    const summary = await get<{ intune: { ok: boolean; steps: unknown[] }; intuneConfigured: boolean }>(
      '/summary',
    );
    assert.equal(summary.intuneConfigured, true);
    assert.equal(summary.intune.ok, true, 'the doctor result of the start-up');
  });

  it('fail/wrong-entra-secret-no-certificate-and-doctor-explains', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scepkit-e2e-intune-bad-'));
    const bad = await startServer(dir, 'not-the-secret');
    try {
      const report = await bad.doctor;
      const token = report?.steps[0];
      assert.equal(token?.status, 'fail');
      assert.match(token?.code ?? '', /INVALID_CLIENT_SECRET/);
      assert.match(token?.detail ?? '', /client secret/);
      // `scepkit doctor` prints each step in words.
      let printed = '';
      const out = { write: (t: string) => ((printed += t), true) } as unknown as NodeJS.WritableStream;
      const cmd = await doctor(bad.runtime.config, {
        out,
        env: { SCEPKIT_INTUNE_CLIENT_SECRET: 'not-the-secret' },
      });
      assert.equal(cmd.ok, false);
      assert.match(
        printed,
        /^FAIL Entra ID token: .*client secret .*\[INVALID_CLIENT_SECRET AADSTS7000215\]$/m,
      );
      assert.match(printed, /^skip Graph discovery/m);
      assert.match(printed, /NOT WORKING/);
      assert.doesNotMatch(printed, /not-the-secret/);
      const p = payload(deviceProfile);
      const csr = await buildDeviceCsr({
        profile: deviceProfile,
        device: windows,
        challenge: p.challenge,
        keys: key(),
      });
      await assert.rejects(send(csr, '/scep', bad), refused);
      assert.match((await reasonOf(csr.der, 'scep', bad)) ?? '', /Intune token: INVALID_CLIENT_SECRET/);
    } finally {
      await bad.close();
    }
  });
});
