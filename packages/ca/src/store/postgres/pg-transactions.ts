import { StoreError, TransactionStateError } from '../errors.js';
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
import { insertAudit } from './pg-audit.js';
import { PG_DIALECT, statement } from './pg-context.js';
import type { PgContext } from './pg-context.js';
import type { Queryable } from './pg-db.js';

/**
 * One statement when the transaction is new: the insert (and its audit event) commit without waiting for the WAL
 * flush, as in SQLite: a begun transaction lost in a crash was never answered, and the issuing commit that follows
 * flushes the WAL up to itself, this record included. `set_config(..., true)` is SET LOCAL for the statement's
 * implicit transaction. A concurrent inserter of the same key waits for the first one's commit, then inserts
 * nothing; the existing row is then read.
 */
export async function beginTransaction(
  ctx: PgContext,
  input: BeginTransactionInput,
  audit?: AuditEventInput,
): Promise<BeginTransactionResult> {
  const now = ctx.now();
  const params: unknown[] = [
    input.transactionId,
    input.profile,
    input.requestHash,
    input.csr ? toBuffer(input.csr) : null,
    now,
  ];
  let auditInsert = '';
  if (audit) {
    auditInsert = `, audited AS (INSERT INTO ${ctx.s}.audit_log (time, actor, action, transaction_id, serial, subject,
        details) SELECT $6::timestamptz, $7, $8, transaction_id, $9, $10, $11::jsonb FROM created)`;
    params.push(
      audit.time ?? now,
      audit.actor,
      audit.action,
      audit.serial ?? null,
      audit.subject ?? null,
      toJson(audit.details ?? {}),
    );
  }
  return ctx.db.run(async (c) => {
    const created = await c.query(
      statement(
        ctx,
        audit ? 'begin-audited' : 'begin',
        `WITH created AS (
         INSERT INTO ${ctx.s}.transactions (transaction_id, profile, request_hash, state, csr, created_at, updated_at)
         SELECT $1, $2, $3, 'pending', $4::bytea, $5::timestamptz, $5::timestamptz
         FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed
         ON CONFLICT DO NOTHING RETURNING transaction_id)${auditInsert}
       SELECT transaction_id FROM created`,
        params,
      ),
    );
    if (created.rows.length === 1) return { transaction: insertedTransaction(input, now), created: true };
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
      statement(
        ctx,
        'notified',
        `UPDATE ${ctx.s}.transactions SET notified = true, updated_at = $1 WHERE transaction_id = $2 AND profile = $3`,
        [ctx.now(), key.transactionId, key.profile],
      ),
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
