import { DuplicateSerialError, TransactionStateError } from '../errors.js';
import { certificateWhere } from '../query-builder.js';
import { insertedCertificate, joinSans, toCertificate } from '../rows.js';
import type {
  AuditEventInput,
  CertificateCounts,
  CertificateQuery,
  CertificateRecord,
  IssueInput,
  RevocationReason,
  RevokedEntry,
  RevokeResult,
} from '../types.js';
import { ALLOWED_FROM } from '../transitions.js';
import { assertRevocationReason, assertSans, assertSerial, sha1Hex, toBuffer, toJson } from '../validate.js';
import { insertAudit } from './pg-audit.js';
import { PG_DIALECT, statement } from './pg-context.js';
import type { PgContext } from './pg-context.js';
import { isUniqueViolation, one } from './pg-db.js';

const DAY_MS = 86_400_000;
const HOLD = 6;
/** SQLSTATE raised by `issue_certificate` when the transaction is missing or not pending/approved. */
const ISSUE_STATE_ERROR = 'SK409';

/**
 * One round trip: `issue_certificate` (migration 3) inserts the certificate, moves the transaction to `issued`
 * and appends the audit event in the implicit transaction of one statement; any failure rolls back all three.
 */
export async function issue(ctx: PgContext, input: IssueInput): Promise<CertificateRecord> {
  const c = input.certificate;
  assertSerial(c.serial);
  assertSans(c.sans);
  const now = ctx.now();
  const audit = input.audit;
  const key = input.transaction;
  const transactionId = key?.transactionId ?? c.transactionId ?? null;
  const thumbprint = sha1Hex(c.der);
  await ctx.db.run(async (client) => {
    try {
      return await one(
        client,
        statement(
          ctx,
          'issue',
          `SELECT serial FROM ${ctx.s}.issue_certificate($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
           $15, $16, $17, $18, $19, $20, $21)`,
          [
            c.serial,
            toBuffer(c.der),
            c.subject,
            joinSans(c.sans),
            c.notBefore,
            c.notAfter,
            thumbprint,
            c.profile,
            transactionId,
            c.deviceId ?? null,
            now,
            key?.transactionId ?? null,
            key?.profile ?? null,
            ALLOWED_FROM.issued,
            audit.time ?? now,
            audit.actor,
            audit.action,
            audit.transactionId ?? null,
            audit.serial ?? c.serial,
            audit.subject ?? null,
            toJson(audit.details ?? {}),
          ],
        ),
      );
    } catch (err) {
      if (isUniqueViolation(err, 'certificates_serial_key')) throw new DuplicateSerialError(c.serial, err);
      const e = err as { code?: unknown; detail?: unknown };
      if (e.code === ISSUE_STATE_ERROR) {
        const state = typeof e.detail === 'string' && e.detail !== '' ? e.detail : null;
        throw state === null
          ? new TransactionStateError(
              'transaction-not-found',
              `no transaction ${key?.transactionId ?? ''}`,
              null,
            )
          : new TransactionStateError(
              'invalid-transition',
              `transaction is ${state}, cannot become issued`,
              state,
            );
      }
      throw err;
    }
  });
  return insertedCertificate(c, transactionId, thumbprint, now);
}

export async function getCertificate(ctx: PgContext, serial: string): Promise<CertificateRecord | null> {
  const rows = await ctx.db.query(`SELECT * FROM ${ctx.s}.certificates WHERE serial = $1`, [serial]);
  return rows[0] ? toCertificate(rows[0]) : null;
}

export async function getCertificateByThumbprint(
  ctx: PgContext,
  thumbprint: string,
): Promise<CertificateRecord | null> {
  const rows = await ctx.db.query(`SELECT * FROM ${ctx.s}.certificates WHERE thumbprint = $1 LIMIT 1`, [
    thumbprint.toLowerCase(),
  ]);
  return rows[0] ? toCertificate(rows[0]) : null;
}

export async function searchCertificates(
  ctx: PgContext,
  query: CertificateQuery,
): Promise<CertificateRecord[]> {
  const q = certificateWhere(PG_DIALECT, query);
  const sql = `SELECT * FROM ${ctx.s}.certificates ${q.where} ORDER BY created_at DESC, id DESC ${q.page}`;
  return (await ctx.db.query(sql, q.params)).map(toCertificate);
}

export async function countCertificates(
  ctx: PgContext,
  options: { expiringWithinDays: number; now?: Date },
): Promise<CertificateCounts> {
  const now = options.now ?? ctx.now();
  const rows = await ctx.db.query(
    `SELECT count(*) AS issued,
       count(*) FILTER (WHERE status = 'revoked') AS revoked,
       count(*) FILTER (WHERE status = 'valid' AND not_after >= $1 AND not_after < $2) AS expiring
     FROM ${ctx.s}.certificates`,
    [now, new Date(now.getTime() + options.expiringWithinDays * DAY_MS)],
  );
  const r = rows[0] ?? {};
  return { issued: Number(r['issued']), revoked: Number(r['revoked']), expiring: Number(r['expiring']) };
}

export async function revoke(
  ctx: PgContext,
  serial: string,
  reason: RevocationReason,
  time: Date,
  audit?: AuditEventInput,
): Promise<RevokeResult> {
  assertRevocationReason(reason);
  const details = audit ? toJson(audit.details ?? {}) : '';
  return ctx.db.tx(async (c) => {
    // Valid certificates are revoked; a certificate on hold may move to a final reason (RFC 5280 §5.3.1).
    // Concurrent revokes of one serial serialise on the row lock and re-check the WHERE clause.
    const r = await c.query(
      `UPDATE ${ctx.s}.certificates SET status = 'revoked', revoked_at = $1, revocation_reason = $2
       WHERE serial = $3 AND (status = 'valid' OR (revocation_reason = ${HOLD} AND $2 <> ${HOLD}))`,
      [time, reason, serial],
    );
    if (r.rowCount === 0) {
      const exists = await c.query(`SELECT 1 FROM ${ctx.s}.certificates WHERE serial = $1`, [serial]);
      return exists.rowCount ? 'already-revoked' : 'not-found';
    }
    if (audit) await insertAudit(ctx, c, { ...audit, serial: audit.serial ?? serial }, details);
    return 'revoked';
  });
}

export async function listRevoked(
  ctx: PgContext,
  options: { notExpiredAt?: Date } = {},
): Promise<RevokedEntry[]> {
  const rows = await ctx.db.query(
    `SELECT serial, revoked_at, revocation_reason, not_after FROM ${ctx.s}.certificates
     WHERE status = 'revoked' AND ($1::timestamptz IS NULL OR not_after >= $1) ORDER BY serial`,
    [options.notExpiredAt ?? null],
  );
  return rows.map((r) => ({
    serial: r['serial'] as string,
    revokedAt: r['revoked_at'] as Date,
    reason: r['revocation_reason'] as RevocationReason,
    notAfter: r['not_after'] as Date,
  }));
}
