import type { ClusterPoint, ClusterResults } from './cluster-stage.js';
import type { IntunePoint, IntuneResults } from './intune-stage.js';
import type { PointResult } from './load-generator.js';
import type { OpenLoopResult } from './open-loop.js';

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

const errorRate = (r: PointResult) => `${f((r.failed / Math.max(1, r.sent)) * 100)}%`;
const loadAvg = (r: PointResult) => `${f(r.loadAvgBefore, 2)} -> ${f(r.loadAvgAfter, 2)}`;
const share = (n: number) => (Number.isFinite(n) ? `${f(n * 100)}%` : 'n/a');
const signed = (n: number, digits = 1) => `${n >= 0 ? '+' : ''}${f(n, digits)}`;

function failures(r: PointResult): string {
  const e = Object.entries(r.failures);
  return e.length ? e.map(([k, v]) => `${k}: ${v}`).join('; ') : '';
}

/** Throughput, latency, CPU and memory per concurrency, with the ratio to micromdm at the same concurrency. */
export function throughputTable(scepkit: readonly PointResult[], micromdm: readonly PointResult[]): string {
  const rows: string[][] = [];
  for (const r of [...scepkit, ...micromdm]) {
    const mm = micromdm.find((m) => m.concurrency === r.concurrency);
    const ratio =
      r.server === 'scepkit' && mm && mm.enrollmentsPerSecond > 0
        ? r.enrollmentsPerSecond / mm.enrollmentsPerSecond
        : NaN;
    rows.push([
      r.server,
      String(r.concurrency),
      `${r.ok}/${r.sent}`,
      f(r.enrollmentsPerSecond),
      f(r.p50Ms),
      f(r.p99Ms),
      f(r.cpuMsPerEnrollment, 2),
      f(r.peakRssMiB),
      r.server === 'scepkit' ? f(ratio, 2) : '',
      errorRate(r),
      String(r.duplicateSerials),
      failures(r),
      loadAvg(r),
    ]);
  }
  return table(
    [
      'server',
      'conc.',
      'ok/sent',
      'enr/s',
      'p50 ms',
      'p99 ms',
      'server CPU ms/enr',
      'peak RSS MiB',
      'x micromdm',
      'errors',
      'dup. serials',
      'failure causes',
      'load avg',
    ],
    rows,
  );
}

/** Fraction of the RSA ceiling (3 private operations per enrollment). */
export function ceilingTable(signsPerSecond: number, cores: number, scepkit: readonly PointResult[]): string {
  const perCore = signsPerSecond / 3;
  const c1 = scepkit.find((r) => r.concurrency === 1);
  const best = scepkit.reduce(
    (a, r) => (r.enrollmentsPerSecond > a.enrollmentsPerSecond ? r : a),
    scepkit[0]!,
  );
  return table(
    ['scope', 'ceiling enr/s', 'scepkit enr/s', 'fraction'],
    [
      [
        'one core (concurrency 1)',
        f(perCore),
        f(c1?.enrollmentsPerSecond ?? NaN),
        `${f(((c1?.enrollmentsPerSecond ?? NaN) / perCore) * 100)}%`,
      ],
      [
        `all ${cores} cores (best, c=${best.concurrency})`,
        f(perCore * cores),
        f(best.enrollmentsPerSecond),
        `${f((best.enrollmentsPerSecond / (perCore * cores)) * 100)}%`,
      ],
      [
        'CPU-bound view: 1000 / (server CPU ms per enrollment at c=1)',
        f(perCore),
        f(c1 ? 1000 / c1.cpuMsPerEnrollment : NaN),
        `${f((c1 ? 1000 / c1.cpuMsPerEnrollment / perCore : NaN) * 100)}%`,
      ],
    ],
  );
}

/**
 * The floor (only the three RSA operations and an fdatasync over Node's HTTP server) per concurrency: its share
 * of the RSA ceiling of one core, its ratio to micromdm, and scepkit's throughput as a share of it.
 */
