import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { selfSignedCertificate } from '@scepkit/scep';
import { runSeries } from './load-generator.js';
import type { Answer, PointResult, StageOptions, Verified } from './load-generator.js';
import { startFloor } from './servers.js';

/** The size of the floor's answers: about what scepkit's SUCCESS CertRep to a bench request weighs. */
export const FLOOR_REPLY_BYTES = 3000;

/** Why an answer is not the floor's: none, a network error, another status or another body length. */
function floorFailure(a: Answer | undefined): string | undefined {
  if (!a) return 'no answer';
  if (a.error) return `network: ${a.error}`;
  if (a.status !== 200) return `HTTP ${a.status}`;
  if (a.body?.length !== FLOOR_REPLY_BYTES) return 'short answer';
  return undefined;
}

/** An answer counts when it is HTTP 200 with the floor's fixed body length. */
async function checkFloor(
  _requests: readonly unknown[],
  answers: readonly Answer[],
  sent: number,
): Promise<Verified> {
  const failures: Record<string, number> = {};
  let ok = 0;
  for (let i = 0; i < sent; i++) {
    const cause = floorFailure(answers[i]);
    if (cause) failures[cause] = (failures[cause] ?? 0) + 1;
    else ok++;
  }
  return { ok, failures, duplicateSerials: 0, serials: [] };
}

/**
 * The floor (`floor-server.ts`): the same load generator, requests and concurrencies against a server that makes
 * only an enrollment's three RSA operations and one group-committed fdatasync, over Node's own HTTP server.
 */
export async function floorStage(o: StageOptions): Promise<PointResult[]> {
  mkdirSync(o.dir, { recursive: true });
  const floor = await startFloor(join(o.dir, 'issued.bin'), FLOOR_REPLY_BYTES);
  try {
    // The requests are encrypted to some RSA certificate the floor does not read: they only need the real size.
    const recipient = selfSignedCertificate({
      subject: new Uint8Array([0x30, 0x00]),
      privateKey: o.pool[0]!.privateKey,
    });
    return await runSeries({
      server: 'floor',
      targets: [{ url: floor.url, pid: floor.pid }],
      challenge: 'floor',
      concurrencies: o.concurrencies,
      count: o.count,
      maxSeconds: o.maxSeconds,
      warmup: o.warmup,
      pool: o.pool,
      log: o.log,
      fixed: { recipient, check: checkFloor },
    });
  } finally {
    await floor.stop();
    rmSync(o.dir, { recursive: true, force: true });
  }
}
