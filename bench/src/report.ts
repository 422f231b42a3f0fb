import type { PointResult } from './load-generator.js';

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

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
      `${f((r.failed / Math.max(1, r.sent)) * 100)}%`,
      String(r.duplicateSerials),
      failures(r),
      `${f(r.loadAvgBefore, 2)} -> ${f(r.loadAvgAfter, 2)}`,
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

export interface GrowthPoint {
  store: string;
  stored: number;
  fillSeconds: number;
  result: PointResult;
}

export function growthTable(points: readonly GrowthPoint[]): string {
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