export function floorTable(
  signsPerSecond: number | undefined,
  floor: readonly PointResult[],
  scepkit: readonly PointResult[],
  micromdm: readonly PointResult[],
): string {
  const perCore = (signsPerSecond ?? NaN) / 3;
  const rows = floor.map((r) => {
    const at = (points: readonly PointResult[]) =>
      points.find((p) => p.concurrency === r.concurrency)?.enrollmentsPerSecond ?? NaN;
    return [
      String(r.concurrency),
      `${r.ok}/${r.sent}`,
      f(r.enrollmentsPerSecond),
      f(r.p50Ms, 2),
      f(r.p99Ms, 2),
      f(r.cpuMsPerEnrollment, 2),
      f(r.loadGenCpuMsPerEnrollment, 2),
      share(r.enrollmentsPerSecond / perCore),
      share(1000 / r.cpuMsPerEnrollment / perCore),
      f(r.enrollmentsPerSecond / at(micromdm), 2),
      share(at(scepkit) / r.enrollmentsPerSecond),
    ];
  });
  return table(
    [
      'conc.',
      'ok/sent',
      'floor enr/s',
      'p50 ms',
      'p99 ms',
      'server CPU ms/enr',
      'load gen. CPU ms/enr',
      'of the one-core ceiling',
      'CPU-bound view',
      'floor x micromdm',
      'scepkit / floor',
    ],
    rows,
  );
}

export interface GrowthPoint {
  store: string;
  stored: number;
  fillSeconds: number;
  result: PointResult;
  /** Set for the back-to-back rounds after the series: a fresh store and the filled one. */
  round?: number;
}

