import type { EnrollmentActivityRow } from '@scepkit/ca';

const HOUR = 3_600_000;

/** The chart's series, in stacking order. */
export const SERIES = ['issued', 'pending', 'policy', 'intune', 'error'] as const;
export type Series = (typeof SERIES)[number];

/** One hour of the chart. */
export interface ActivityBucket {
  /** Start of the hour, ISO 8601 UTC. */
  hour: string;
  counts: Record<Series, number>;
  /** Refusals of the hour by reason: `badAlg` (policy) or `Intune: ChallengeExpired`. */
  refusals: Array<{ series: 'policy' | 'intune'; label: string; count: number }>;
}

export interface ActivityChart {
  from: string;
  to: string;
  buckets: ActivityBucket[];
  totals: Record<Series, number>;
}

const zero = (): Record<Series, number> => ({ issued: 0, pending: 0, policy: 0, intune: 0, error: 0 });

/**
 * Spreads the store's grouped rows over every hour of [now - hours, now] (empty hours included), oldest first.
 * A refusal whose challenge Intune refused counts as `intune` (labelled with Intune's code); any other refusal
 * as `policy` (labelled with its failInfo).
 */
export function activityChart(
  rows: readonly EnrollmentActivityRow[],
  now: Date,
  hours: number,
): ActivityChart {
  const last = Math.floor(now.getTime() / HOUR) * HOUR;
  const first = last - (hours - 1) * HOUR;
  const buckets: ActivityBucket[] = [];
  for (let t = first; t <= last; t += HOUR) {
    buckets.push({ hour: new Date(t).toISOString(), counts: zero(), refusals: [] });
  }
  const totals = zero();
  for (const r of rows) {
    const i = Math.round((r.hour.getTime() - first) / HOUR);
    const b = buckets[i];
    if (!b) continue;
    let series: Series;
    if (r.outcome === 'refused') {
      series = r.intune ? 'intune' : 'policy';
      const label = r.intune ? r.intune.replace(/^Intune:\s*/, '') : (r.failInfo ?? 'badRequest');
      const same = b.refusals.find((x) => x.series === series && x.label === label);
      if (same) same.count += r.count;
      else b.refusals.push({ series, label, count: r.count });
    } else {
      series = r.outcome;
    }
    b.counts[series] += r.count;
    totals[series] += r.count;
  }
  return { from: new Date(first).toISOString(), to: new Date(last + HOUR).toISOString(), buckets, totals };
}

export function activityWindow(now: Date, hours: number): { from: Date; to: Date } {
  const last = Math.floor(now.getTime() / HOUR) * HOUR;
  return { from: new Date(last - (hours - 1) * HOUR), to: new Date(last + HOUR) };
}
