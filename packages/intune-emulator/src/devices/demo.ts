import type { IntuneEmulator } from '../emulator.js';
import { PLATFORMS, type Platform } from '../model.js';
import { createDevice, type DeviceStep, type SimulatedDeviceOptions } from './device.js';

export interface RunDemoOptions {
  emulator: IntuneEmulator;
  /** The SCEP server URL the devices use (instead of their profiles' URLs). */
  scepUrl: string;
  /** Where lines go (e.g. `process.stdout`, or `(line) => ...`). */
  out: { write(text: string): unknown } | ((line: string) => void);
  /** Tenant (id or domain); default the first tenant. */
  tenantId?: string;
  /** Extra CAs (PEM) trusted for an HTTPS SCEP server. */
  tlsCaPem?: string;
  /** The trusted root (PEM) if the profiles have none (Windows checks its thumbprint). */
  trustCaPem?: string;
  /** Passed to each device (e.g. fixed keys in tests). */
  device?: Omit<SimulatedDeviceOptions, 'tenantId' | 'deviceId'>;
}

export interface DemoDeviceResult {
  platform: Platform;
  deviceId: string;
  ok: boolean;
  steps: DeviceStep[];
  certificates: { profileId: string; subject: string; serialNumber: string; thumbprint: string }[];
  error?: string;
}

/** The order a demo enrolls in. */
export const DEMO_PLATFORMS: readonly Platform[] = ['windows', 'ios', 'macos', 'android'];

/**
 * Enrolls the first enrolled device of each platform (Windows, iOS, macOS, Android; the seed makes one each)
 * against `scepUrl` and prints, per device, each step (check-in, GetCACaps, GetCACert, PKIOperation, validation,
 * notification) with its outcome and the certificates issued. A device that fails is reported and the demo goes on.
 *
 * @example
 * const results = await runDemo({ emulator: emu.emulator, scepUrl: 'https://127.0.0.1:8443/scep', out: process.stdout });
 */
export async function runDemo(o: RunDemoOptions): Promise<DemoDeviceResult[]> {
  const print = (line: string): void => {
    if (typeof o.out === 'function') o.out(line);
    else o.out.write(`${line}\n`);
  };
  const tenant = o.tenantId ? o.emulator.state.tenant(o.tenantId) : [...o.emulator.state.tenants.values()][0];
  if (!tenant) throw new RangeError('the emulator has no tenant (seed it first)');
  const devices = [...o.emulator.state.devices.values()].filter(
    (d) => d.tenantId === tenant.id && d.state === 'enrolled',
  );
  const results: DemoDeviceResult[] = [];
  for (const platform of DEMO_PLATFORMS.filter((p) => PLATFORMS.includes(p))) {
    const record = devices.find((d) => d.platform === platform);
    if (!record) continue;
    print(`== ${platform} device ${record.name} (${record.id})`);
    const device = createDevice(o.emulator, {
      ...o.device,
      tenantId: tenant.id,
      deviceId: record.id,
      ...(o.tlsCaPem ? { tlsCaPem: o.tlsCaPem } : {}),
    });
    const result: DemoDeviceResult = {
      platform,
      deviceId: record.id,
      ok: false,
      steps: [],
      certificates: [],
    };
    try {
      const r = await device.enroll({
        scepUrl: o.scepUrl,
        ...(o.trustCaPem ? { trustCaPem: o.trustCaPem } : {}),
      });
      result.certificates = r.certificates.map((c) => ({
        profileId: c.profileId,
        subject: c.subject,
        serialNumber: c.serialNumber,
        thumbprint: c.thumbprint,
      }));
      result.ok = r.steps.every((s) => s.ok);
    } catch (err) {
      result.error = err instanceof Error ? err.message : String(err);
    }
    result.steps = device.steps;
    results.push(result);
    for (const s of result.steps) {
      const http = s.http
        ? ` [${s.http.method} ${s.http.url} -> ${s.http.status} ${s.http.contentType}]`
        : '';
      print(`  ${s.ok ? 'ok  ' : 'FAIL'} ${s.step.padEnd(12)} ${s.detail}${http}`);
    }
    if (result.error) print(`  FAIL ${result.error}`);
    for (const c of result.certificates) {
      print(`  certificate: ${c.subject}`);
      print(`    serial ${c.serialNumber}  thumbprint ${c.thumbprint}`);
    }
  }
  return results;
}
