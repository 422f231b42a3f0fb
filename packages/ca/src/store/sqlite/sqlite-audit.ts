import { auditWhere } from '../query-builder.js';
import { toAuditEvent } from '../rows.js';
import type { Row } from '../rows.js';
import type { AuditEvent, AuditEventInput, AuditQuery } from '../types.js';
import { toJson } from '../validate.js';
import { SQLITE_DIALECT } from './sqlite-db.js';
import type { SqliteContext } from './sqlite-db.js';

/** Insert an audit event (inside the caller's transaction). */
export function insertAudit(ctx: SqliteContext, event: AuditEventInput, details: string): Row {
  return ctx.db
    .stmt(
      `INSERT INTO audit_log (time, actor, action, transaction_id, serial, subject, details)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    )
    .get(
      (event.time ?? ctx.now()).getTime(),
      event.actor,
      event.action,
      event.transactionId ?? null,
      event.serial ?? null,
      event.subject ?? null,
      details,
    ) as Row;
}

export function appendAudit(ctx: SqliteContext, event: AuditEventInput): AuditEvent {
  const details = toJson(event.details ?? {});
  return toAuditEvent(ctx.db.write(() => insertAudit(ctx, event, details)));
}

export function queryAudit(ctx: SqliteContext, query: AuditQuery): AuditEvent[] {
  const q = auditWhere(SQLITE_DIALECT, query);
  const sql = `SELECT * FROM audit_log ${q.where} ORDER BY time DESC, id DESC ${q.page}`;
  return ctx.db.read(() => ctx.db.stmt(sql).all(...q.params) as Row[]).map(toAuditEvent);
}
