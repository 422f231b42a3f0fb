import { StoreError, TransactionStateError } from '../errors.js';
import { transactionWhere } from '../query-builder.js';
import { toTransaction } from '../rows.js';
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
import { insertAudit } from './pg-audit.js';
import { PG_DIALECT } from './pg-context.js';
import type { PgContext } from './pg-context.js';
import type { Queryable } from './pg-db.js';

export async function beginTransaction(
  ctx: PgContext,
  input: BeginTransactionInput,
  audit?: AuditEventInput,
): Promise<BeginTransactionResult> {
  const now = ctx.now();
  const details = audit ? toJson(audit.details ?? {}) : '';
  return ctx.db.tx(async (c) => {
    // Not flushed by itself (as in SQLite: a begun transaction lost in a crash was never answered); the issuing
    // commit that follows flushes the WAL up to itself, this record included.
    await c.query('SET LOCAL synchronous_commit TO OFF');
    // A concurrent inserter of the same key waits for the first one's commit, then does nothing.
    const created = await c.query(
      `INSERT INTO ${ctx.s}.transactions (transaction_id, profile, request_hash, state, csr, created_at, updated_at)
       VALUES ($1, $2, $3, 'pending', $4, $5, $5) ON CONFLICT DO NOTHING RETURNING *`,
      [input.transactionId, input.profile, input.requestHash, input.csr ? toBuffer(input.csr) : null, now],
    );
    const row = created.rows[0] as Row | undefined;
    if (row) {
      if (audit) await insertAudit(ctx, c, { ...audit, transactionId: input.transactionId }, details);
      return { transaction: toTransaction(row), created: true };
    }
    const existing = await selectTransaction(ctx, c, input);
    if (!existing) throw new StoreError('database', 'transaction vanished during beginTransaction');
    return { transaction: toTransaction(existing), created: false };
  });
}

export async function getTransaction(ctx: PgContext, key: TransactionKey): Promise<TransactionRecord | null> {
  const row = await ctx.db.run((c) => selectTransaction(ctx, c, key));
  return row ? toTransaction(row) : null;
}

export async function listTransactions(
  ctx: PgContext,
  query: TransactionQuery,
): Promise<TransactionRecord[]> {
  const q = transactionWhere(PG_DIALECT, query);
  const sql = `SELECT * FROM ${ctx.s}.transactions ${q.where} ORDER BY created_at DESC, seq DESC ${q.page}`;
  return (await ctx.db.query(sql, q.params)).map(toTransaction);
}

export async function updateTransaction(
  ctx: PgContext,
  key: TransactionKey,
  update: TransactionUpdate,
  audit?: AuditEventInput,
): Promise<TransactionRecord> {
  const now = ctx.now();
  const details = audit ? toJson(audit.details ?? {}) : '';
  const fields =
    update.state === 'approved'
      ? { serial: null, failInfo: null, reason: null }
      : { serial: null, failInfo: update.failInfo ?? null, reason: update.reason ?? null };
  return ctx.db.tx(async (c) => {
    const row = await transition(ctx, c, key, update.state, fields, now);
    if (audit) {
      await insertAudit(
        ctx,
        c,
        { ...audit, transactionId: audit.transactionId ?? key.transactionId },
        details,
      );
    }
    return toTransaction(row);
  });
}

export async function markTransactionNotified(ctx: PgContext, key: TransactionKey): Promise<boolean> {
  const r = await ctx.db.run((c) =>
    c.query(
      `UPDATE ${ctx.s}.transactions SET notified = true, updated_at = $1 WHERE transaction_id = $2 AND profile = $3`,
      [ctx.now(), key.transactionId, key.profile],
    ),
  );
  return r.rowCount === 1;
}

async function selectTransaction(
  ctx: PgContext,
  c: Queryable,
  key: TransactionKey,
): Promise<Row | undefined> {
  const r = await c.query(`SELECT * FROM ${ctx.s}.transactions WHERE transaction_id = $1 AND profile = $2`, [
    key.transactionId,
    key.profile,
  ]);
  return r.rows[0] as Row | undefined;
}

/**
 * Compare-and-set state change inside the caller's transaction: the row lock serialises concurrent changes and
 * the loser re-evaluates `state = ANY(...)` against the committed row.
 */
export async function transition(
  ctx: PgContext,
  c: Queryable,
  key: TransactionKey,
  to: TransactionState,
  fields: { serial: string | null; failInfo: string | null; reason: string | null },
  now: Date,
): Promise<Row> {
  const r = await c.query(
    `UPDATE ${ctx.s}.transactions SET state = $1, serial = $2, fail_info = $3, reason = $4, updated_at = $5,
       csr = CASE WHEN $6 THEN csr ELSE NULL END
     WHERE transaction_id = $7 AND profile = $8 AND state = ANY($9::text[]) RETURNING *`,
    [
      to,
      fields.serial,
      fields.failInfo,
      fields.reason,
      now,
      to === 'approved',
      key.transactionId,
      key.profile,
      ALLOWED_FROM[to],
    ],
  );
  const row = r.rows[0] as Row | undefined;
  if (row) return row;
  const current = await selectTransaction(ctx, c, key);
  if (!current)
    throw new TransactionStateError('transaction-not-found', `no transaction ${key.transactionId}`, null);
  const state = current['state'] as string;
  throw new TransactionStateError(
    'invalid-transition',
    `transaction is ${state}, cannot become ${to}`,
    state,
  );
}
