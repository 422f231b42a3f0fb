import { randomBytes as nodeRandomBytes } from 'node:crypto';
import pg from 'pg';
import type { Pool } from 'pg';
import { StoreError } from '../errors.js';
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
import * as activity from './pg-activity.js';
import type { EnrollmentActivityQuery, EnrollmentActivityRow } from '../activity.js';
import * as audit from './pg-audit.js';
import * as certs from './pg-certificates.js';
import type { PgContext } from './pg-context.js';
import { PgDb } from './pg-db.js';
import * as outbox from './pg-outbox.js';
import * as records from './pg-records.js';
import * as txs from './pg-transactions.js';
import { assertKnownVersions } from '../migration.js';
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
  /**
   * Run the enrollment statements as named prepared statements, parsed once per connection; default true.
   * Set false behind a pooler that does not carry prepared statements across its server connections
   * (PgBouncer before 1.21 in transaction or statement pooling mode).
   */
  preparedStatements?: boolean;
}

/** Default schema name. */
export const DEFAULT_PG_SCHEMA = 'scepkit';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** First key of the migration advisory lock ('SCEP'); the second is hashtext(schema). */
const MIGRATION_LOCK_KEY = 0x53434550;

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
  private readonly ctx: PgContext;
  private readonly schema: string;
  private readonly random: (size: number) => Uint8Array;

  constructor(options: PostgresStoreOptions) {
    this.schema = options.schema ?? DEFAULT_PG_SCHEMA;
    if (!SCHEMA_NAME.test(this.schema))
      throw new StoreError('invalid-input', 'invalid PostgreSQL schema name');
    this.random = options.randomBytes ?? nodeRandomBytes;
    let db: PgDb;
    if (options.pool) {
      db = new PgDb(options.pool, false);
    } else if (options.connectionString) {
      const pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolMax ?? 10 });
      // An idle client's error (e.g. server restart) must not crash the process; the next query reports it.
      pool.on('error', () => undefined);
      db = new PgDb(pool, true);
    } else {
      throw new StoreError('invalid-input', 'PostgresStore needs a pool or a connectionString');
    }
    this.ctx = {
      db,
      s: `"${this.schema}"`,
      now: options.clock ?? (() => new Date()),
      prepared: options.preparedStatements ?? true,
    };
  }

  async migrate(): Promise<number> {
    const s = this.ctx.s;
    try {
      return await this.ctx.db.tx(async (c) => {
        // Serialises concurrent migrators (several nodes starting at once), including CREATE SCHEMA.
        await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_KEY, this.schema]);
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
        await c.query(
          `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations
             (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`,
        );
        const applied = new Set(
          (await c.query(`SELECT version FROM ${s}.schema_migrations`)).rows.map((r) => Number(r['version'])),
        );
        assertKnownVersions(applied, POSTGRES_MIGRATIONS);
        for (const m of POSTGRES_MIGRATIONS) {
          if (applied.has(m.version)) continue;
          await c.query(m.sql.replaceAll('{{schema}}', s));
          await c.query(
            `INSERT INTO ${s}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
            [m.version, m.name, this.ctx.now()],
          );
        }
        const r = await c.query(`SELECT max(version) AS v FROM ${s}.schema_migrations`);
        return Number(r.rows[0]?.['v']);
      });
    } catch (err) {
      if (err instanceof StoreError && (err.code === 'closed' || err.code === 'migration')) throw err;
      throw new StoreError('migration', 'PostgreSQL migration failed', err);
    }
  }

  close(): Promise<void> {
    return this.ctx.db.close();
  }

  issue(input: IssueInput): Promise<CertificateRecord> {
    return certs.issue(this.ctx, input);
  }
  getCertificate(serial: string): Promise<CertificateRecord | null> {
    return certs.getCertificate(this.ctx, serial);
  }
  getCertificateByThumbprint(thumbprint: string): Promise<CertificateRecord | null> {
    return certs.getCertificateByThumbprint(this.ctx, thumbprint);
  }
  searchCertificates(query: CertificateQuery): Promise<CertificateRecord[]> {
    return certs.searchCertificates(this.ctx, query);
  }
  countCertificates(options: { expiringWithinDays: number; now?: Date }): Promise<CertificateCounts> {
    return certs.countCertificates(this.ctx, options);
  }
  revoke(
    serial: string,
    reason: RevocationReason,
    time: Date,
    event?: AuditEventInput,
  ): Promise<RevokeResult> {
    return certs.revoke(this.ctx, serial, reason, time, event);
  }
  listRevoked(options?: { notExpiredAt?: Date }): Promise<RevokedEntry[]> {
    return certs.listRevoked(this.ctx, options);
  }

  beginTransaction(input: BeginTransactionInput, event?: AuditEventInput): Promise<BeginTransactionResult> {
    return txs.beginTransaction(this.ctx, input, event);
  }
  getTransaction(key: TransactionKey): Promise<TransactionRecord | null> {
    return txs.getTransaction(this.ctx, key);
  }
  listTransactions(query: TransactionQuery): Promise<TransactionRecord[]> {
    return txs.listTransactions(this.ctx, query);
  }
  updateTransaction(
    key: TransactionKey,
    update: TransactionUpdate,
    event?: AuditEventInput,
  ): Promise<TransactionRecord> {
    return txs.updateTransaction(this.ctx, key, update, event);
  }
  markTransactionNotified(key: TransactionKey): Promise<boolean> {
    return txs.markTransactionNotified(this.ctx, key);
  }

  appendAudit(event: AuditEventInput): Promise<AuditEvent> {
    return audit.appendAudit(this.ctx, event);
  }
  queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    return audit.queryAudit(this.ctx, query);
  }

  enrollmentActivity(query: EnrollmentActivityQuery): Promise<EnrollmentActivityRow[]> {
    return activity.enrollmentActivity(this.ctx, query);
  }

  mintChallenge(input: MintChallengeInput): Promise<MintedChallenge> {
    return records.mintChallenge(this.ctx, input, this.random);
  }
  consumeChallenge(
    password: string,
    options?: { profile?: string; now?: Date },
  ): Promise<ConsumeChallengeResult> {
    return records.consumeChallenge(this.ctx, password, options);
  }
  purgeChallenges(before: Date): Promise<number> {
    return records.purgeChallenges(this.ctx, before);
  }

  nextCrlNumber(): Promise<bigint> {
    return records.nextCrlNumber(this.ctx);
  }
  saveCrl(crl: CrlRecord): Promise<boolean> {
    return records.saveCrl(this.ctx, crl);
  }
  getLatestCrl(): Promise<CrlRecord | null> {
    return records.getLatestCrl(this.ctx);
  }

  enqueueOutbox(input: EnqueueOutboxInput): Promise<OutboxItem> {
    return outbox.enqueueOutbox(this.ctx, input);
  }
  claimOutbox(input: ClaimOutboxInput): Promise<OutboxItem[]> {
    return outbox.claimOutbox(this.ctx, input);
  }
  completeOutbox(id: number, owner: string, error?: string): Promise<boolean> {
    return outbox.completeOutbox(this.ctx, id, owner, error);
  }
  rescheduleOutbox(
    id: number,
    owner: string,
    options: { error: string; nextAttemptAt: Date },
  ): Promise<boolean> {
    return outbox.rescheduleOutbox(this.ctx, id, owner, options);
  }
  getOutboxItem(id: number): Promise<OutboxItem | null> {
    return outbox.getOutboxItem(this.ctx, id);
  }
  purgeOutbox(before: Date): Promise<number> {
    return outbox.purgeOutbox(this.ctx, before);
  }

  recordIntuneRevocation(record: IntuneRevocationRecord): Promise<'recorded' | 'duplicate'> {
    return records.recordIntuneRevocation(this.ctx, record);
  }
  getIntuneRevocation(requestContext: string): Promise<IntuneRevocationRecord | null> {
    return records.getIntuneRevocation(this.ctx, requestContext);
  }
}
