import { join } from 'node:path';
import { getCaCerts, pointLine, runPoint } from './load-generator.js';
import type { PointResult, StageOptions, Target } from './load-generator.js';
import { buildRequests } from './messages.js';
import {
  countPostgresCertificates,
  dropPostgresSchema,
  startBackendMeter,
  withApplicationName,
} from './postgres.js';
import { startScepkit } from './servers.js';
import type { RunningScepkit } from './servers.js';

/** One point of the cluster stage, checked against the store. */
export interface ClusterPoint {
  result: PointResult;
  /** Certificate rows the store gained during the point (should equal result.ok). */
  storedRows: number;
  /** CPU of the PostgreSQL backends serving the scepkit processes, per request sent. */
  postgresCpuMsPerEnrollment: number;
  /** Set for the point of one `scepkit serve --workers N` (N worker processes behind one port). */
  workers?: number;
  /** The round (1-based) the point belongs to. */
  round: number;
}

export interface ClusterStageOptions extends StageOptions {
  postgresUrl: string;
  /** Each round runs the three series once more, in reverse order every other round (default 1). */
  rounds?: number;
}

export interface ClusterResults {
  schema: string;
  points: ClusterPoint[];
  /** Serials issued more than once over the whole stage, across processes and points. */
  duplicateSerials: number;
  /** Rows in the certificates table at the end, and distinct serials among them. */
  storeRows: number;
  storeDistinctSerials: number;
  /** Successful enrollments over the whole stage, warm-ups included (should equal storeRows). */
  enrolled: number;
}

/**
 * scepkit on one PostgreSQL schema (fresh per run, dropped after): one process, two `scepkit serve` processes on
 * the same data directory (same CA keys) and store with the load generator sending round-robin to both, and the
 * built-in cluster mode (`scepkit serve --workers 2`: two workers behind one port). All of them start first and
 * stay up; a series loads only its own (the others are idle). With several rounds the series alternate (one
 * process, two, workers; then the reverse), so that a ratio compares points run next to each other on a VM whose
 * speed drifts. Each point is checked against the store (rows added == successes) and, over the stage, no serial
 * may be issued twice.
 */
export async function clusterStage(o: ClusterStageOptions): Promise<ClusterResults> {
  const schema = `bench_cluster_${Date.now().toString(36)}`;
  const dataDir = join(o.dir, 'cluster');
  // The server's connections carry the schema as application_name, to find their backends' CPU.
  const store = { type: 'postgres', url: withApplicationName(o.postgresUrl, schema), schema };
  const servers: RunningScepkit[] = [];
  const points: ClusterPoint[] = [];
  const allSerials = new Set<string>();
  let duplicateSerials = 0;
  let enrolled = 0;
  const rounds = Math.max(1, o.rounds ?? 1);
  try {
    servers.push(await startScepkit(dataDir, { store }));
    // The other processes start after the first created the CA (no --init): same keys, same store.
    servers.push(await startScepkit(dataDir, { store, init: false }));
    // One primary, two workers; CPU and memory are counted over the primary and its workers.
    servers.push(await startScepkit(dataDir, { store, init: false, env: { SCEPKIT_WORKERS: '2' } }));
    const [one, two, workers] = servers as [RunningScepkit, RunningScepkit, RunningScepkit];
    const ca = await getCaCerts(one.url);
    const count = () => countPostgresCertificates(o.postgresUrl, schema);
    const target = (s: RunningScepkit): Target => ({ url: s.url, pid: s.pid });
    const series = async (label: string, targets: Target[], round: number, width?: number) => {
      const build = (n: number, tag: string) =>
        buildRequests({
          count: n,
          pool: o.pool,
          recipient: ca.recipient,
          challenge: one.challenge,
          tag,
        });
      const record = (serials: readonly string[]) => {
        for (const x of serials) {
          if (allSerials.has(x)) duplicateSerials++;
          allSerials.add(x);
        }
        enrolled += serials.length;
      };
      if (o.warmup > 0 && round === 1) {
        // Every process warms up (the kernel spreads a cluster's connections over its workers).
        const n = width ?? targets.length;
        const warm = await build(o.warmup * n, `${label}-w`);
        record((await runPoint({ server: 'scepkit', targets, maxSeconds: 120 }, ca, warm, n)).serials);
      }
      for (const c of o.concurrencies) {
        const requests = await build(o.count, `${label}-r${round}-c${c}`);
        const before = (await count()).rows;
        const postgresCpu = await startBackendMeter(o.postgresUrl, schema);
        const { result, serials } = await runPoint(
          { server: 'scepkit', label, targets, maxSeconds: o.maxSeconds },
          ca,
          requests,
          c,
        );
        const postgresCpuMsPerEnrollment = ((await postgresCpu()) * 1000) / Math.max(1, result.sent);
        record(serials);
        const storedRows = (await count()).rows - before;
        o.log(
          `${pointLine(result)}; store +${storedRows} rows, ` +
            `PostgreSQL ${postgresCpuMsPerEnrollment.toFixed(2)} CPU-ms/enr` +
            (rounds > 1 ? ` (round ${round})` : ''),
        );
        points.push({
          result,
          storedRows,
          postgresCpuMsPerEnrollment,
          round,
          ...(width ? { workers: width } : {}),
        });
      }
    };
    const order = [
      (round: number) => series('pg x1', [target(one)], round),
      (round: number) => series('pg x2', [target(one), target(two)], round),
      (round: number) => series('pg --workers 2', [target(workers)], round, 2),
    ];
    for (let round = 1; round <= rounds; round++) {
      for (const run of round % 2 ? order : [...order].reverse()) await run(round);
    }
    const end = await count();
    return {
      schema,
      points,
      duplicateSerials,
      storeRows: end.rows,
      storeDistinctSerials: end.distinctSerials,
      enrolled,
    };
  } finally {
    for (const s of servers.reverse()) await s.stop();
    await dropPostgresSchema(o.postgresUrl, schema);
  }
}
