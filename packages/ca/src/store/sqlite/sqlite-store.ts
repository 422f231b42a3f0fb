import { randomBytes as nodeRandomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { DuplicateSerialError, StoreError, TransactionStateError } from '../errors.js';
import { auditWhere, certificateWhere, transactionWhere } from '../query-builder.js';
import type { Dialect } from '../query-builder.js';
import {
  joinSans,
  toAuditEvent,
  toCertificate,
  toCrl,
  toIntuneRevocation,
  toOutboxItem,
  toTransaction,
} from '../rows.js';
import type { Row } from '../rows.js';
import { ALLOWED_FROM } from '../transitions.js';
import type {
  AuditEvent,
  AuditEventInput,
  AuditQuery,
  BeginTransactionInput,
  BeginTransactionResult,
  CertificateCounts,
  CertificateQuery,
  CertificateRecord,
  CertificateStore,
  ClaimOutboxInput,
  ConsumeChallengeResult,
  CrlRecord,
  EnqueueOutboxInput,
  IntuneRevocationRecord,
  IssueInput,
  MintChallengeInput,
  MintedChallenge,
  OutboxItem,
  RevocationReason,
  RevokedEntry,
  RevokeResult,
  StoreCommonOptions,
  TransactionKey,
  TransactionQuery,
  TransactionRecord,
  TransactionUpdate,
} from '../types.js';
import {
  assertRevocationReason,
  assertSans,
  assertSerial,
  hashChallenge,
  sha1Hex,
  toBuffer,
  toJson,
} from '../validate.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';

export interface SqliteStoreOptions extends StoreCommonOptions {
  /** Database file path, or `:memory:` (one connection only: a second store cannot share it). */
  filename: string;
  /**
   * `NORMAL` (default): in WAL mode a commit is durable against application crashes, but the last
   * transactions may be lost on power loss / OS crash (the database stays consistent). `FULL` fsyncs the WAL
   * on every commit: no committed issuance is ever lost, at the cost of one fsync per write.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a writer waits for another connection's lock before failing; default 5000 ms. */
  busyTimeoutMs?: number;
}

const DAY_MS = 86_400_000;
const HOLD = 6;

const DIALECT: Dialect = { param: () => '?', ilike: 'LIKE', time: (d) => d.getTime() };

/**
 * `CertificateStore` on SQLite (better-sqlite3, synchronous): WAL journal, foreign keys, busy timeout.
 * Every write runs in a `BEGIN IMMEDIATE` transaction, so concurrent connections (processes) serialise on the
 * write lock instead of failing on lock upgrade; statements are prepared once and cached.
 *
 * @example
 * const store = new SqliteStore({ filename: 'ca.db', synchronous: 'FULL' });
 * await store.migrate();
 */
export class SqliteStore implements CertificateStore {
  private readonly db: Db;
  private readonly statements = new Map<string, Statement>();
  private readonly now: () => Date;
  private readonly random: (size: number) => Uint8Array;

  constructor(options: SqliteStoreOptions) {
    this.now = options.clock ?? (() => new Date());
    this.random = options.randomBytes ?? nodeRandomBytes;
    try {
      this.db = new Database(options.filename);
      this.db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('foreign_keys = ON');
    } catch (err) {
      throw new StoreError('database', 'cannot open SQLite database', err);
    }
  }

  async migrate(): Promise<number> {
    this.assertOpen();
    try {
      const run = this.db.transaction(() => {
        this.db.exec(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
        );
        const applied = new Set(
          this.db
            .prepare('SELECT version FROM schema_migrations')
            .pluck()
            .all()
            .map((v) => Number(v)),
        );
        for (const m of SQLITE_MIGRATIONS) {
          if (applied.has(m.version)) continue;
          this.db.exec(m.sql);
          this.db
            .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
            .run(m.version, m.name, this.now().getTime());
        }
        return Number(this.db.prepare('SELECT max(version) FROM schema_migrations').pluck().get());
      });
      return run.immediate();
    } catch (err) {
      throw new StoreError('migration', 'SQLite migration failed', err);
    }
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.statements.clear();
    this.db.close();
  }

  // ---- certificates ----

  async issue(input: IssueInput): Promise<CertificateRecord> {
    const c = input.certificate;
    assertSerial(c.serial);
    assertSans(c.sans);
    const now = this.now().getTime();
    const details = toJson(input.audit.details ?? {});
    const key = input.transaction;
    return this.write(() => {
      // Order: certificate, transaction, audit. Any failure rolls back all three.
      let row: Row | undefined;
      try {
        row = this.stmt(
          `INSERT INTO certificates (serial, der, subject, sans, not_before, not_after, thumbprint, status,
             profile, transaction_id, device_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'valid', ?, ?, ?, ?) RETURNING *`,
        ).get(
          c.serial,
          toBuffer(c.der),
          c.subject,
          joinSans(c.sans),
          c.notBefore.getTime(),
          c.notAfter.getTime(),
          sha1Hex(c.der),
          c.profile,
          key?.transactionId ?? null,
          c.deviceId ?? null,
          now,
        ) as Row;
      } catch (err) {
        if (isUniqueViolation(err, 'certificates.serial')) throw new DuplicateSerialError(c.serial, err);
        throw err;
      }
      if (key) this.transition(key, 'issued', { serial: c.serial, failInfo: null, reason: null }, now);
      this.insertAudit({ ...input.audit, serial: input.audit.serial ?? c.serial }, details);
      return toCertificate(row);
    });
  }

  async getCertificate(serial: string): Promise<CertificateRecord | null> {
    const row = this.read(() => this.stmt('SELECT * FROM certificates WHERE serial = ?').get(serial) as Row);
    return row ? toCertificate(row) : null;
  }

  async getCertificateByThumbprint(thumbprint: string): Promise<CertificateRecord | null> {
    const row = this.read(
      () => this.stmt('SELECT * FROM certificates WHERE thumbprint = ?').get(thumbprint.toLowerCase()) as Row,
    );
    return row ? toCertificate(row) : null;
  }

  async searchCertificates(query: CertificateQuery): Promise<CertificateRecord[]> {
    const q = certificateWhere(DIALECT, query);
    const sql = `SELECT * FROM certificates ${q.where} ORDER BY created_at DESC, id DESC ${q.page}`;
    return this.read(() => this.stmt(sql).all(...q.params) as Row[]).map(toCertificate);
  }

  async countCertificates(options: { expiringWithinDays: number; now?: Date }): Promise<CertificateCounts> {
    const now = (options.now ?? this.now()).getTime();
    const row = this.read(
      () =>
        this.stmt(
          `SELECT count(*) AS issued,
             coalesce(sum(status = 'revoked'), 0) AS revoked,
             coalesce(sum(status = 'valid' AND not_after >= ? AND not_after < ?), 0) AS expiring
           FROM certificates`,
        ).get(now, now + options.expiringWithinDays * DAY_MS) as Row,
    );
    return {
      issued: Number(row['issued']),
      revoked: Number(row['revoked']),
      expiring: Number(row['expiring']),
    };
  }

  async revoke(
    serial: string,
    reason: RevocationReason,
    time: Date,
    audit?: AuditEventInput,
  ): Promise<RevokeResult> {
    assertRevocationReason(reason);
    const details = audit ? toJson(audit.details ?? {}) : '';
    return this.write(() => {
      // Valid certificates are revoked; a certificate on hold may move to a final reason (RFC 5280 §5.3.1).
      const changed = this.stmt(
        `UPDATE certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ?
         WHERE serial = ? AND (status = 'valid' OR (revocation_reason = ${HOLD} AND ? <> ${HOLD}))`,
      ).run(time.getTime(), reason, serial, reason).changes;
      if (changed === 0) {
        const exists = this.stmt('SELECT 1 FROM certificates WHERE serial = ?').get(serial);
        return exists ? 'already-revoked' : 'not-found';
      }
      if (audit) this.insertAudit({ ...audit, serial: audit.serial ?? serial }, details);
      return 'revoked';
    });
  }

  async listRevoked(options: { notExpiredAt?: Date } = {}): Promise<RevokedEntry[]> {
    const rows = this.read(
      () =>
        this.stmt(
          `SELECT serial, revoked_at, revocation_reason, not_after FROM certificates
           WHERE status = 'revoked' AND not_after >= ? ORDER BY serial`,
        ).all(options.notExpiredAt?.getTime() ?? Number.MIN_SAFE_INTEGER) as Row[],
    );
    return rows.map((r) => ({
      serial: r['serial'] as string,
      revokedAt: new Date(r['revoked_at'] as number),
      reason: r['revocation_reason'] as RevocationReason,
      notAfter: new Date(r['not_after'] as number),
    }));
  }

  // ---- transactions ----

  async beginTransaction(
    input: BeginTransactionInput,
    audit?: AuditEventInput,
  ): Promise<BeginTransactionResult> {
    const now = this.now().getTime();
    const details = audit ? toJson(audit.details ?? {}) : '';
    return this.write(() => {
      const created = this.stmt(
        `INSERT INTO transactions (transaction_id, profile, request_hash, state, csr, created_at, updated_at)
         VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING RETURNING *`,
      ).get(
        input.transactionId,
        input.profile,
        input.requestHash,
        input.csr ? toBuffer(input.csr) : null,
        now,
        now,
      ) as Row | undefined;
      if (created) {
        if (audit) this.insertAudit({ ...audit, transactionId: input.transactionId }, details);
        return { transaction: toTransaction(created), created: true };
      }
      return { transaction: toTransaction(this.selectTransaction(input) as Row), created: false };
    });
  }

  async getTransaction(key: TransactionKey): Promise<TransactionRecord | null> {
    const row = this.read(() => this.selectTransaction(key));
    return row ? toTransaction(row) : null;
  }

  async listTransactions(query: TransactionQuery): Promise<TransactionRecord[]> {
    const q = transactionWhere(DIALECT, query);
    const sql = `SELECT * FROM transactions ${q.where} ORDER BY created_at DESC, rowid DESC ${q.page}`;
    return this.read(() => this.stmt(sql).all(...q.params) as Row[]).map(toTransaction);
  }

  async updateTransaction(
    key: TransactionKey,
    update: TransactionUpdate,
    audit?: AuditEventInput,
  ): Promise<TransactionRecord> {
    const now = this.now().getTime();
    const details = audit ? toJson(audit.details ?? {}) : '';
    const fields =
      update.state === 'approved'
        ? { serial: null, failInfo: null, reason: null }
        : { serial: null, failInfo: update.failInfo ?? null, reason: update.reason ?? null };
    return this.write(() => {
      const row = this.transition(key, update.state, fields, now);
      if (audit)
        this.insertAudit({ ...audit, transactionId: audit.transactionId ?? key.transactionId }, details);
      return toTransaction(row);
    });
  }

  async markTransactionNotified(key: TransactionKey): Promise<boolean> {
    const now = this.now().getTime();
    return this.write(
      () =>
        this.stmt(
          'UPDATE transactions SET notified = 1, updated_at = ? WHERE transaction_id = ? AND profile = ?',
        ).run(now, key.transactionId, key.profile).changes === 1,
    );
  }

  // ---- audit ----

  async appendAudit(event: AuditEventInput): Promise<AuditEvent> {
    const details = toJson(event.details ?? {});
    return this.write(() => toAuditEvent(this.insertAudit(event, details)));
  }

  async queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    const q = auditWhere(DIALECT, query);
    const sql = `SELECT * FROM audit_log ${q.where} ORDER BY time DESC, id DESC ${q.page}`;
    return this.read(() => this.stmt(sql).all(...q.params) as Row[]).map(toAuditEvent);
  }

  // ---- challenges ----

  async mintChallenge(input: MintChallengeInput): Promise<MintedChallenge> {
    const password = input.password ?? Buffer.from(this.random(24)).toString('base64url');
    const now = this.now().getTime();
    this.write(() =>
      this.stmt('INSERT INTO challenges (hash, profile, created_at, expires_at) VALUES (?, ?, ?, ?)').run(
        hashChallenge(password),
        input.profile ?? null,
        now,
        input.expiresAt.getTime(),
      ),
    );
    return { password, expiresAt: input.expiresAt };
  }

  async consumeChallenge(
    password: string,
    options: { profile?: string; now?: Date } = {},
  ): Promise<ConsumeChallengeResult> {
    const hash = hashChallenge(password);
    const now = (options.now ?? this.now()).getTime();
    const profile = options.profile ?? null;
    return this.write(() => {
      const consumed = this.stmt(
        `UPDATE challenges SET consumed_at = ?
         WHERE hash = ? AND consumed_at IS NULL AND expires_at > ? AND (profile IS NULL OR profile = ?)`,
      ).run(now, hash, now, profile).changes;
      if (consumed === 1) return 'ok';
      const row = this.stmt(
        'SELECT consumed_at FROM challenges WHERE hash = ? AND (profile IS NULL OR profile = ?)',
      ).get(hash, profile) as Row | undefined;
      if (!row) return 'not-found';
      return row['consumed_at'] !== null ? 'used' : 'expired';
    });
  }

  async purgeChallenges(before: Date): Promise<number> {
    return this.write(
      () => this.stmt('DELETE FROM challenges WHERE expires_at < ?').run(before.getTime()).changes,
    );
  }

  // ---- CRL ----

  async nextCrlNumber(): Promise<bigint> {
    return this.write(
      () =>
        this.stmt(
          `INSERT INTO crl_counter (id, last) VALUES (1, 1)
           ON CONFLICT (id) DO UPDATE SET last = last + 1 RETURNING last`,
        )
          .safeIntegers(true)
          .pluck()
          .get() as bigint,
    );
  }

  async saveCrl(crl: CrlRecord): Promise<boolean> {
    return this.write(
      () =>
        this.stmt(
          `INSERT INTO crl_latest (id, crl_number, der, this_update, next_update) VALUES (1, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET crl_number = excluded.crl_number, der = excluded.der,
             this_update = excluded.this_update, next_update = excluded.next_update
           WHERE crl_latest.crl_number < excluded.crl_number`,
        ).run(crl.crlNumber, toBuffer(crl.der), crl.thisUpdate.getTime(), crl.nextUpdate.getTime())
          .changes === 1,
    );
  }

  async getLatestCrl(): Promise<CrlRecord | null> {
    const row = this.read(
      () => this.stmt('SELECT * FROM crl_latest WHERE id = 1').safeIntegers(true).get() as Row | undefined,
    );
    return row ? toCrl(row) : null;
  }

  // ---- outbox ----

  async enqueueOutbox(input: EnqueueOutboxInput): Promise<OutboxItem> {
    const now = this.now().getTime();
    const payload = toJson(input.payload);
    return this.write(() => {
      const row = this.stmt(
        `INSERT INTO outbox (kind, payload, dedupe_key, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING RETURNING *`,
      ).get(input.kind, payload, input.dedupeKey ?? null, input.notBefore?.getTime() ?? now, now) as
        Row | undefined;
      return toOutboxItem(
        row ?? (this.stmt('SELECT * FROM outbox WHERE dedupe_key = ?').get(input.dedupeKey) as Row),
      );
    });
  }

  async claimOutbox(input: ClaimOutboxInput): Promise<OutboxItem[]> {
    const now = this.now().getTime();
    // One statement inside BEGIN IMMEDIATE: the write lock makes the select-and-lease atomic across connections.
    const rows = this.write(
      () =>
        this.stmt(
          `UPDATE outbox SET lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1
           WHERE id IN (SELECT id FROM outbox
             WHERE done = 0 AND next_attempt_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)
             ORDER BY next_attempt_at, id LIMIT ?)
           RETURNING *`,
        ).all(input.owner, now + input.leaseMs, now, now, input.limit) as Row[],
    );
    return rows
      .map(toOutboxItem)
      .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.id - b.id);
  }

  async completeOutbox(id: number, owner: string, error?: string): Promise<boolean> {
    return this.write(
      () =>
        this.stmt(
          `UPDATE outbox SET done = 1, lease_owner = NULL, lease_expires_at = NULL, last_error = coalesce(?, last_error)
           WHERE id = ? AND lease_owner = ? AND done = 0`,
        ).run(error ?? null, id, owner).changes === 1,
    );
  }

  async rescheduleOutbox(
    id: number,
    owner: string,
    options: { error: string; nextAttemptAt: Date },
  ): Promise<boolean> {
    return this.write(
      () =>
        this.stmt(
          `UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL, last_error = ?, next_attempt_at = ?
           WHERE id = ? AND lease_owner = ? AND done = 0`,
        ).run(options.error, options.nextAttemptAt.getTime(), id, owner).changes === 1,
    );
  }

  async getOutboxItem(id: number): Promise<OutboxItem | null> {
    const row = this.read(() => this.stmt('SELECT * FROM outbox WHERE id = ?').get(id) as Row | undefined);
    return row ? toOutboxItem(row) : null;
  }

  // ---- Intune revocations ----

  async recordIntuneRevocation(record: IntuneRevocationRecord): Promise<'recorded' | 'duplicate'> {
    return this.write(() =>
      this.stmt(
        `INSERT INTO intune_revocations (request_context, serial, result, processed_at) VALUES (?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ).run(record.requestContext, record.serial, record.result, record.processedAt.getTime()).changes === 1
        ? 'recorded'
        : 'duplicate',
    );
  }

  async getIntuneRevocation(requestContext: string): Promise<IntuneRevocationRecord | null> {
    const row = this.read(
      () =>
        this.stmt('SELECT * FROM intune_revocations WHERE request_context = ?').get(requestContext) as
          Row | undefined,
    );
    return row ? toIntuneRevocation(row) : null;
  }

  // ---- internals ----

  private assertOpen(): void {
    if (!this.db.open) throw new StoreError('closed', 'store is closed');
  }

  private stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private read<T>(fn: () => T): T {
    this.assertOpen();
    try {
      return fn();
    } catch (err) {
      throw wrap(err);
    }
  }

  /** Run `fn` in a BEGIN IMMEDIATE transaction; typed store errors pass through, driver errors are wrapped. */
  private write<T>(fn: () => T): T {
    this.assertOpen();
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw wrap(err);
    }
  }

  private selectTransaction(key: TransactionKey): Row | undefined {
    return this.stmt('SELECT * FROM transactions WHERE transaction_id = ? AND profile = ?').get(
      key.transactionId,
      key.profile,
    ) as Row | undefined;
  }

  /** Compare-and-set state change inside the current transaction. */
  private transition(
    key: TransactionKey,
    to: TransactionRecord['state'],
    fields: { serial: string | null; failInfo: string | null; reason: string | null },
    now: number,
  ): Row {
    const from = ALLOWED_FROM[to];
    const keepCsr = to === 'approved';
    const row = this.stmt(
      `UPDATE transactions SET state = ?, serial = ?, fail_info = ?, reason = ?, updated_at = ?,
         csr = CASE WHEN ? THEN csr ELSE NULL END
       WHERE transaction_id = ? AND profile = ? AND state IN (SELECT value FROM json_each(?)) RETURNING *`,
    ).get(
      to,
      fields.serial,
      fields.failInfo,
      fields.reason,
      now,
      keepCsr ? 1 : 0,
      key.transactionId,
      key.profile,
      JSON.stringify(from),
    ) as Row | undefined;
    if (row) return row;
    const current = this.selectTransaction(key);
    if (!current) {
      throw new TransactionStateError('transaction-not-found', `no transaction ${key.transactionId}`, null);
    }
    const state = current['state'] as string;
    throw new TransactionStateError(
      'invalid-transition',
      `transaction is ${state}, cannot become ${to}`,
      state,
    );
  }

  private insertAudit(event: AuditEventInput, details: string): Row {
    return this.stmt(
      `INSERT INTO audit_log (time, actor, action, transaction_id, serial, subject, details)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ).get(
      (event.time ?? this.now()).getTime(),
      event.actor,
      event.action,
      event.transactionId ?? null,
      event.serial ?? null,
      event.subject ?? null,
      details,
    ) as Row;
  }
}

function isUniqueViolation(err: unknown, column: string): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof e.message === 'string' && e.message.includes(column);
}

function wrap(err: unknown): StoreError<string> {
  if (err instanceof StoreError) return err as StoreError<string>;
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_BUSY') return new StoreError('database', 'SQLite database is busy', err);
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
    return new StoreError('invalid-input', 'constraint violated', err);
  }
  if (err instanceof TypeError && /not open/.test(err.message))
    return new StoreError('closed', 'store is closed', err);
  return new StoreError('database', 'SQLite error', err);
}
