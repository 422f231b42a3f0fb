import { join } from 'node:path';
import { buildCsr } from '@scepkit/intune-emulator';
import type { ExpectedCsr } from '@scepkit/intune-emulator';
import { IntuneEmulatorProcess } from './intune-emulator.js';
import { getCaCerts, pointLine, runPoint } from './load-generator.js';
import type { PointOutcome, PointResult, StageOptions, Target } from './load-generator.js';
import { buildRequests } from './messages.js';
import type { PoolKey, PreparedRequest } from './messages.js';
import { runOpenLoop } from './open-loop.js';
import type { OpenLoopResult } from './open-loop.js';
import { cpuSeconds } from './proc.js';
import { startScepkit } from './servers.js';

export type ChallengeKind = 'static' | 'intune';

/** One point of the Intune stage, with what the emulator saw of it. */
export interface IntunePoint<R extends PointResult = PointResult> {
  endpoint: ChallengeKind;
  result: R;
  /** CPU of the emulator process per request sent (a cost real Intune would bear, not the CA's machine). */
  emulatorCpuMsPerEnrollment: number;
  /** Calls the emulator received during the point, by operation (validateRequest, successNotification...). */
  emulatorCalls: Record<string, number>;
  /** Issued certificates for which the emulator recorded a successNotification. */
  notified: number;
}

export interface IntuneResults {
  closed: IntunePoint[];
  open: IntunePoint<OpenLoopResult>[];
}

export interface IntuneStageOptions extends StageOptions {
  /** Open loop: arrival rate (requests/s), number of requests and cap on requests in flight. */
  rate: number;
  openCount: number;
  cap: number;
  /** Simulated devices the challenges are minted for (in turn). */
  devices: number;
}

const PATHS: Record<ChallengeKind, string> = { static: '/scep', intune: '/scep/intune' };
/** Both endpoints use the default profile, so they differ only in the challenge verifier. */
const ENDPOINTS = Object.entries(PATHS).map(([type, path]) => ({ path, challenge: { type } }));

/**
 * One scepkit process with a static-challenge and an Intune endpoint, against the Intune emulator in its own
 * process on loopback. Every request is a device CSR of the emulator's Windows device profile (subject, SAN,
 * KU, EKU); for the Intune endpoint its challenge is minted by a device check-in before the clock starts, for
 * the static endpoint it is the static password, so the two differ only by Intune's validation and
 * notification round trips (and the challenge's size, ~6 kB, which is what Intune sends).
 */
export async function intuneStage(o: IntuneStageOptions): Promise<IntuneResults> {
  const emu = await IntuneEmulatorProcess.start(join(o.dir, 'emulator'));
  try {
    const devices = await emu.addDevices(o.devices);
    const shapes = (await emu.mint(devices, devices.length)).map((p) => p.expected);
    const intune = emu.scepkitConfig();
    const s = await startScepkit(join(o.dir, 'scepkit'), {
      endpoints: ENDPOINTS,
      intune: intune.config,
      env: intune.env,
    });
    try {
      const target = (kind: ChallengeKind): Target => ({
        url: `${s.base}${PATHS[kind]}`,
        pid: s.pid,
      });
      const ca = await getCaCerts(target('static').url);
      const device = (expected: ExpectedCsr, challenge: string, key: PoolKey) =>
        buildCsr(expected, { challenge, keys: key.keys }).then((c) => new Uint8Array(c.der));
      const build = async (kind: ChallengeKind, n: number, tag: string): Promise<PreparedRequest[]> => {
        const payloads = kind === 'intune' ? await emu.mint(devices, n) : [];
        return buildRequests({
          count: n,
          pool: o.pool,
          recipient: ca.recipient,
          tag,
          csr: (i, key) =>
            kind === 'intune'
              ? device(payloads[i]!.expected, payloads[i]!.challenge, key)
              : device(shapes[i % shapes.length]!, s.challenge, key),
        });
      };
      const measure = async <R extends PointResult>(
        kind: ChallengeKind,
        run: () => Promise<PointOutcome & { result: R }>,
      ): Promise<IntunePoint<R>> => {
        await emu.takeCallCounts();
        const cpu0 = cpuSeconds(emu.pid);
        const { result, serials } = await run();
        const emulatorCpu = cpuSeconds(emu.pid) - cpu0;
        const notifiedSet = await emu.notifiedSerials();
        const point: IntunePoint<R> = {
          endpoint: kind,
          result,
          emulatorCpuMsPerEnrollment: result.sent ? (emulatorCpu * 1000) / result.sent : NaN,
          emulatorCalls: await emu.takeCallCounts(),
          notified: serials.filter((x) => notifiedSet.has(x)).length,
        };
        o.log(
          `${pointLine(result)}; emulator ${JSON.stringify(point.emulatorCalls)}, notified ${point.notified}`,
        );
        return point;
      };
      const kinds: ChallengeKind[] = ['static', 'intune'];
      for (const kind of kinds) {
        if (o.warmup <= 0) continue;
        const warm = await build(kind, o.warmup, `${kind}-w`);
        await runPoint({ server: 'scepkit', targets: [target(kind)], maxSeconds: 120 }, ca, warm, 1);
      }
      const closed: IntunePoint[] = [];
      for (const c of o.concurrencies) {
        for (const kind of kinds) {
          const requests = await build(kind, o.count, `${kind}-c${c}`);
          const opts = { server: 'scepkit', label: kind, targets: [target(kind)], maxSeconds: o.maxSeconds };
          closed.push(await measure(kind, () => runPoint(opts, ca, requests, c)));
        }
      }
      const open: IntunePoint<OpenLoopResult>[] = [];
      for (const kind of kinds) {
        const requests = await build(kind, o.openCount, `${kind}-open`);
        const opts = {
          server: 'scepkit',
          label: `${kind} open`,
          targets: [target(kind)],
          maxSeconds: o.maxSeconds,
        };
        open.push(await measure(kind, () => runOpenLoop(opts, ca, requests, o.rate, o.cap)));
      }
      return { closed, open };
    } finally {
      await s.stop();
    }
  } finally {
    await emu.stop();
  }
}
