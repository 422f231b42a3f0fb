/*
 * `npm run bench [-- --quick] [-- --postgres]`: scepkit vs micromdm scepserver (also in alternated rounds at
 * concurrency 1), the RSA ceiling, the floor (a server that makes only the RSA operations and one fdatasync),
 * growth with the number of stored certificates, the cost of Intune validation (against the emulator) and one vs
 * two server processes on one PostgreSQL. Prints Markdown tables; writes bench/dist/results/<time>.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Args } from './args.js';
import { clusterStage } from './cluster-stage.js';
import { floorStage } from './floor-stage.js';
import type { ClusterResults } from './cluster-stage.js';
import { intuneStage } from './intune-stage.js';
import type { IntuneResults } from './intune-stage.js';
import { keyPool, runSeries, useHttpClient } from './load-generator.js';
import type { PointResult } from './load-generator.js';
import { dropPostgresSchema } from './postgres.js';
import { prefillPostgres, prefillSqlite } from './prefill.js';
import {
  ceilingTable,
  clusterTable,
  floorTable,
  growthRoundsTable,
  growthTable,
  intuneTable,
  openLoopTable,
  ratioRoundsTable,
  throughputTable,
} from './report.js';
import type { GrowthPoint, RatioRound } from './report.js';
import { REPO, runMicromdm, rsaSignsPerSecond, startScepkit } from './servers.js';

const args = new Args(process.argv.slice(2));
const quick = args.flag('quick');
const count = args.number('count', quick ? 150 : 2000);
const growthCount = args.number('growth-count', quick ? 150 : 2000);
const concurrencies = args.numbers('concurrency', [1, 2, 8, 32]);
const growthConcurrencies = args.numbers('growth-concurrency', [1, 8]);
const growthSizes = args.numbers('growth', [0, 10_000, 100_000]);
if (growthSizes[0] !== 0) throw new Error('--growth must start with 0');
// Rounds after the series, each a fresh store (0 stored) and the filled one back to back, in alternating order:
// this VM's speed drifts by 10-25% over minutes, so only such pairs tell what the stored certificates cost.
const growthRounds = args.number('growth-rounds', quick ? 0 : 3);
// Rounds of scepkit and micromdm at concurrency 1 back to back, in alternating order, each on a fresh store/depot:
// the ratio at concurrency 1 is a target, and the main stage measures the two servers minutes apart.
const ratioRounds = args.number('ratio-rounds', quick ? 0 : 3);
const ratioCount = args.number('ratio-count', count);
const maxSeconds = args.number('max-seconds', quick ? 60 : 300);
const warmup = args.number('warmup', quick ? 10 : 50);
const keys = args.number('keys', 64);
const only = args.string('only', 'all');
useHttpClient(args.string('http-client', 'raw'));
// `FULL` is the product default (an fsync per commit); `NORMAL` shows what the fsyncs cost.
const sqliteSync = args.string('sqlite-synchronous', 'FULL');
const sqliteConfig = { type: 'sqlite', synchronous: sqliteSync };
const pgUrl = args.string('postgres-url', 'postgres://scepkit:scepkit@127.0.0.1:5432/scepkit_test');
const intuneConcurrencies = args.numbers('intune-concurrency', [1, 8]);
// Open loop: the target is p99 < 50 ms at 100 enrollments/s over at least 1,000 requests.
const openRate = args.number('rate', 100);
const openCount = args.number('open-count', Math.max(count, 1000));
const openCap = args.number('open-cap', 64);
const OPEN_TARGET_P99_MS = 50;
const clusterConcurrencies = args.numbers('cluster-concurrency', [8, 32]);
const clusterRounds = args.number('cluster-rounds', quick ? 1 : 3);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const work = mkdtempSync(join(tmpdir(), 'scepkit-bench-'));
const cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
const cores = availableParallelism();
const started = new Date();
log(
  `work dir ${work}; ${cores} cores, ${cpuModel}; load avg ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

const pool = await keyPool(keys);
const want = (part: string) => only === 'all' || only.split(',').includes(part);

/** A failed stage is reported and the others still run, so one broken server does not lose the rest. */
const errors: string[] = [];
async function stage(name: string, run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (err) {
    const line = `${name} failed: ${err instanceof Error ? err.message : String(err)}`;
    log(line);
    errors.push(line);
  }
}

let ceiling: { signsPerSecond: number; line: string } | undefined;
if (want('ceiling')) {
  await stage('ceiling', () => {
    ceiling = rsaSignsPerSecond();
    log(`openssl speed: ${ceiling.line}`);
  });
}

