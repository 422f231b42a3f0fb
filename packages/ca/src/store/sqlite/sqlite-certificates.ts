import { DuplicateSerialError } from '../errors.js';
import { certificateWhere } from '../query-builder.js';
import { insertedCertificate, joinSans, toCertificate } from '../rows.js';
import type { Row } from '../rows.js';
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
import { assertRevocationReason, assertSans, assertSerial, sha1Hex, toBuffer, toJson } from '../validate.js';
import { insertAudit } from './sqlite-audit.js';
import { SQLITE_DIALECT, isUniqueViolation } from './sqlite-db.js';
import type { SqliteContext } from './sqlite-db.js';
import { transition } from './sqlite-transactions.js';

const DAY_MS = 86_400_000;
const HOLD = 6;

export function issue(ctx: SqliteContext, input: IssueInput): CertificateRecord {
  const c = input.certificate;
  assertSerial(c.serial);
  assertSans(c.sans);
  const now = ctx.now().getTime();
  const details = toJson(input.audit.details ?? {});
  const key = input.transaction;
  const transactionId = key?.transactionId ?? c.transactionId ?? null;
  const thumbprint = sha1Hex(c.der);
  return ctx.db.write(() => {
    // Order: certificate, transaction, audit. Any failure rolls back all three.
    try {
      ctx.db
        .stmt(
          `INSERT INTO certificates (serial, der, subject, sans, not_before, not_after, thumbprint, status,
             profile, transaction_id, device_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'valid', ?, ?, ?, ?)`,
        )
        .run(
          c.serial,
          toBuffer(c.der),
          c.subject,
          joinSans(c.sans),
          c.notBefore.getTime(),
          c.notAfter.getTime(),
          thumbprint,
          c.profile,
          transactionId,
          c.deviceId ?? null,
          now,
        );
    } catch (err) {
      if (isUniqueViolation(err, 'certificates.serial')) throw new DuplicateSerialError(c.serial, err);
      throw err;
    }
    if (key) transition(ctx, key, 'issued', { serial: c.serial, failInfo: null, reason: null }, now);
    insertAudit(ctx, { ...input.audit, serial: input.audit.serial ?? c.serial }, details);
    return insertedCertificate(c, transactionId, thumbprint, new Date(now));
  });
}

export function getCertificate(ctx: SqliteContext, serial: string): CertificateRecord | null {
  const row = ctx.db.read(
    () => ctx.db.stmt('SELECT * FROM certificates WHERE serial = ?').get(serial) as Row,
  );
  return row ? toCertificate(row) : null;
}

export function getCertificateByThumbprint(ctx: SqliteContext, thumbprint: string): CertificateRecord | null {
  const row = ctx.db.read(
    () =>
      ctx.db
        .stmt('SELECT * FROM certificates WHERE thumbprint = ? LIMIT 1')
        .get(thumbprint.toLowerCase()) as Row,
  );
  return row ? toCertificate(row) : null;
}

export function searchCertificates(ctx: SqliteContext, query: CertificateQuery): CertificateRecord[] {
  const q = certificateWhere(SQLITE_DIALECT, query);
  const sql = `SELECT * FROM certificates ${q.where} ORDER BY created_at DESC, id DESC ${q.page}`;
  return ctx.db.read(() => ctx.db.stmt(sql).all(...q.params) as Row[]).map(toCertificate);
}

export function countCertificates(
  ctx: SqliteContext,
  options: { expiringWithinDays: number; now?: Date },
): CertificateCounts {
  const now = (options.now ?? ctx.now()).getTime();
  const row = ctx.db.read(
    () =>
      ctx.db
        .stmt(
          `SELECT count(*) AS issued,
             coalesce(sum(status = 'revoked'), 0) AS revoked,
             coalesce(sum(status = 'valid' AND not_after >= ? AND not_after < ?), 0) AS expiring
           FROM certificates`,
        )
        .get(now, now + options.expiringWithinDays * DAY_MS) as Row,
  );
  return {
    issued: Number(row['issued']),
    revoked: Number(row['revoked']),
    expiring: Number(row['expiring']),
  };
}

export function revoke(
  ctx: SqliteContext,
  serial: string,
  reason: RevocationReason,
  time: Date,
  audit?: AuditEventInput,
): RevokeResult {
  assertRevocationReason(reason);
  const details = audit ? toJson(audit.details ?? {}) : '';
  return ctx.db.write(() => {
    // Valid certificates are revoked; a certificate on hold may move to a final reason (RFC 5280 §5.3.1).
    const changed = ctx.db
      .stmt(
        `UPDATE certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ?
         WHERE serial = ? AND (status = 'valid' OR (revocation_reason = ${HOLD} AND ? <> ${HOLD}))`,
      )
      .run(time.getTime(), reason, serial, reason).changes;
    if (changed === 0) {
      const exists = ctx.db.stmt('SELECT 1 FROM certificates WHERE serial = ?').get(serial);
      return exists ? 'already-revoked' : 'not-found';
    }
    if (audit) insertAudit(ctx, { ...audit, serial: audit.serial ?? serial }, details);
    return 'revoked';
  });
}

export function listRevoked(ctx: SqliteContext, options: { notExpiredAt?: Date } = {}): RevokedEntry[] {
  const rows = ctx.db.read(
    () =>
      ctx.db
        .stmt(
          `SELECT serial, revoked_at, revocation_reason, not_after FROM certificates
           WHERE status = 'revoked' AND not_after >= ? ORDER BY serial`,
        )
        .all(options.notExpiredAt?.getTime() ?? Number.MIN_SAFE_INTEGER) as Row[],
  );
  return rows.map((r) => ({
    serial: r['serial'] as string,
    revokedAt: new Date(r['revoked_at'] as number),
    reason: r['revocation_reason'] as RevocationReason,
    notAfter: new Date(r['not_after'] as number),
  }));
}
