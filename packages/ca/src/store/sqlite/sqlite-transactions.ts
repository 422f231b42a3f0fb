import { TransactionStateError } from '../errors.js';
import { transactionWhere } from '../query-builder.js';
import { insertedTransaction, toTransaction } from '../rows.js';
import type { Row } from '../rows.js';
import { ALLOWED_FROM } from '../transitions.js';
import type {
  AuditEventInput,
  BeginTransactionInput,
  BeginTransactionResult,
  TransactionKey,
  TransactionQuery,
  TransactionRecord,
  TransactionState,
  TransactionUpdate,
} from '../types.js';
import { toBuffer, toJson } from '../validate.js';
import { insertAudit } from './sqlite-audit.js';
import { SQLITE_DIALECT } from './sqlite-db.js';
import type { SqliteContext } from './sqlite-db.js';

export function beginTransaction(
  ctx: SqliteContext,
  input: BeginTransactionInput,
  audit?: AuditEventInput,
): BeginTransactionResult {
  const now = ctx.now().getTime();
  const details = audit ? toJson(audit.details ?? {}) : '';
  // Not fsynced by itself: a begun transaction lost in a power cut was never answered (the client retries), and
  // the issuing commit that follows it is durable and carries it along.
  return ctx.db.writeRelaxed(() => {
    const created =
      ctx.db
        .stmt(
          `INSERT INTO transactions (transaction_id, profile, request_hash, state, csr, created_at, updated_at)
           VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING`,
        )
        .run(
          input.transactionId,
          input.profile,
          input.requestHash,
          input.csr ? toBuffer(input.csr) : null,
          now,
          now,
        ).changes === 1;
    if (created) {
      if (audit) insertAudit(ctx, { ...audit, transactionId: input.transactionId }, details);
      return { transaction: insertedTransaction(input, new Date(now)), created: true };
    }
    return { transaction: toTransaction(selectTransaction(ctx, input) as Row), created: false };
  });
}

export function getTransaction(ctx: SqliteContext, key: TransactionKey): TransactionRecord | null {
  const row = ctx.db.read(() => selectTransaction(ctx, key));
  return row ? toTransaction(row) : null;
}

export function listTransactions(ctx: SqliteContext, query: TransactionQuery): TransactionRecord[] {
  const q = transactionWhere(SQLITE_DIALECT, query);
  const sql = `SELECT * FROM transactions ${q.where} ORDER BY created_at DESC, rowid DESC ${q.page}`;
  return ctx.db.read(() => ctx.db.stmt(sql).all(...q.params) as Row[]).map(toTransaction);
}

export function updateTransaction(
  ctx: SqliteContext,
  key: TransactionKey,
  update: TransactionUpdate,
  audit?: AuditEventInput,
): TransactionRecord {
  const now = ctx.now().getTime();
  const details = audit ? toJson(audit.details ?? {}) : '';
  const fields =
    update.state === 'approved'
      ? { serial: null, failInfo: null, reason: null }
      : { serial: null, failInfo: update.failInfo ?? null, reason: update.reason ?? null };
  return ctx.db.write(() => {
    const row = transition(ctx, key, update.state, fields, now);
    if (audit)
      insertAudit(ctx, { ...audit, transactionId: audit.transactionId ?? key.transactionId }, details);
    return toTransaction(row);
  });
}

export function markTransactionNotified(ctx: SqliteContext, key: TransactionKey): boolean {
  const now = ctx.now().getTime();
  // A status flag: lost in a power cut, it is only reported as not notified; no fsync of its own.
  return ctx.db.writeRelaxed(
    () =>
      ctx.db
        .stmt('UPDATE transactions SET notified = 1, updated_at = ? WHERE transaction_id = ? AND profile = ?')
        .run(now, key.transactionId, key.profile).changes === 1,
  );
}

function selectTransaction(ctx: SqliteContext, key: TransactionKey): Row | undefined {
  return ctx.db
    .stmt('SELECT * FROM transactions WHERE transaction_id = ? AND profile = ?')
    .get(key.transactionId, key.profile) as Row | undefined;
}

/** Compare-and-set state change inside the caller's (write-locked) transaction. */
export function transition(
  ctx: SqliteContext,
  key: TransactionKey,
  to: TransactionState,
  fields: { serial: string | null; failInfo: string | null; reason: string | null },
  now: number,
): Row {
  const row = ctx.db
    .stmt(
      `UPDATE transactions SET state = ?, serial = ?, fail_info = ?, reason = ?, updated_at = ?,
         csr = CASE WHEN ? THEN csr ELSE NULL END
       WHERE transaction_id = ? AND profile = ? AND state IN (SELECT value FROM json_each(?)) RETURNING *`,
    )
    .get(
      to,
      fields.serial,
      fields.failInfo,
      fields.reason,
      now,
      to === 'approved' ? 1 : 0,
      key.transactionId,
      key.profile,
      JSON.stringify(ALLOWED_FROM[to]),
    ) as Row | undefined;
  if (row) return row;
  const current = selectTransaction(ctx, key);
  if (!current)
    throw new TransactionStateError('transaction-not-found', `no transaction ${key.transactionId}`, null);
  const state = current['state'] as string;
  throw new TransactionStateError(
    'invalid-transition',
    `transaction is ${state}, cannot become ${to}`,
    state,
  );
}
