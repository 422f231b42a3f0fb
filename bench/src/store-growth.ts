/*
 * In-process cost of an enrollment's store writes (beginTransaction, then issue bound to it with its audit event)
 * on SQLite FULL with the checkpoint thread, as `scepkit serve` runs it, on an empty store and on a copy of one
 * filled with `--stored` certificates, in alternating order. No HTTP, no crypto: what the stored rows cost the
 * store itself, without the VM's drift between two server runs.
 *   node bench/dist/store-growth.js [--stored 100000] [--count 3000] [--concurrency 1,8] [--rounds 2]
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '@scepkit/ca';
import { Args } from './args.js';
import { enrollmentRows, prefill } from './prefill.js';

const args = new Args(process.argv.slice(2));
const stored = args.number('stored', 100_000);
const count = args.number('count', 3000);
const concurrencies = args.numbers('concurrency', [1, 8]);
const rounds = args.number('rounds', 2);
const work = mkdtempSync(join(tmpdir(), 'scepkit-store-growth-'));
const der = new Uint8Array(randomBytes(1000));

/**
 * A store file with `n` enrollments (transaction, certificate and audit rows, as a real store has), made once and
 * copied for each measurement.
 */
async function template(n: number): Promise<string> {
  const file = join(work, `template-${n}.db`);
  const store = new SqliteStore({ filename: file, synchronous: 'NORMAL' });
  await store.migrate();
  await prefill(store, der, n, 16);
  await store.close();
  return file;
}

async function measure(
  file: string,
  concurrency: number,
): Promise<{ wallUs: number; userUs: number; sysUs: number }> {
  const dir = mkdtempSync(join(work, 'run-'));
  copyFileSync(file, join(dir, 'scepkit.db'));
  const store = new SqliteStore({
    filename: join(dir, 'scepkit.db'),
    synchronous: 'FULL',
    checkpointThread: true,
  });
  try {
    for (let i = 0; i < 300; i++) await enrollmentRows(store, der, 1_000_000 + i); // warm-up
    let next = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) await enrollmentRows(store, der, 2_000_000 + next++);
      }),
    );
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { wallUs: (wall * 1000) / count, userUs: cpu.user / count, sysUs: cpu.system / count };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  const empty = await template(0);
  const filled = await template(stored);
  process.stdout.write(
    `| round | certs stored | conc. | wall µs/enr | CPU µs/enr | user | system |\n| --- | --- | --- | --- | --- | --- | --- |\n`,
  );
  for (let round = 1; round <= rounds; round++) {
    const order: [number, string][] = [
      [0, empty],
      [stored, filled],
    ];
    if (round % 2 === 0) order.reverse();
    for (const c of concurrencies) {
      for (const [n, file] of order) {
        const m = await measure(file, c);
        const cells = [round, n, c, m.wallUs, m.userUs + m.sysUs, m.userUs, m.sysUs].map((v) => v.toFixed(0));
        process.stdout.write(`| ${cells.join(' | ')} |\n`);
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
