import { auditWhere } from '../query-builder.js';
import { toAuditEvent } from '../rows.js';
import type { Row } from '../rows.js';
import type { AuditEvent, AuditEventInput, AuditQuery } from '../types.js';
import { toJson } from '../validate.js';
import { PG_DIALECT } from './pg-context.js';
import type { PgContext } from './pg-context.js';
import { one } from './pg-db.js';
import type { Queryable } from './pg-db.js';

/** Insert an audit event on `c` (inside the caller's transaction, if any). */
export function insertAudit(
  ctx: PgContext,
  c: Queryable,
  event: AuditEventInput,
  details: string,
): Promise<Row> {
  return one(
    c,
    `INSERT INTO ${ctx.s}.audit_log (time, actor, action, transaction_id, serial, subject, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING *`,
    [
      event.time ?? ctx.now(),
      event.actor,
      event.action,
      event.transactionId ?? null,
      event.serial ?? null,
      event.subject ?? null,
      details,
    ],
  );
}

export async function appendAudit(ctx: PgContext, event: AuditEventInput): Promise<AuditEvent> {
  const details = toJson(event.details ?? {});
  return toAuditEvent(await ctx.db.run((c) => insertAudit(ctx, c, event, details)));
}

export async function queryAudit(ctx: PgContext, query: AuditQuery): Promise<AuditEvent[]> {
  const q = auditWhere(PG_DIALECT, query);
  const sql = `SELECT * FROM ${ctx.s}.audit_log ${q.where} ORDER BY time DESC, id DESC ${q.page}`;
  return (await ctx.db.query(sql, q.params)).map(toAuditEvent);
}
