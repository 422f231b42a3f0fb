// Challenges, CRL state and Intune revocation records on PostgreSQL.
import type { Row } from '../rows.js';
import { toCrl, toIntuneRevocation } from '../rows.js';
import type {
  ConsumeChallengeResult,
  CrlRecord,
  IntuneRevocationRecord,
  MintChallengeInput,
  MintedChallenge,
} from '../types.js';
import { hashChallenge, newChallengePassword, toBuffer } from '../validate.js';
import type { PgContext } from './pg-context.js';

export async function mintChallenge(
  ctx: PgContext,
  input: MintChallengeInput,
  random: (size: number) => Uint8Array,
): Promise<MintedChallenge> {
  const password = input.password ?? newChallengePassword(random);
  await ctx.db.query(
    `INSERT INTO ${ctx.s}.challenges (hash, profile, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
    [hashChallenge(password), input.profile ?? null, ctx.now(), input.expiresAt],
  );
  return { password, expiresAt: input.expiresAt };
}

export async function consumeChallenge(
  ctx: PgContext,
  password: string,
  options: { profile?: string; now?: Date } = {},
): Promise<ConsumeChallengeResult> {
  const hash = hashChallenge(password);
  const now = options.now ?? ctx.now();
  const profile = options.profile ?? null;
  return ctx.db.run(async (c) => {
    // Single UPDATE: concurrent consumers serialise on the row lock; the losers re-check consumed_at.
    const r = await c.query(
      `UPDATE ${ctx.s}.challenges SET consumed_at = $1
       WHERE hash = $2 AND consumed_at IS NULL AND expires_at > $1 AND (profile IS NULL OR profile = $3)`,
      [now, hash, profile],
    );
    if (r.rowCount === 1) return 'ok';
    const found = await c.query(
      `SELECT consumed_at FROM ${ctx.s}.challenges WHERE hash = $1 AND (profile IS NULL OR profile = $2)`,
      [hash, profile],
    );
    const row = found.rows[0] as Row | undefined;
    if (!row) return 'not-found';
    return row['consumed_at'] !== null ? 'used' : 'expired';
  });
}

export async function purgeChallenges(ctx: PgContext, before: Date): Promise<number> {
  const r = await ctx.db.run((c) =>
    c.query(`DELETE FROM ${ctx.s}.challenges WHERE expires_at < $1`, [before]),
  );
  return r.rowCount ?? 0;
}

export async function nextCrlNumber(ctx: PgContext): Promise<bigint> {
  const rows = await ctx.db.query(
    `INSERT INTO ${ctx.s}.crl_counter AS c (id, last) VALUES (1, 1)
     ON CONFLICT (id) DO UPDATE SET last = c.last + 1 RETURNING last`,
  );
  return BigInt(rows[0]?.['last'] as string);
}

export async function saveCrl(ctx: PgContext, crl: CrlRecord): Promise<boolean> {
  const r = await ctx.db.run((c) =>
    c.query(
      `INSERT INTO ${ctx.s}.crl_latest AS l (id, crl_number, der, this_update, next_update)
       VALUES (1, $1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET crl_number = excluded.crl_number, der = excluded.der,
         this_update = excluded.this_update, next_update = excluded.next_update
       WHERE l.crl_number < excluded.crl_number`,
      [crl.crlNumber.toString(), toBuffer(crl.der), crl.thisUpdate, crl.nextUpdate],
    ),
  );
  return r.rowCount === 1;
}

export async function getLatestCrl(ctx: PgContext): Promise<CrlRecord | null> {
  const rows = await ctx.db.query(`SELECT * FROM ${ctx.s}.crl_latest WHERE id = 1`);
  return rows[0] ? toCrl(rows[0]) : null;
}

export async function recordIntuneRevocation(
  ctx: PgContext,
  record: IntuneRevocationRecord,
): Promise<'recorded' | 'duplicate'> {
  const r = await ctx.db.run((c) =>
    c.query(
      `INSERT INTO ${ctx.s}.intune_revocations (request_context, serial, result, processed_at)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [record.requestContext, record.serial, record.result, record.processedAt],
    ),
  );
  return r.rowCount === 1 ? 'recorded' : 'duplicate';
}

export async function getIntuneRevocation(
  ctx: PgContext,
  requestContext: string,
): Promise<IntuneRevocationRecord | null> {
  const rows = await ctx.db.query(`SELECT * FROM ${ctx.s}.intune_revocations WHERE request_context = $1`, [
    requestContext,
  ]);
  return rows[0] ? toIntuneRevocation(rows[0]) : null;
}