export function growthTable(all: readonly GrowthPoint[]): string {
  const points = all.filter((g) => g.round === undefined);
  const rows = points.map((g) => {
    const base = points.find(
      (b) => b.store === g.store && b.stored === 0 && b.result.concurrency === g.result.concurrency,
    );
    const change = base ? (g.result.enrollmentsPerSecond / base.result.enrollmentsPerSecond - 1) * 100 : NaN;
    return [
      g.store,
      String(g.stored),
      f(g.fillSeconds),
      String(g.result.concurrency),
      `${g.result.ok}/${g.result.sent}`,
      f(g.result.enrollmentsPerSecond),
      f(g.result.p50Ms),
      f(g.result.p99Ms),
      f(g.result.cpuMsPerEnrollment, 2),
      `${change >= 0 ? '+' : ''}${f(change)}%`,
      `${f(g.result.loadAvgBefore, 2)} -> ${f(g.result.loadAvgAfter, 2)}`,
    ];
  });
  return table(
    [
      'store',
      'certs stored',
      'fill s',
      'conc.',
      'ok/sent',
      'enr/s',
      'p50 ms',
      'p99 ms',
      'server CPU ms/enr',
      'vs 0 stored',
      'load avg',
    ],
    rows,
  );
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const percent = (n: number) => `${signed(n)}%`;

/**
 * The rounds run back to back: per store and concurrency, the filled store against the fresh one of the same
 * round (run just before or just after it), round by round, for throughput and server CPU per enrollment, and the median change.
 */
export function growthRoundsTable(points: readonly GrowthPoint[]): string {
  const rounds = points.filter((g) => g.round !== undefined);
  const rows: string[][] = [];
  const keys = new Map<string, { store: string; concurrency: number }>();
  for (const g of rounds)
    keys.set(`${g.store}/${g.result.concurrency}`, { store: g.store, concurrency: g.result.concurrency });
  for (const { store, concurrency } of keys.values()) {
    const pairs: { filled: GrowthPoint; empty: GrowthPoint }[] = [];
    for (const filled of rounds) {
      if (filled.store !== store || filled.result.concurrency !== concurrency || filled.stored === 0)
        continue;
      const empty = rounds.find(
        (e) =>
          e.store === store &&
          e.result.concurrency === concurrency &&
          e.stored === 0 &&
          e.round === filled.round,
      );
      if (empty) pairs.push({ filled, empty });
    }
    if (pairs.length === 0) continue;
    const throughput = pairs.map(
      (p) => (p.filled.result.enrollmentsPerSecond / p.empty.result.enrollmentsPerSecond - 1) * 100,
    );
    const cpu = pairs.map(
      (p) => (p.filled.result.cpuMsPerEnrollment / p.empty.result.cpuMsPerEnrollment - 1) * 100,
    );
    rows.push([
      store,
      String(pairs[0]!.filled.stored),
      String(concurrency),
      pairs
        .map((p) => `${f(p.empty.result.enrollmentsPerSecond)} / ${f(p.filled.result.enrollmentsPerSecond)}`)
        .join(', '),
      throughput.map((n) => percent(n)).join(', '),
      percent(median(throughput)),
      cpu.map((n) => percent(n)).join(', '),
      percent(median(cpu)),
      String(pairs.reduce((a, p) => a + p.empty.result.failed + p.filled.result.failed, 0)),
    ]);
  }
  return table(
    [
      'store',
      'certs stored',
      'conc.',
      'enr/s fresh / filled, per round',
      'throughput change, per round',
      'median',
      'server CPU ms/enr change, per round',
      'median',
      'failed',
    ],
    rows,
  );
}

/** One round of `--ratio-rounds`: scepkit and micromdm at concurrency 1, back to back. */
export interface RatioRound {
  round: number;
  /** The server measured first in this round. */
  first: 'scepkit' | 'micromdm';
  scepkit: PointResult;
  micromdm: PointResult;
  /** The floor server, run between the two, when the floor stage is on. */
  floor?: PointResult;
}

/** scepkit against micromdm (and the floor) at concurrency 1, round by round, and the median ratios. */
export function ratioRoundsTable(rounds: readonly RatioRound[]): string {
  const ratios = rounds.map((r) => r.scepkit.enrollmentsPerSecond / r.micromdm.enrollmentsPerSecond);
  const floors = rounds.map((r) => (r.floor ? r.floor.enrollmentsPerSecond : NaN));
  const floorRatios = rounds.map((r, i) => floors[i]! / r.micromdm.enrollmentsPerSecond);
  const ofFloor = rounds.map((r, i) => r.scepkit.enrollmentsPerSecond / floors[i]!);
  const withFloor = floors.some(Number.isFinite);
  const rows = rounds.map((r, i) => [
    String(r.round),
    r.first,
    `${f(r.scepkit.enrollmentsPerSecond)} / ${f(r.micromdm.enrollmentsPerSecond)}`,
    `${f(r.scepkit.cpuMsPerEnrollment, 2)} / ${f(r.micromdm.cpuMsPerEnrollment, 2)}`,
    `${errorRate(r.scepkit)} / ${errorRate(r.micromdm)}`,
    f(ratios[i]!, 2),
    ...(withFloor ? [f(floors[i]!), f(floorRatios[i]!, 2), share(ofFloor[i]!)] : []),
  ]);
  rows.push([
    'median',
    '',
    '',
    '',
    '',
    f(median(ratios), 2),
    ...(withFloor ? [f(median(floors)), f(median(floorRatios), 2), share(median(ofFloor))] : []),
  ]);
  return table(
    [
      'round (c=1)',
      'first',
      'enr/s scepkit / micromdm',
      'server CPU ms/enr scepkit / micromdm',
      'errors scepkit / micromdm',
      'x micromdm',
      ...(withFloor ? ['floor enr/s', 'floor x micromdm', 'scepkit / floor'] : []),
    ],
    rows,
  );
}

const CALL_NAMES: Record<string, string> = {
  validateRequest: 'validate',
  successNotification: 'success',
  failureNotification: 'failure',
};

/** Emulator calls per request sent, e.g. `validate 1.00, success 1.00`. */
function calls(p: IntunePoint): string {
  return Object.entries(p.emulatorCalls)
    .map(([op, n]) => `${CALL_NAMES[op] ?? op} ${f(n / Math.max(1, p.result.sent), 2)}`)
    .join(', ');
}

/**
 * Closed loop, static vs Intune challenge on the same server. The Intune cost is the extra wall time per
 * enrollment at that concurrency (1000 / enr/s), in ms and as a fraction of the static endpoint's.
 */
export function intuneTable(results: IntuneResults): string {
  const rows = results.closed.map((p) => {
    const r = p.result;
    const base = results.closed.find(
      (b) => b.endpoint === 'static' && b.result.concurrency === r.concurrency,
    )?.result;
    const intune = p.endpoint === 'intune' && base !== undefined;
    const cost = intune ? 1000 / r.enrollmentsPerSecond - 1000 / base.enrollmentsPerSecond : NaN;
    return [
      p.endpoint,
      String(r.concurrency),
      `${r.ok}/${r.sent}`,
      f(r.enrollmentsPerSecond),
      f(r.p50Ms),
      f(r.p99Ms),
      f(r.cpuMsPerEnrollment, 2),
      f(p.emulatorCpuMsPerEnrollment, 2),
      intune ? signed(cost) : '',
      intune ? `${signed((cost / (1000 / base.enrollmentsPerSecond)) * 100)}%` : '',
      intune ? `${signed((r.enrollmentsPerSecond / base.enrollmentsPerSecond - 1) * 100)}%` : '',
      intune ? signed(r.cpuMsPerEnrollment - base.cpuMsPerEnrollment, 2) : '',
      calls(p),
      p.endpoint === 'intune' ? `${p.notified}/${r.ok}` : '',
      errorRate(r),
      failures(r),
      loadAvg(r),
    ];
  });
  return table(
    [
      'challenge',
      'conc.',
      'ok/sent',
      'enr/s',
      'p50 ms',
      'p99 ms',
      'server CPU ms/enr',
      'emulator CPU ms/enr',
      'Intune cost ms/enr',
      'Intune cost %',
      'enr/s vs static',
      'server CPU ms/enr vs static',
      'emulator calls/enr',
      'notified',
      'errors',
      'failure causes',
      'load avg',
    ],
    rows,
  );
}

/** Open loop at a fixed arrival rate; latency counted from each request's scheduled time. */
export function openLoopTable(points: readonly IntunePoint<OpenLoopResult>[], targetP99Ms: number): string {
  const rows = points.map((p) => {
    const r = p.result;
    return [
      p.endpoint,
      f(r.targetRate),
      String(r.concurrency),
      `${r.ok}/${r.sent}`,
      f(r.enrollmentsPerSecond),
      String(r.late),
      f(r.p50Ms),
      f(r.p99Ms),
      f(r.maxMs),
      f(r.serviceP99Ms),
      r.p99Ms < targetP99Ms && r.failed === 0 ? 'yes' : 'no',
      f(r.cpuMsPerEnrollment, 2),
      f(p.emulatorCpuMsPerEnrollment, 2),
      p.endpoint === 'intune' ? `${p.notified}/${r.ok}` : '',
      errorRate(r),
      failures(r),
      loadAvg(r),
    ];
  });
  return table(
    [
      'challenge',
      'rate/s',
      'cap',
      'ok/sent',
      'achieved enr/s',
      'late',
      'p50 ms',
      'p99 ms',
      'max ms',
      'p99 from send ms',
      `p99 < ${targetP99Ms} ms, no error`,
      'server CPU ms/enr',
      'emulator CPU ms/enr',
      'notified',
      'errors',
      'failure causes',
      'load avg',
    ],
    rows,
  );
}

/** One vs two scepkit processes, and one `serve --workers 2`, on one PostgreSQL, with the store check of each point. */
export function clusterTable(c: ClusterResults): string {
  const rounds = new Set(c.points.map((p) => p.round)).size;
  // Each point against the one-process point of the same round and concurrency.
  const ratioOf = ({ result: r, round }: ClusterPoint) => {
    const one = c.points.find(
      (b) =>
        b.result.processes === 1 && !b.workers && b.round === round && b.result.concurrency === r.concurrency,
    );
    return one ? r.enrollmentsPerSecond / one.result.enrollmentsPerSecond : NaN;
  };
  const rows = c.points.map((p) => {
    const { result: r, storedRows, postgresCpuMsPerEnrollment, workers } = p;
    return [
      ...(rounds > 1 ? [String(p.round)] : []),
      workers ? `${workers} (serve --workers ${workers})` : String(r.processes),
      String(r.concurrency),
      `${r.ok}/${r.sent}`,
      f(r.enrollmentsPerSecond),
      r.processes > 1 || workers ? f(ratioOf(p), 2) : '',
      f(r.p50Ms),
      f(r.p99Ms),
      f(r.cpuMsPerEnrollment, 2),
      f(r.serverCpuSeconds / r.seconds, 2),
      f(1000 / r.cpuMsPerEnrollment),
      f(postgresCpuMsPerEnrollment, 2),
      f(r.loadGenCpuMsPerEnrollment, 2),
      errorRate(r),
      String(r.duplicateSerials),
      `${storedRows}/${r.ok}`,
      failures(r),
      loadAvg(r),
    ];
  });
  const medians: string[][] = [];
  if (rounds > 1) {
    const kindOf = (p: ClusterPoint) => `${p.workers ?? 0}/${p.result.processes}/${p.result.concurrency}`;
    for (const kind of new Set(c.points.map(kindOf))) {
      const same = c.points.filter((p) => kindOf(p) === kind);
      const { result: r, workers } = same[0]!;
      const several = r.processes > 1 || workers !== undefined;
      medians.push([
        workers ? `${workers} (serve --workers ${workers})` : String(r.processes),
        String(r.concurrency),
        f(median(same.map((p) => p.result.enrollmentsPerSecond))),
        several ? f(median(same.map(ratioOf)), 2) : '',
        several ? same.map((p) => f(ratioOf(p), 2)).join(', ') : '',
        f(median(same.map((p) => p.result.cpuMsPerEnrollment)), 2),
        f(median(same.map((p) => p.postgresCpuMsPerEnrollment)), 2),
        f(median(same.map((p) => p.result.loadGenCpuMsPerEnrollment)), 2),
      ]);
    }
  }
  return [
    table(
      [
        ...(rounds > 1 ? ['round'] : []),
        'processes',
        'conc.',
        'ok/sent',
        'enr/s',
        'x one process',
        'p50 ms',
        'p99 ms',
        'server CPU ms/enr (all processes)',
        'server cores busy',
        'enr/s per server core',
        'PostgreSQL CPU ms/enr',
        'load-gen CPU ms/enr',
        'errors',
        'dup. serials',
        'store rows/ok',
        'failure causes',
        'load avg',
      ],
      rows,
    ),
    ...(rounds > 1
      ? [
          '',
          `Medians over the ${rounds} rounds (each ratio against the one process of its own round):`,
          '',
          table(
            [
              'processes',
              'conc.',
              'enr/s',
              'x one process',
              'per round',
              'server CPU ms/enr',
              'PostgreSQL CPU ms/enr',
              'load-gen CPU ms/enr',
            ],
            medians,
          ),
        ]
      : []),
    '',
    `Store after the stage: ${c.storeRows} certificate rows, ${c.storeDistinctSerials} distinct serials, ` +
      `${c.enrolled} successful enrollments (warm-ups included); serials issued twice over the stage: ` +
      `${c.duplicateSerials}.`,
  ].join('\n');
}
