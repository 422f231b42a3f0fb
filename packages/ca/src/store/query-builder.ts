// WHERE-clause builders for the search queries, shared by both SQL dialects.
import { assertSerialPrefix, clampLimit, clampOffset, escapeLike } from './validate.js';
import type { AuditQuery, CertificateQuery, TransactionQuery } from './types.js';

/** The differences between SQLite and PostgreSQL that the builders need. */
export interface Dialect {
  /** Placeholder for the n-th parameter (1-based): `?` or `$n`. */
  param(n: number): string;
  /** Case-insensitive LIKE operator: `LIKE` (SQLite, ASCII) or `ILIKE`. */
  ilike: string;
  /** Database value for a time. */
  time(d: Date): unknown;
}

export interface BuiltQuery {
  where: string;
  params: unknown[];
  /** `LIMIT .. OFFSET ..` with placeholders. */
  page: string;
}

class Builder {
  readonly clauses: string[] = [];
  readonly params: unknown[] = [];
  constructor(private readonly dialect: Dialect) {}

  add(sqlWithMarker: string, ...values: unknown[]): void {
    // `?` markers in sqlWithMarker are replaced by the dialect's placeholders, in order.
    const sql = sqlWithMarker.replace(/\?/g, () => {
      this.params.push(values.shift());
      return this.dialect.param(this.params.length);
    });
    this.clauses.push(sql);
  }

  build(limit?: number, offset?: number): BuiltQuery {
    const where = this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
    this.params.push(clampLimit(limit));
    const l = this.dialect.param(this.params.length);
    this.params.push(clampOffset(offset));
    const o = this.dialect.param(this.params.length);
    return { where, params: this.params, page: `LIMIT ${l} OFFSET ${o}` };
  }
}

export function certificateWhere(d: Dialect, q: CertificateQuery): BuiltQuery {
  const b = new Builder(d);
  if (q.subject !== undefined) b.add(`subject ${d.ilike} ? ESCAPE '\\'`, `%${escapeLike(q.subject)}%`);
  if (q.san !== undefined) b.add(`sans ${d.ilike} ? ESCAPE '\\'`, `%${escapeLike(q.san)}%`);
  if (q.serialPrefix !== undefined) {
    assertSerialPrefix(q.serialPrefix);
    b.add(`serial LIKE ?`, `${q.serialPrefix}%`);
  }
  if (q.status !== undefined) b.add('status = ?', q.status);
  if (q.expiringBefore !== undefined) b.add('not_after < ?', d.time(q.expiringBefore));
  if (q.profile !== undefined) b.add('profile = ?', q.profile);
  if (q.deviceId !== undefined) b.add('device_id = ?', q.deviceId);
  if (q.transactionId !== undefined) b.add('transaction_id = ?', q.transactionId);
  return b.build(q.limit, q.offset);
}

export function auditWhere(d: Dialect, q: AuditQuery): BuiltQuery {
  const b = new Builder(d);
  if (q.actor !== undefined) b.add('actor = ?', q.actor);
  if (q.action !== undefined) b.add('action = ?', q.action);
  if (q.transactionId !== undefined) b.add('transaction_id = ?', q.transactionId);
  if (q.serial !== undefined) b.add('serial = ?', q.serial);
  if (q.from !== undefined) b.add('time >= ?', d.time(q.from));
  if (q.to !== undefined) b.add('time < ?', d.time(q.to));
  if (q.beforeId !== undefined) b.add('id < ?', q.beforeId);
  return b.build(q.limit, 0);
}

export function transactionWhere(d: Dialect, q: TransactionQuery): BuiltQuery {
  const b = new Builder(d);
  if (q.state !== undefined) b.add('state = ?', q.state);
  if (q.profile !== undefined) b.add('profile = ?', q.profile);
  return b.build(q.limit, q.offset);
}