async function scepkitSeries(
  dataDir: string,
  concs: readonly number[],
  n: number,
  label: string,
  store?: Record<string, unknown>,
) {
  const s = await startScepkit(dataDir, store ? { store } : {});
  try {
    return await runSeries({
      server: 'scepkit',
      targets: [{ url: s.url, pid: s.pid }],
      challenge: s.challenge,
      concurrencies: concs,
      count: n,
      maxSeconds,
      warmup,
      pool,
      label,
      log,
    });
  } finally {
    await s.stop();
  }
}

let scepkit: PointResult[] = [];
if (want('scepkit')) {
  await stage('scepkit', async () => {
    scepkit = await scepkitSeries(join(work, 'scepkit'), concurrencies, count, '', sqliteConfig);
  });
}

let micromdm: PointResult[] = [];
if (want('micromdm')) {
  await stage('micromdm', () => {
    micromdm = runMicromdm({
      dir: join(work, 'micromdm'),
      concurrencies,
      count,
      maxSeconds,
      warmup,
      keys,
      timeoutSeconds: maxSeconds * concurrencies.length + 600,
    });
  });
}

// What any Node.js server could reach here: the RSA operations and one durable write, nothing else.
const floorSeries = (name: string, concs: readonly number[], n: number) =>
  floorStage({ dir: join(work, name), pool, concurrencies: concs, count: n, warmup, maxSeconds, log });
let floor: PointResult[] = [];
if (want('floor')) {
  await stage('floor', async () => {
    floor = await floorSeries('floor', concurrencies, count);
  });
}

const ratio: RatioRound[] = [];
if (want('ratio') && ratioRounds > 0) {
  await stage('ratio rounds', async () => {
    const runScepkit = async (round: number) =>
      (
        await scepkitSeries(
          join(work, `ratio-scepkit-${round}`),
          [1],
          ratioCount,
          `round ${round}`,
          sqliteConfig,
        )
      )[0]!;
    const runMm = (round: number) =>
      runMicromdm({
        dir: join(work, `ratio-micromdm-${round}`),
        concurrencies: [1],
        count: ratioCount,
        maxSeconds,
        warmup,
        keys,
        timeoutSeconds: maxSeconds + 600,
      })[0]!;
    // With the floor stage, the floor runs between the two in each round.
    const runFloor = async (round: number) =>
      want('floor') ? (await floorSeries(`ratio-floor-${round}`, [1], ratioCount))[0] : undefined;
    // The order alternates, so that a drift within a round does not always favour the same server.
    for (let round = 1; round <= ratioRounds; round++) {
      const scepkitFirst = round % 2 === 1;
      const scepkitBefore = scepkitFirst ? await runScepkit(round) : undefined;
      const micromdmBefore = scepkitFirst ? undefined : runMm(round);
      const floorPoint = await runFloor(round);
      ratio.push({
        round,
        first: scepkitFirst ? 'scepkit' : 'micromdm',
        scepkit: scepkitBefore ?? (await runScepkit(round)),
        micromdm: micromdmBefore ?? runMm(round),
        ...(floorPoint ? { floor: floorPoint } : {}),
      });
    }
  });
}

const growth: GrowthPoint[] = [];
/** A store for one server: its scepkit `store` config and what removes it afterwards. */
interface FreshStore {
  config: Record<string, unknown>;
  remove(): Promise<void>;
}

