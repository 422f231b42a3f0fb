import { toOutboxItem } from '../rows.js';
import type { Row } from '../rows.js';
import type { ClaimOutboxInput, EnqueueOutboxInput, OutboxItem } from '../types.js';
import { assertClaim, toJson } from '../validate.js';
import type { SqliteContext } from './sqlite-db.js';

export function enqueueOutbox(ctx: SqliteContext, input: EnqueueOutboxInput): OutboxItem {
  const now = ctx.now().getTime();
  const payload = toJson(input.payload);
  return ctx.db.write(() => {
    const row = ctx.db
      .stmt(
        `INSERT INTO outbox (kind, payload, dedupe_key, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING RETURNING *`,
      )
      .get(input.kind, payload, input.dedupeKey ?? null, input.notBefore?.getTime() ?? now, now) as
      Row | undefined;
    return toOutboxItem(
      row ?? (ctx.db.stmt('SELECT * FROM outbox WHERE dedupe_key = ?').get(input.dedupeKey) as Row),
    );
  });
}

export function claimOutbox(ctx: SqliteContext, input: ClaimOutboxInput): OutboxItem[] {
  assertClaim(input.limit, input.leaseMs);
  const now = ctx.now().getTime();
  // One statement inside BEGIN IMMEDIATE: the write lock makes the select-and-lease atomic across connections.
  const rows = ctx.db.write(
    () =>
      ctx.db
        .stmt(
          `UPDATE outbox SET lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1
           WHERE id IN (SELECT id FROM outbox
             WHERE done = 0 AND next_attempt_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)
             ORDER BY next_attempt_at, id LIMIT ?)
           RETURNING *`,
        )
        .all(input.owner, now + input.leaseMs, now, now, input.limit) as Row[],
  );
  return rows
    .map(toOutboxItem)
    .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.id - b.id);
}

export function completeOutbox(ctx: SqliteContext, id: number, owner: string, error?: string): boolean {
  return ctx.db.write(
    () =>
      ctx.db
        .stmt(
          `UPDATE outbox SET done = 1, lease_owner = NULL, lease_expires_at = NULL, last_error = coalesce(?, last_error)
           WHERE id = ? AND lease_owner = ? AND done = 0`,
        )
        .run(error ?? null, id, owner).changes === 1,
  );
}

export function rescheduleOutbox(
  ctx: SqliteContext,
  id: number,
  owner: string,
  options: { error: string; nextAttemptAt: Date },
): boolean {
  return ctx.db.write(
    () =>
      ctx.db
        .stmt(
          `UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL, last_error = ?, next_attempt_at = ?
           WHERE id = ? AND lease_owner = ? AND done = 0`,
        )
        .run(options.error, options.nextAttemptAt.getTime(), id, owner).changes === 1,
  );
}

export function purgeOutbox(ctx: SqliteContext, before: Date): number {
  return ctx.db.write(
    () => ctx.db.stmt('DELETE FROM outbox WHERE done = 1 AND created_at < ?').run(before.getTime()).changes,
  );
}

export function getOutboxItem(ctx: SqliteContext, id: number): OutboxItem | null {
  const row = ctx.db.read(() => ctx.db.stmt('SELECT * FROM outbox WHERE id = ?').get(id) as Row | undefined);
  return row ? toOutboxItem(row) : null;
}
