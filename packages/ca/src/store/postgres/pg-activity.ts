import {
  ACTIVITY_ACTION_LIST,
  CHALLENGE_REFUSED_PREFIX,
  MAX_ACTIVITY_CODE,
  hourFloor,
  toActivityRow,
} from '../activity.js';
import type { EnrollmentActivityQuery, EnrollmentActivityRow } from '../activity.js';
import type { PgContext } from './pg-context.js';

const START = CHALLENGE_REFUSED_PREFIX.length + 1;

// Uses audit_action (action, time); `details` is jsonb.
const sql = (s: string) => `
SELECT (floor(extract(epoch FROM time) / 3600) * 3600000)::bigint AS hour, action,
       details->>'failInfo' AS fail_info,
       CASE WHEN action = 'refuse' AND details->>'reason' LIKE '${CHALLENGE_REFUSED_PREFIX}Intune%'
            THEN substr(details->>'reason', ${START}, ${MAX_ACTIVITY_CODE}) END AS intune,
       count(*) AS n
FROM ${s}.audit_log
WHERE action = ANY($1::text[]) AND time >= $2 AND time < $3 AND actor = 'scep'
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4`;

export async function enrollmentActivity(
  ctx: PgContext,
  q: EnrollmentActivityQuery,
): Promise<EnrollmentActivityRow[]> {
  const rows = await ctx.db.query(sql(ctx.s), [ACTIVITY_ACTION_LIST, hourFloor(q.from), q.to]);
  return rows.map((r) => toActivityRow(r as Parameters<typeof toActivityRow>[0]));
}
