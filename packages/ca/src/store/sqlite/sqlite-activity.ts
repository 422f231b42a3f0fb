import {
  ACTIVITY_ACTION_LIST,
  CHALLENGE_REFUSED_PREFIX,
  MAX_ACTIVITY_CODE,
  hourFloor,
  toActivityRow,
} from '../activity.js';
import type { EnrollmentActivityQuery, EnrollmentActivityRow } from '../activity.js';
import type { SqliteContext } from './sqlite-db.js';

const START = CHALLENGE_REFUSED_PREFIX.length + 1;

// Uses audit_action (action, time); `details` is JSON text.
const SQL = `
SELECT (time / 3600000) * 3600000 AS hour, action,
       json_extract(details, '$.failInfo') AS fail_info,
       CASE WHEN action = 'refuse' AND json_extract(details, '$.reason') LIKE '${CHALLENGE_REFUSED_PREFIX}Intune%'
            THEN substr(json_extract(details, '$.reason'), ${START}, ${MAX_ACTIVITY_CODE}) END AS intune,
       count(*) AS n
FROM audit_log
WHERE action IN (${ACTIVITY_ACTION_LIST.map(() => '?').join(', ')}) AND time >= ? AND time < ? AND actor = 'scep'
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4`;

export function enrollmentActivity(ctx: SqliteContext, q: EnrollmentActivityQuery): EnrollmentActivityRow[] {
  const rows = ctx.db.read(
    () =>
      ctx.db
        .stmt(SQL)
        .all(...ACTIVITY_ACTION_LIST, hourFloor(q.from).getTime(), q.to.getTime()) as Parameters<
        typeof toActivityRow
      >[0][],
  );
  return rows.map(toActivityRow);
}
