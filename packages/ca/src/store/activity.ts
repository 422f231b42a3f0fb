/**
 * Enrollment activity for the admin console's chart: enrollment decisions counted per hour, read from the audit
 * log (`actor = 'scep'`) with one grouped query over the `(action, time)` index, so the cost is bounded by the
 * number of distinct (hour, outcome, failInfo, Intune code) groups, not by the number of events.
 */

/** The audit actions of the enrollment flow that the chart counts, by outcome. */
export const ACTIVITY_ACTIONS = {
  issue: 'issued',
  refuse: 'refused',
  pending: 'pending',
  error: 'error',
} as const;

export type ActivityOutcome = (typeof ACTIVITY_ACTIONS)[keyof typeof ACTIVITY_ACTIONS];

/**
 * The prefix the Authority gives the reason of a refused challenge; Intune's verifier words its reasons
 * `Intune: <code>` (see `describeIntuneError`), so an Intune refusal reads `challenge refused: Intune: <code>`.
 */
export const CHALLENGE_REFUSED_PREFIX = 'challenge refused: ';
/** Longest Intune code text kept per group. */
export const MAX_ACTIVITY_CODE = 80;

export interface EnrollmentActivityQuery {
  /** Inclusive; rounded down to the hour. */
  from: Date;
  /** Exclusive. */
  to: Date;
}

/** Enrollment decisions of one hour with one outcome (and failInfo / Intune code for refusals). */
export interface EnrollmentActivityRow {
  /** Start of the hour (UTC). */
  hour: Date;
  outcome: ActivityOutcome;
  /** `refused`: the SCEP failInfo recorded with the refusal. */
  failInfo: string | null;
  /** `refused` by Intune: the reason after `challenge refused: ` (e.g. `Intune: ChallengeExpired`), else null. */
  intune: string | null;
  count: number;
}

/** Read models of the admin console (both stores implement it; conformance suite `console.ts`). */
export interface ConsoleQueries {
  /** Enrollment decisions per hour in [from, to), ordered by hour. */
  enrollmentActivity(query: EnrollmentActivityQuery): Promise<EnrollmentActivityRow[]>;
}

const HOUR = 3_600_000;

export function hourFloor(d: Date): Date {
  return new Date(Math.floor(d.getTime() / HOUR) * HOUR);
}

/** Maps a grouped row of either database to the public shape. */
export function toActivityRow(r: {
  hour: number | string;
  action: string;
  fail_info: string | null;
  intune: string | null;
  n: number | string;
}): EnrollmentActivityRow {
  return {
    hour: new Date(Number(r.hour)),
    outcome: ACTIVITY_ACTIONS[r.action as keyof typeof ACTIVITY_ACTIONS],
    failInfo: r.action === 'refuse' ? (r.fail_info ?? null) : null,
    intune: r.intune ?? null,
    count: Number(r.n),
  };
}

export const ACTIVITY_ACTION_LIST = Object.keys(ACTIVITY_ACTIONS);