async function growthSeries(
  store: string,
  fill: (template: Uint8Array, n: number) => Promise<number>,
  config: Record<string, unknown>,
  fresh: (round: number) => FreshStore,
) {
  const dir = join(work, `growth-${store}`);
  let stored = 0;
  for (const size of growthSizes) {
    let fillSeconds = 0;
    if (size > stored) {
      // The CA exists once the first point (0 stored) has run `serve --init`.
      const template = new Uint8Array(new X509Certificate(readFileSync(join(dir, 'ca', 'ca.cert.pem'))).raw);
      fillSeconds = await fill(template, size - stored);
      log(`${store}: filled ${size - stored} rows in ${fillSeconds.toFixed(1)} s`);
    }
    const results = await scepkitSeries(dir, growthConcurrencies, growthCount, `${store}@${size}`, config);
    for (const result of results) growth.push({ store, stored: size, fillSeconds, result });
    stored = size + results.reduce((a, r) => a + r.sent, warmup);
  }
  const largest = growthSizes.at(-1)!;
  if (largest === 0) return;
  const runFresh = async (round: number) => {
    const empty = fresh(round);
    try {
      const results = await scepkitSeries(
        join(work, `growth-${store}-fresh-${round}`),
        growthConcurrencies,
        growthCount,
        `${store}@0 round ${round}`,
        empty.config,
      );
      for (const result of results) growth.push({ store, stored: 0, fillSeconds: 0, result, round });
    } finally {
      await empty.remove();
    }
  };
  const runFilled = async (round: number) => {
    const results = await scepkitSeries(
      dir,
      growthConcurrencies,
      growthCount,
      `${store}@${largest} round ${round}`,
      config,
    );
    for (const result of results) growth.push({ store, stored: largest, fillSeconds: 0, result, round });
  };
  // The order alternates, so that a drift within a round does not always favour the same store.
  for (let round = 1; round <= growthRounds; round++) {
    if (round % 2) {
      await runFresh(round);
      await runFilled(round);
    } else {
      await runFilled(round);
      await runFresh(round);
    }
  }
}
if (want('sqlite')) {
  await stage('sqlite growth', () =>
    growthSeries(
      'sqlite',
      (template, n) => prefillSqlite(join(work, 'growth-sqlite', 'scepkit.db'), template, n),
      sqliteConfig,
      // Each fresh store is its own data directory (`scepkit.db` in it): nothing to drop.
      () => ({ config: sqliteConfig, remove: async () => {} }),
    ),
  );
}
if (args.flag('postgres')) {
  const schema = `bench_${Date.now().toString(36)}`;
  const config = { type: 'postgres', url: pgUrl, schema };
  await stage('postgres growth', async () => {
    try {
      await growthSeries(
        'postgres',
        (template, n) => prefillPostgres(pgUrl, schema, template, n),
        config,
        (round) => {
          const freshSchema = `${schema}_fresh${round}`;
          return {
            config: { ...config, schema: freshSchema },
            remove: () => dropPostgresSchema(pgUrl, freshSchema),
          };
        },
      );
    } finally {
      await dropPostgresSchema(pgUrl, schema);
    }
  });
}

let intune: IntuneResults | undefined;
if (want('intune')) {
  await stage('intune', async () => {
    intune = await intuneStage({
      dir: join(work, 'intune'),
      pool,
      concurrencies: intuneConcurrencies,
      count,
      rate: openRate,
      openCount,
      cap: openCap,
      devices: args.number('intune-devices', 16),
      warmup,
      maxSeconds,
      log,
    });
  });
}

let cluster: ClusterResults | undefined;
if (want('cluster')) {
  await stage('cluster', async () => {
    cluster = await clusterStage({
      dir: work,
      postgresUrl: pgUrl,
      pool,
      concurrencies: clusterConcurrencies,
      rounds: clusterRounds,
      count,
      warmup,
      maxSeconds,
      log,
    });
  });
}

const out = {
  started: started.toISOString(),
  finished: new Date().toISOString(),
  argv: process.argv.slice(2),
  sqliteSynchronous: sqliteSync,
  errors,
  machine: { cores, cpuModel, loadAvgAtEnd: loadavg() },
  ceiling,
  scepkit,
  micromdm,
  floor,
  ratio,
  growth,
  intune,
  cluster,
};
mkdirSync(join(REPO, 'bench', 'dist', 'results'), { recursive: true });
const file = join(REPO, 'bench', 'dist', 'results', `${started.toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(out, null, 2));

const lines = [
  `# scepkit bench ${quick ? '(quick) ' : ''}${started.toISOString()}`,
  `SQLite synchronous=${sqliteSync}; ${cores} cores, ${cpuModel}; load average at end ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
  ceiling ? `openssl speed -seconds 3 rsa2048: ${ceiling.line}` : '',
  '',
  scepkit.length || micromdm.length ? throughputTable(scepkit, micromdm) : '',
  '',
  ceiling && scepkit.length ? ceilingTable(ceiling.signsPerSecond, cores, scepkit) : '',
  '',
  floor.length ? floorTable(ceiling?.signsPerSecond, floor, scepkit, micromdm) : '',
  '',
  ratio.length ? ratioRoundsTable(ratio) : '',
  '',
  growth.length ? growthTable(growth) : '',
  '',
  growth.some((g) => g.round !== undefined) ? growthRoundsTable(growth) : '',
  '',
  intune ? intuneTable(intune) : '',
  '',
  intune ? openLoopTable(intune.open, OPEN_TARGET_P99_MS) : '',
  '',
  cluster ? clusterTable(cluster) : '',
  '',
  ...errors.map((e) => `ERROR: ${e}`),
  `results: ${file}`,
];
// Stages that did not run leave empty sections: one blank line between tables.
process.stdout.write(`${lines.join('\n').replace(/\n{3,}/g, '\n\n')}\n`);
rmSync(work, { recursive: true, force: true });
if (errors.length) process.exitCode = 1;
