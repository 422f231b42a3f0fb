// Intune outages (the emulator slow, dropping connections, answering 401 or 500): no certificate is issued, the
// device gets FAILURE within bounded time, and enrollment resumes by itself when Intune is back (a fresh token and
// a fresh discovery where the failure called for them).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyObject } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { webcrypto } from 'node:crypto';
import {
  buildDeviceCsr,
  generateDeviceKeys,
  startEmulator,
  type RunningEmulator,
} from '@scepkit/intune-emulator';
import type * as ServeModule from '../../packages/cli/dist/commands/serve-command.js';
import { enroll, parseConfig, serve } from '../support/cli.js';
import { emulatorIntuneConfig } from '../support/emulator.js';

describe('Intune outages: fail closed, quickly, and recover by themselves', () => {
  let emu: RunningEmulator;
  let s: Awaited<ReturnType<typeof ServeModule.serve>>;
  const keys: webcrypto.CryptoKeyPair[] = [];

  before(async () => {
    const pool = Promise.all(Array.from({ length: 9 }, () => generateDeviceKeys(2048)));
    emu = await startEmulator({ port: 0 });
    const dir = await mkdtemp(join(tmpdir(), 'scepkit-outage-'));
    const tlsCaFile = join(dir, 'emulator-tls.pem');
    await writeFile(tlsCaFile, emu.tlsCaPem);
    const config = parseConfig({
      dataDir: join(dir, 'data'),
      server: { port: 0 },
      ca: { keyType: 'rsa-2048' },
      log: { level: 'silent' },
      endpoints: [{ path: '/scep', challenge: { type: 'intune' } }],
      intune: {
        ...emulatorIntuneConfig(emu, tlsCaFile),
        timeoutMs: 1500,
        doctorAtStartup: false,
        revocationIntervalSeconds: 0,
      },
    });
    s = await serve(config, {
      init: true,
      out: { write: () => true } as unknown as NodeJS.WritableStream,
      env: { ...process.env, SCEPKIT_INTUNE_CLIENT_SECRET: emu.clientSecret },
    });
    keys.push(...(await pool));
  });
  after(async () => {
    await s?.close();
    await emu?.stop();
  });

  /** One enrollment of the seeded Windows device with a fresh challenge: 'SUCCESS' or the refusal text. */
  async function attempt(): Promise<string> {
    const device = emu.seed!.devices.windows;
    const profile = emu.seed!.deviceProfiles.windows;
    const payload = emu.emulator
      .checkIn(device.tenantId, device.id, { force: true })
      .find((p) => p.profileId === profile.id)!;
    const k = keys.pop()!;
    const csr = await buildDeviceCsr({ profile, device, challenge: payload.challenge, keys: k });
    return enroll({
      url: `${s.url}/scep`,
      subject: '',
      csr: { der: csr.der, privateKey: KeyObject.from(k.privateKey) },
    }).then(
      () => 'SUCCESS',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
  }

  const issued = async () => (await s.runtime.store.countCertificates({ expiringWithinDays: 1 })).issued;

  it('ok/baseline-enrollment', async () => {
    assert.equal(await attempt(), 'SUCCESS');
  });

  for (const [name, fault] of [
    ['slow', { kind: 'latency', ms: 10_000 }],
    ['down', { kind: 'drop' }],
    ['401', { kind: 'unauthorized' }],
    ['500', { kind: 'http500' }],
  ] as const) {
    it(
      `fail-then-ok/intune-${name}: FAILURE quickly, nothing issued, then resumes`,
      { timeout: 90_000 },
      async () => {
        const before = await issued();
        const tokens = emu.emulator.requestsOf('token').length;
        const discoveries = emu.emulator.requestsOf('discovery').length;
        emu.emulator.faults.add('validateRequest', fault);
        const t0 = Date.now();
        const outcome = await attempt();
        const elapsed = Date.now() - t0;
        emu.emulator.faults.clear({ operation: 'validateRequest' });
        assert.match(outcome, /badRequest/, `${name}: ${outcome}`);
        // Bounded: the per-request timeout and a few bounded retries, not the 10 s the emulator would hang.
        assert.ok(elapsed < 30_000, `${name}: FAILURE took ${elapsed} ms`);
        assert.equal(await issued(), before, 'no certificate issued while Intune failed');
        // Back: the next enrollment succeeds by itself.
        assert.equal(await attempt(), 'SUCCESS');
        assert.equal(await issued(), before + 1);
        if (fault.kind === 'unauthorized') {
          assert.ok(
            emu.emulator.requestsOf('token').length > tokens,
            'a 401 makes the client fetch a fresh token',
          );
        }
        if (fault.kind === 'drop' || fault.kind === 'http500') {
          assert.ok(
            emu.emulator.requestsOf('discovery').length > discoveries,
            'the failure made the client re-discover',
          );
        }
      },
    );
  }
});
