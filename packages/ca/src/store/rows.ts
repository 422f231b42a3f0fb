// Row -> record mapping shared by both implementations. Column names are the same in SQLite and PostgreSQL;
// only value representations differ (SQLite: ms integers, 0/1; PostgreSQL: Date, boolean, int8 as string).
import { StoreError } from './errors.js';
import type {
  AuditEvent,
  BeginTransactionInput,
  CertificateRecord,
  CertificateStatus,
  CrlRecord,
  IntuneRevocationRecord,
  NewCertificate,
  OutboxItem,
  RevocationReason,
  StoredFailInfo,
  TransactionRecord,
  TransactionState,
} from './types.js';

export type Row = Record<string, unknown>;

function bad(column: string): StoreError {
  return new StoreError('database', `unexpected value in column ${column}`);
}

export function date(row: Row, column: string): Date {
  const v = row[column];
  if (v instanceof Date) return v;
  if (typeof v === 'number' || typeof v === 'bigint') return new Date(Number(v));
  throw bad(column);
}

export function dateOrNull(row: Row, column: string): Date | null {
  return row[column] === null || row[column] === undefined ? null : date(row, column);
}

export function str(row: Row, column: string): string {
  const v = row[column];
  if (typeof v !== 'string') throw bad(column);
  return v;
}

export function strOrNull(row: Row, column: string): string | null {
  const v = row[column];
  return v === null || v === undefined ? null : str(row, column);
}

export function num(row: Row, column: string): number {
  const v = row[column];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' || typeof v === 'bigint') return Number(v);
  throw bad(column);
}

export function bool(row: Row, column: string): boolean {
  const v = row[column];
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v) !== 0;
  throw bad(column);
}

export function bytes(row: Row, column: string): Uint8Array {
  const v = row[column];
  if (!(v instanceof Uint8Array)) throw bad(column);
  // A plain Uint8Array view (not a Buffer), so callers compare it with deepStrictEqual safely.
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export function bytesOrNull(row: Row, column: string): Uint8Array | null {
  return row[column] === null || row[column] === undefined ? null : bytes(row, column);
}

function json(row: Row, column: string): Record<string, unknown> {
  const v = row[column];
  if (typeof v === 'string') return JSON.parse(v) as Record<string, unknown>;
  if (typeof v === 'object' && v !== null) return v as Record<string, unknown>;
  throw bad(column);
}

export function joinSans(sans: readonly string[]): string {
  return sans.join('\n');
}

/** A plain Uint8Array view of the same bytes (as `bytes` returns), without copying. */
function view(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The record of a certificate just inserted with these values: what reading its row back would return, without
 * the round trip of `RETURNING *` (and its bytea decoding).
 */
export function insertedCertificate(
  c: NewCertificate,
  transactionId: string | null,
  thumbprint: string,
  createdAt: Date,
): CertificateRecord {
  return {
    serial: c.serial,
    der: view(c.der),
    subject: c.subject,
    sans: [...c.sans],
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    thumbprint,
    status: 'valid',
    revokedAt: null,
    revocationReason: null,
    profile: c.profile,
    transactionId,
    deviceId: c.deviceId ?? null,
    createdAt,
  };
}

/** The record of a transaction just inserted by `beginTransaction` (state `pending`). */
export function insertedTransaction(input: BeginTransactionInput, now: Date): TransactionRecord {
  return {
    transactionId: input.transactionId,
    profile: input.profile,
    requestHash: input.requestHash,
    state: 'pending',
    serial: null,
    failInfo: null,
    reason: null,
    csr: input.csr ? view(input.csr) : null,
    notified: false,
    createdAt: now,
    updatedAt: now,
  };
}

export function toCertificate(row: Row): CertificateRecord {
  const sans = str(row, 'sans');
  return {
    serial: str(row, 'serial'),
    der: bytes(row, 'der'),
    subject: str(row, 'subject'),
    sans: sans === '' ? [] : sans.split('\n'),
    notBefore: date(row, 'not_before'),
    notAfter: date(row, 'not_after'),
    thumbprint: str(row, 'thumbprint'),
    status: str(row, 'status') as CertificateStatus,
    revokedAt: dateOrNull(row, 'revoked_at'),
    revocationReason:
      row['revocation_reason'] === null ? null : (num(row, 'revocation_reason') as RevocationReason),
    profile: str(row, 'profile'),
    transactionId: strOrNull(row, 'transaction_id'),
    deviceId: strOrNull(row, 'device_id'),
    createdAt: date(row, 'created_at'),
  };
}

export function toTransaction(row: Row): TransactionRecord {
  return {
    transactionId: str(row, 'transaction_id'),
    profile: str(row, 'profile'),
    requestHash: str(row, 'request_hash'),
    state: str(row, 'state') as TransactionState,
    serial: strOrNull(row, 'serial'),
    failInfo: strOrNull(row, 'fail_info') as StoredFailInfo | null,
    reason: strOrNull(row, 'reason'),
    csr: bytesOrNull(row, 'csr'),
    notified: bool(row, 'notified'),
    createdAt: date(row, 'created_at'),
    updatedAt: date(row, 'updated_at'),
  };
}

export function toAuditEvent(row: Row): AuditEvent {
  return {
    id: num(row, 'id'),
    time: date(row, 'time'),
    actor: str(row, 'actor'),
    action: str(row, 'action'),
    transactionId: strOrNull(row, 'transaction_id'),
    serial: strOrNull(row, 'serial'),
    subject: strOrNull(row, 'subject'),
    details: json(row, 'details'),
  };
}

export function toOutboxItem(row: Row): OutboxItem {
  return {
    id: num(row, 'id'),
    kind: str(row, 'kind'),
    payload: json(row, 'payload'),
    dedupeKey: strOrNull(row, 'dedupe_key'),
    attempts: num(row, 'attempts'),
    nextAttemptAt: date(row, 'next_attempt_at'),
    lastError: strOrNull(row, 'last_error'),
    done: bool(row, 'done'),
    leaseOwner: strOrNull(row, 'lease_owner'),
    leaseExpiresAt: dateOrNull(row, 'lease_expires_at'),
    createdAt: date(row, 'created_at'),
  };
}

export function toCrl(row: Row): CrlRecord {
  const n = row['crl_number'];
  if (typeof n !== 'bigint' && typeof n !== 'string' && typeof n !== 'number') throw bad('crl_number');
  return {
    crlNumber: BigInt(n),
    der: bytes(row, 'der'),
    thisUpdate: date(row, 'this_update'),
    nextUpdate: date(row, 'next_update'),
  };
}

export function toIntuneRevocation(row: Row): IntuneRevocationRecord {
  return {
    requestContext: str(row, 'request_context'),
    serial: strOrNull(row, 'serial'),
    result: str(row, 'result'),
    processedAt: date(row, 'processed_at'),
  };
}
