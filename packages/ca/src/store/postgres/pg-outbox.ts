import { toOutboxItem } from '../rows.js';
import type { Row } from '../rows.js';
import type { ClaimOutboxInput, EnqueueOutboxInput, OutboxItem } from '../types.js';
import { assertClaim, toJson } from '../validate.js';
import type { PgContext } from './pg-context.js';

export async function enqueueOutbox(ctx: PgContext, input: EnqueueOutboxInput): Promise<OutboxItem> {
  const now = ctx.now();
  const payload = toJson(input.payload);
  return ctx.db.run(async (c) => {
    const r = await c.query(
      `INSERT INTO ${ctx.s}.outbox (kind, payload, dedupe_key, next_attempt_at, created_at)
       VALUES ($1, $2::jsonb, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING *`,
      [input.kind, payload, input.dedupeKey ?? null, input.notBefore ?? now, now],
    );
    const row = r.rows[0] as Row | undefined;
    if (row) return toOutboxItem(row);
    const existing = await c.query(`SELECT * FROM ${ctx.s}.outbox WHERE dedupe_key = $1`, [input.dedupeKey]);
    return toOutboxItem(existing.rows[0] as Row);
  });
}

export async function claimOutbox(ctx: PgContext, input: ClaimOutboxInput): Promise<OutboxItem[]> {
  assertClaim(input.limit, input.leaseMs);
  const now = ctx.now();
  // The CTE runs once and locks the rows it picks. SKIP LOCKED: rows another node is claiming right now are
  // skipped; rows it has just claimed fail the re-checked lease condition. So two nodes never hold the same
  // item at once.
  const rows = await ctx.db.query(
    `WITH due AS (
       SELECT id FROM ${ctx.s}.outbox
       WHERE NOT done AND next_attempt_at <= $3 AND (lease_expires_at IS NULL OR lease_expires_at <= $3)
       ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
     UPDATE ${ctx.s}.outbox o SET lease_owner = $1, lease_expires_at = $2, attempts = o.attempts + 1
     FROM due WHERE o.id = due.id
     RETURNING o.*`,
    [input.owner, new Date(now.getTime() + input.leaseMs), now, input.limit],
  );
  return rows
    .map(toOutboxItem)
    .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.id - b.id);
}

export async function completeOutbox(
  ctx: PgContext,
  id: number,
  owner: string,
  error?: string,
): Promise<boolean> {
  const r = await ctx.db.run((c) =>
    c.query(
      `UPDATE ${ctx.s}.outbox SET done = true, lease_owner = NULL, lease_expires_at = NULL,
         last_error = coalesce($1, last_error)
       WHERE id = $2 AND lease_owner = $3 AND NOT done`,
      [error ?? null, id, owner],
    ),
  );
  return r.rowCount === 1;
}

export async function rescheduleOutbox(
  ctx: PgContext,
  id: number,
  owner: string,
  options: { error: string; nextAttemptAt: Date },
): Promise<boolean> {
  const r = await ctx.db.run((c) =>
    c.query(
      `UPDATE ${ctx.s}.outbox SET lease_owner = NULL, lease_expires_at = NULL, last_error = $1, next_attempt_at = $2
       WHERE id = $3 AND lease_owner = $4 AND NOT done`,
      [options.error, options.nextAttemptAt, id, owner],
    ),
  );
  return r.rowCount === 1;
}

export async function purgeOutbox(ctx: PgContext, before: Date): Promise<number> {
  const r = await ctx.db.run((c) =>
    c.query(`DELETE FROM ${ctx.s}.outbox WHERE done AND created_at < $1`, [before]),
  );
  return r.rowCount ?? 0;
}

export async function getOutboxItem(ctx: PgContext, id: number): Promise<OutboxItem | null> {
  const rows = await ctx.db.query(`SELECT * FROM ${ctx.s}.outbox WHERE id = $1`, [id]);
  return rows[0] ? toOutboxItem(rows[0]) : null;
}
