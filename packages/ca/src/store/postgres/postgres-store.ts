import { randomBytes as nodeRandomBytes } from 'node:crypto';
import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
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
import { POSTGRES_MIGRATIONS } from './postgres-schema.js';

export interface PostgresStoreOptions extends StoreCommonOptions {
  /** An existing pool (not ended by `close()`), or... */
  pool?: Pool;
  /** ...a connection string for a pool the store owns. */
  connectionString?: string;
  /** Maximum connections of an owned pool; default 10. */
  poolMax?: number;
  /** Schema holding the tables (created by `migrate`); default `scepkit`. Lowercase identifier. */
  schema?: string;
}

/** Default schema name. */
export const DEFAULT_PG_SCHEMA = 'scepkit';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const DAY_MS = 86_400_000;
const HOLD = 6;
/** First key of the migration advisory lock ('SCEP'); the second is hashtext(schema). */
const MIGRATION_LOCK_KEY = 0x53434550;
const DIALECT: Dialect = { param: (n) => `$${n}`, ilike: 'ILIKE', time: (d) => d };

type Queryable = Pick<PoolClient, 'query'>;

/**
 * `CertificateStore` on PostgreSQL (pg Pool). Writes that touch several rows run in one SQL transaction
 * (READ COMMITTED) and rely on row locks, `ON CONFLICT` and compare-and-set `UPDATE ... WHERE state = ...`;
 * the outbox is claimed with `FOR UPDATE SKIP LOCKED`; migrations hold an advisory lock.
 *
 * @example
 * const store = new PostgresStore({ connectionString: 'postgres://ca@db/ca', schema: 'scepkit' });
 * await store.migrate();
 */
export class PostgresStore implements CertificateStore {
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly s: string;
  private readonly schema: string;
  private readonly now: () => Date;
  private readonly random: (size: number) => Uint8Array;
  private closed = false;

