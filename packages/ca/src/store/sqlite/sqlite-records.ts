// Challenges, CRL state and Intune revocation records on SQLite.
import { toCrl, toIntuneRevocation } from '../rows.js';
import type { Row } from '../rows.js';
import type {
  ConsumeChallengeResult,
  CrlRecord,
  IntuneRevocationRecord,
  MintChallengeInput,
  MintedChallenge,
} from '../types.js';
import { hashChallenge, newChallengePassword, toBuffer } from '../validate.js';
import type { SqliteContext } from './sqlite-db.js';

export function mintChallenge(
  ctx: SqliteContext,
  input: MintChallengeInput,
  random: (size: number) => Uint8Array,
): MintedChallenge {
  const password = input.password ?? newChallengePassword(random);
  const now = ctx.now().getTime();
  ctx.db.write(() =>
    ctx.db
      .stmt('INSERT INTO challenges (hash, profile, created_at, expires_at) VALUES (?, ?, ?, ?)')
      .run(hashChallenge(password), input.profile ?? null, now, input.expiresAt.getTime()),
  );
  return { password, expiresAt: input.expiresAt };
}

export function consumeChallenge(
  ctx: SqliteContext,
  password: string,
  options: { profile?: string; now?: Date } = {},
): ConsumeChallengeResult {
  const hash = hashChallenge(password);
  const now = (options.now ?? ctx.now()).getTime();
  const profile = options.profile ?? null;
  return ctx.db.write(() => {
    const consumed = ctx.db
      .stmt(
        `UPDATE challenges SET consumed_at = ?
         WHERE hash = ? AND consumed_at IS NULL AND expires_at > ? AND (profile IS NULL OR profile = ?)`,
      )
      .run(now, hash, now, profile).changes;
    if (consumed === 1) return 'ok';
    const row = ctx.db
      .stmt('SELECT consumed_at FROM challenges WHERE hash = ? AND (profile IS NULL OR profile = ?)')
      .get(hash, profile) as Row | undefined;
    if (!row) return 'not-found';
    return row['consumed_at'] !== null ? 'used' : 'expired';
  });
}

export function purgeChallenges(ctx: SqliteContext, before: Date): number {
  return ctx.db.write(
    () => ctx.db.stmt('DELETE FROM challenges WHERE expires_at < ?').run(before.getTime()).changes,
  );
}

export function nextCrlNumber(ctx: SqliteContext): bigint {
  return ctx.db.write(
    () =>
      ctx.db
        .stmt(
          `INSERT INTO crl_counter (id, last) VALUES (1, 1)
           ON CONFLICT (id) DO UPDATE SET last = last + 1 RETURNING last`,
        )
        .safeIntegers(true)
        .pluck()
        .get() as bigint,
  );
}

export function saveCrl(ctx: SqliteContext, crl: CrlRecord): boolean {
  return ctx.db.write(
    () =>
      ctx.db
        .stmt(
          `INSERT INTO crl_latest (id, crl_number, der, this_update, next_update) VALUES (1, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET crl_number = excluded.crl_number, der = excluded.der,
             this_update = excluded.this_update, next_update = excluded.next_update
           WHERE crl_latest.crl_number < excluded.crl_number`,
        )
        .run(crl.crlNumber, toBuffer(crl.der), crl.thisUpdate.getTime(), crl.nextUpdate.getTime()).changes ===
      1,
  );
}

export function getLatestCrl(ctx: SqliteContext): CrlRecord | null {
  const row = ctx.db.read(
    () => ctx.db.stmt('SELECT * FROM crl_latest WHERE id = 1').safeIntegers(true).get() as Row | undefined,
  );
  return row ? toCrl(row) : null;
}

export function recordIntuneRevocation(
  ctx: SqliteContext,
  record: IntuneRevocationRecord,
): 'recorded' | 'duplicate' {
  return ctx.db.write(() =>
    ctx.db
      .stmt(
        `INSERT INTO intune_revocations (request_context, serial, result, processed_at) VALUES (?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      )
      .run(record.requestContext, record.serial, record.result, record.processedAt.getTime()).changes === 1
      ? 'recorded'
      : 'duplicate',
  );
}

export function getIntuneRevocation(
  ctx: SqliteContext,
  requestContext: string,
): IntuneRevocationRecord | null {
  const row = ctx.db.read(
    () =>
      ctx.db.stmt('SELECT * FROM intune_revocations WHERE request_context = ?').get(requestContext) as
        Row | undefined,
  );
  return row ? toIntuneRevocation(row) : null;
}