  constructor(options: PostgresStoreOptions) {
    this.schema = options.schema ?? DEFAULT_PG_SCHEMA;
    if (!SCHEMA_NAME.test(this.schema))
      throw new StoreError('invalid-input', 'invalid PostgreSQL schema name');
    this.s = `"${this.schema}"`;
    this.now = options.clock ?? (() => new Date());
    this.random = options.randomBytes ?? nodeRandomBytes;
    if (options.pool) {
      this.pool = options.pool;
      this.ownsPool = false;
    } else if (options.connectionString) {
      this.pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolMax ?? 10 });
      // An idle client's error (e.g. server restart) must not crash the process; the next query reports it.
      this.pool.on('error', () => undefined);
      this.ownsPool = true;
    } else {
      throw new StoreError('invalid-input', 'PostgresStore needs a pool or a connectionString');
    }
  }

  async migrate(): Promise<number> {
    try {
      return await this.tx(async (c) => {
        // Serialises concurrent migrators (several nodes starting at once), including CREATE SCHEMA.
        await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_KEY, this.schema]);
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
        await c.query(
          `CREATE TABLE IF NOT EXISTS ${this.s}.schema_migrations
             (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`,
        );
        const applied = new Set(
          (await c.query(`SELECT version FROM ${this.s}.schema_migrations`)).rows.map((r) =>
            Number(r['version']),
          ),
        );
        for (const m of POSTGRES_MIGRATIONS) {
          if (applied.has(m.version)) continue;
          await c.query(m.sql.replaceAll('{{schema}}', this.s));
          await c.query(
            `INSERT INTO ${this.s}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
            [m.version, m.name, this.now()],
          );
        }
        const r = await c.query(`SELECT max(version) AS v FROM ${this.s}.schema_migrations`);
        return Number(r.rows[0]?.['v']);
      });
    } catch (err) {
      throw new StoreError('migration', 'PostgreSQL migration failed', err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }

  // ---- certificates ----

  async issue(input: IssueInput): Promise<CertificateRecord> {
    const c = input.certificate;
    assertSerial(c.serial);
    assertSans(c.sans);
    const now = this.now();
    const details = toJson(input.audit.details ?? {});
    const key = input.transaction;
    return this.tx(async (client) => {
      // Order: certificate, transaction, audit. Any failure rolls back all three.
      let row: Row;
      try {
        row = await one(
          client,
          `INSERT INTO ${this.s}.certificates (serial, der, subject, sans, not_before, not_after, thumbprint,
             status, profile, transaction_id, device_id, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'valid', $8, $9, $10, $11) RETURNING *`,
          [
            c.serial,
            toBuffer(c.der),
            c.subject,
            joinSans(c.sans),
            c.notBefore,
            c.notAfter,
            sha1Hex(c.der),
            c.profile,
            key?.transactionId ?? null,
            c.deviceId ?? null,
            now,
          ],
        );
      } catch (err) {
        if (isUniqueViolation(err, 'certificates_serial_key')) throw new DuplicateSerialError(c.serial, err);
        throw err;
      }
      if (key)
        await this.transition(client, key, 'issued', { serial: c.serial, failInfo: null, reason: null }, now);
      await this.insertAudit(client, { ...input.audit, serial: input.audit.serial ?? c.serial }, details);
      return toCertificate(row);
    });
  }

  async getCertificate(serial: string): Promise<CertificateRecord | null> {
    const rows = await this.query(`SELECT * FROM ${this.s}.certificates WHERE serial = $1`, [serial]);
    return rows[0] ? toCertificate(rows[0]) : null;
  }

  async getCertificateByThumbprint(thumbprint: string): Promise<CertificateRecord | null> {
    const rows = await this.query(`SELECT * FROM ${this.s}.certificates WHERE thumbprint = $1 LIMIT 1`, [
      thumbprint.toLowerCase(),
    ]);
    return rows[0] ? toCertificate(rows[0]) : null;
  }

  async searchCertificates(query: CertificateQuery): Promise<CertificateRecord[]> {
    const q = certificateWhere(DIALECT, query);
    const sql = `SELECT * FROM ${this.s}.certificates ${q.where} ORDER BY created_at DESC, id DESC ${q.page}`;
    return (await this.query(sql, q.params)).map(toCertificate);
  }

  async countCertificates(options: { expiringWithinDays: number; now?: Date }): Promise<CertificateCounts> {
    const now = options.now ?? this.now();
    const rows = await this.query(
      `SELECT count(*) AS issued,
         count(*) FILTER (WHERE status = 'revoked') AS revoked,
         count(*) FILTER (WHERE status = 'valid' AND not_after >= $1 AND not_after < $2) AS expiring
       FROM ${this.s}.certificates`,
      [now, new Date(now.getTime() + options.expiringWithinDays * DAY_MS)],
    );
    const r = rows[0] ?? {};
    return { issued: Number(r['issued']), revoked: Number(r['revoked']), expiring: Number(r['expiring']) };
  }

  async revoke(
    serial: string,
    reason: RevocationReason,
    time: Date,
    audit?: AuditEventInput,
  ): Promise<RevokeResult> {
    assertRevocationReason(reason);
    const details = audit ? toJson(audit.details ?? {}) : '';
    return this.tx(async (c) => {
      // Valid certificates are revoked; a certificate on hold may move to a final reason (RFC 5280 §5.3.1).
      // Concurrent revokes of one serial serialise on the row lock and re-check the WHERE clause.
      const r = await c.query(
        `UPDATE ${this.s}.certificates SET status = 'revoked', revoked_at = $1, revocation_reason = $2
         WHERE serial = $3 AND (status = 'valid' OR (revocation_reason = ${HOLD} AND $2 <> ${HOLD}))`,
        [time, reason, serial],
      );
      if (r.rowCount === 0) {
        const exists = await c.query(`SELECT 1 FROM ${this.s}.certificates WHERE serial = $1`, [serial]);
        return exists.rowCount ? 'already-revoked' : 'not-found';
      }
      if (audit) await this.insertAudit(c, { ...audit, serial: audit.serial ?? serial }, details);
      return 'revoked';
    });
  }

  async listRevoked(options: { notExpiredAt?: Date } = {}): Promise<RevokedEntry[]> {
    const rows = await this.query(
      `SELECT serial, revoked_at, revocation_reason, not_after FROM ${this.s}.certificates
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

  // ---- transactions ----

  async beginTransaction(
    input: BeginTransactionInput,
    audit?: AuditEventInput,
  ): Promise<BeginTransactionResult> {
    const now = this.now();
    const details = audit ? toJson(audit.details ?? {}) : '';
    return this.tx(async (c) => {
      // A concurrent inserter of the same key waits for the first one's commit, then does nothing.
      const created = await c.query(
        `INSERT INTO ${this.s}.transactions (transaction_id, profile, request_hash, state, csr, created_at, updated_at)
         VALUES ($1, $2, $3, 'pending', $4, $5, $5) ON CONFLICT DO NOTHING RETURNING *`,
        [input.transactionId, input.profile, input.requestHash, input.csr ? toBuffer(input.csr) : null, now],
      );
      const row = created.rows[0] as Row | undefined;
      if (row) {
        if (audit) await this.insertAudit(c, { ...audit, transactionId: input.transactionId }, details);
        return { transaction: toTransaction(row), created: true };
      }
      const existing = await this.selectTransaction(c, input);
      if (!existing) throw new StoreError('database', 'transaction vanished during beginTransaction');
      return { transaction: toTransaction(existing), created: false };
    });
  }

  async getTransaction(key: TransactionKey): Promise<TransactionRecord | null> {
    const row = await this.withClient((c) => this.selectTransaction(c, key));
    return row ? toTransaction(row) : null;
  }

  async listTransactions(query: TransactionQuery): Promise<TransactionRecord[]> {
    const q = transactionWhere(DIALECT, query);
    const sql = `SELECT * FROM ${this.s}.transactions ${q.where} ORDER BY created_at DESC, seq DESC ${q.page}`;
    return (await this.query(sql, q.params)).map(toTransaction);
  }

  async updateTransaction(
    key: TransactionKey,
    update: TransactionUpdate,
    audit?: AuditEventInput,
  ): Promise<TransactionRecord> {
    const now = this.now();
    const details = audit ? toJson(audit.details ?? {}) : '';
    const fields =
      update.state === 'approved'
        ? { serial: null, failInfo: null, reason: null }
        : { serial: null, failInfo: update.failInfo ?? null, reason: update.reason ?? null };
    return this.tx(async (c) => {
      const row = await this.transition(c, key, update.state, fields, now);
      if (audit) {
        await this.insertAudit(
          c,
          { ...audit, transactionId: audit.transactionId ?? key.transactionId },
          details,
        );
      }
      return toTransaction(row);
    });
  }

  async markTransactionNotified(key: TransactionKey): Promise<boolean> {
    const r = await this.withClient((c) =>
      c.query(
        `UPDATE ${this.s}.transactions SET notified = true, updated_at = $1 WHERE transaction_id = $2 AND profile = $3`,
        [this.now(), key.transactionId, key.profile],
      ),
    );
    return r.rowCount === 1;
  }

  // ---- audit ----

  async appendAudit(event: AuditEventInput): Promise<AuditEvent> {
    const details = toJson(event.details ?? {});
    return toAuditEvent(await this.withClient((c) => this.insertAudit(c, event, details)));
  }

  async queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    const q = auditWhere(DIALECT, query);
    const sql = `SELECT * FROM ${this.s}.audit_log ${q.where} ORDER BY time DESC, id DESC ${q.page}`;
    return (await this.query(sql, q.params)).map(toAuditEvent);
  }

  // ---- challenges ----

  async mintChallenge(input: MintChallengeInput): Promise<MintedChallenge> {
    const password = input.password ?? Buffer.from(this.random(24)).toString('base64url');
    await this.query(
      `INSERT INTO ${this.s}.challenges (hash, profile, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
      [hashChallenge(password), input.profile ?? null, this.now(), input.expiresAt],
    );
    return { password, expiresAt: input.expiresAt };
  }

  async consumeChallenge(
    password: string,
    options: { profile?: string; now?: Date } = {},
  ): Promise<ConsumeChallengeResult> {
    const hash = hashChallenge(password);
    const now = options.now ?? this.now();
    const profile = options.profile ?? null;
    return this.withClient(async (c) => {
      // Single UPDATE: concurrent consumers serialise on the row lock; the losers re-check consumed_at.
      const r = await c.query(
        `UPDATE ${this.s}.challenges SET consumed_at = $1
         WHERE hash = $2 AND consumed_at IS NULL AND expires_at > $1 AND (profile IS NULL OR profile = $3)`,
        [now, hash, profile],
      );
      if (r.rowCount === 1) return 'ok';
      const found = await c.query(
        `SELECT consumed_at FROM ${this.s}.challenges WHERE hash = $1 AND (profile IS NULL OR profile = $2)`,
        [hash, profile],
      );
      const row = found.rows[0] as Row | undefined;
      if (!row) return 'not-found';
      return row['consumed_at'] !== null ? 'used' : 'expired';
    });
  }

  async purgeChallenges(before: Date): Promise<number> {
    const r = await this.withClient((c) =>
      c.query(`DELETE FROM ${this.s}.challenges WHERE expires_at < $1`, [before]),
    );
    return r.rowCount ?? 0;
  }

  // ---- CRL ----

  async nextCrlNumber(): Promise<bigint> {
    const rows = await this.query(
      `INSERT INTO ${this.s}.crl_counter AS c (id, last) VALUES (1, 1)
       ON CONFLICT (id) DO UPDATE SET last = c.last + 1 RETURNING last`,
      [],
    );
    return BigInt(rows[0]?.['last'] as string);
  }

  async saveCrl(crl: CrlRecord): Promise<boolean> {
    const r = await this.withClient((c) =>
      c.query(
        `INSERT INTO ${this.s}.crl_latest AS l (id, crl_number, der, this_update, next_update)
         VALUES (1, $1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET crl_number = excluded.crl_number, der = excluded.der,
           this_update = excluded.this_update, next_update = excluded.next_update
         WHERE l.crl_number < excluded.crl_number`,
        [crl.crlNumber.toString(), toBuffer(crl.der), crl.thisUpdate, crl.nextUpdate],
      ),
    );
    return r.rowCount === 1;
  }

  async getLatestCrl(): Promise<CrlRecord | null> {
    const rows = await this.query(`SELECT * FROM ${this.s}.crl_latest WHERE id = 1`, []);
    return rows[0] ? toCrl(rows[0]) : null;
  }

  // ---- outbox ----

  async enqueueOutbox(input: EnqueueOutboxInput): Promise<OutboxItem> {
    const now = this.now();
    const payload = toJson(input.payload);
    return this.withClient(async (c) => {
      const r = await c.query(
        `INSERT INTO ${this.s}.outbox (kind, payload, dedupe_key, next_attempt_at, created_at)
         VALUES ($1, $2::jsonb, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING *`,
        [input.kind, payload, input.dedupeKey ?? null, input.notBefore ?? now, now],
      );
      const row = r.rows[0] as Row | undefined;
      if (row) return toOutboxItem(row);
      const existing = await c.query(`SELECT * FROM ${this.s}.outbox WHERE dedupe_key = $1`, [
        input.dedupeKey,
      ]);
      return toOutboxItem(existing.rows[0] as Row);
    });
  }

  async claimOutbox(input: ClaimOutboxInput): Promise<OutboxItem[]> {
    const now = this.now();
    // SKIP LOCKED: rows another node is claiming right now are skipped; rows it has just claimed fail the
    // re-checked lease condition. So two nodes never hold the same item at once.
    const rows = await this.query(
      `UPDATE ${this.s}.outbox SET lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1
       WHERE id IN (SELECT id FROM ${this.s}.outbox
         WHERE NOT done AND next_attempt_at <= $3 AND (lease_expires_at IS NULL OR lease_expires_at <= $3)
         ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [input.owner, new Date(now.getTime() + input.leaseMs), now, input.limit],
    );
    return rows
      .map(toOutboxItem)
      .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.id - b.id);
  }

  async completeOutbox(id: number, owner: string, error?: string): Promise<boolean> {
    const r = await this.withClient((c) =>
      c.query(
        `UPDATE ${this.s}.outbox SET done = true, lease_owner = NULL, lease_expires_at = NULL,
           last_error = coalesce($1, last_error)
         WHERE id = $2 AND lease_owner = $3 AND NOT done`,
        [error ?? null, id, owner],
      ),
    );
    return r.rowCount === 1;
  }

  async rescheduleOutbox(
    id: number,
    owner: string,
    options: { error: string; nextAttemptAt: Date },
  ): Promise<boolean> {
    const r = await this.withClient((c) =>
      c.query(
        `UPDATE ${this.s}.outbox SET lease_owner = NULL, lease_expires_at = NULL, last_error = $1, next_attempt_at = $2
         WHERE id = $3 AND lease_owner = $4 AND NOT done`,
        [options.error, options.nextAttemptAt, id, owner],
      ),
    );
    return r.rowCount === 1;
  }

  async getOutboxItem(id: number): Promise<OutboxItem | null> {
    const rows = await this.query(`SELECT * FROM ${this.s}.outbox WHERE id = $1`, [id]);
    return rows[0] ? toOutboxItem(rows[0]) : null;
  }

  // ---- Intune revocations ----

  async recordIntuneRevocation(record: IntuneRevocationRecord): Promise<'recorded' | 'duplicate'> {
    const r = await this.withClient((c) =>
      c.query(
        `INSERT INTO ${this.s}.intune_revocations (request_context, serial, result, processed_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [record.requestContext, record.serial, record.result, record.processedAt],
      ),
    );
    return r.rowCount === 1 ? 'recorded' : 'duplicate';
  }

  async getIntuneRevocation(requestContext: string): Promise<IntuneRevocationRecord | null> {
    const rows = await this.query(`SELECT * FROM ${this.s}.intune_revocations WHERE request_context = $1`, [
      requestContext,
    ]);
    return rows[0] ? toIntuneRevocation(rows[0]) : null;
  }

  // ---- internals ----

  private async query(sql: string, params: unknown[]): Promise<Row[]> {
    return this.withClient(async (c) => (await c.query(sql, params)).rows as Row[]);
  }

  /** Run one or more autocommit statements on a pooled client. */
  private async withClient<T>(fn: (c: Queryable) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('closed', 'store is closed');
    try {
      return await fn(this.pool);
    } catch (err) {
      throw wrap(err);
    }
  }

  /** Run `fn` in one SQL transaction on one client; rolled back on any error. */
  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('closed', 'store is closed');
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw wrap(err);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error('rollback failed');
      }
      throw wrap(err);
    } finally {
      // A client whose rollback failed is destroyed instead of returned to the pool.
      client.release(broken);
    }
  }

  private async selectTransaction(c: Queryable, key: TransactionKey): Promise<Row | undefined> {
    const r = await c.query(
      `SELECT * FROM ${this.s}.transactions WHERE transaction_id = $1 AND profile = $2`,
      [key.transactionId, key.profile],
    );
    return r.rows[0] as Row | undefined;
  }

  /** Compare-and-set state change inside the current transaction (the row lock serialises concurrent changes). */
  private async transition(
    c: Queryable,
    key: TransactionKey,
    to: TransactionRecord['state'],
    fields: { serial: string | null; failInfo: string | null; reason: string | null },
    now: Date,
  ): Promise<Row> {
    const r = await c.query(
      `UPDATE ${this.s}.transactions SET state = $1, serial = $2, fail_info = $3, reason = $4, updated_at = $5,
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
    const current = await this.selectTransaction(c, key);
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

  private async insertAudit(c: Queryable, event: AuditEventInput, details: string): Promise<Row> {
    return one(
      c,
      `INSERT INTO ${this.s}.audit_log (time, actor, action, transaction_id, serial, subject, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING *`,
      [
        event.time ?? this.now(),
        event.actor,
        event.action,
        event.transactionId ?? null,
        event.serial ?? null,
        event.subject ?? null,
        details,
      ],
    );
  }
}

async function one(c: Queryable, sql: string, params: unknown[]): Promise<Row> {
  const r = await c.query<QueryResultRow>(sql, params);
  const row = r.rows[0];
  if (!row) throw new StoreError('database', 'statement returned no row');
  return row;
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: unknown; constraint?: unknown };
  return e.code === '23505' && e.constraint === constraint;
}

function wrap(err: unknown): StoreError<string> {
  if (err instanceof StoreError) return err as StoreError<string>;
  const code = (err as { code?: unknown }).code;
  // Class 23: integrity constraint violations (bad input); anything else is a database fault.
  if (typeof code === 'string' && code.startsWith('23')) {
    return new StoreError('invalid-input', 'constraint violated', err);
  }
  return new StoreError('database', 'PostgreSQL error', err);
}
