import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
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
import * as activity from './sqlite-activity.js';
import type { EnrollmentActivityQuery, EnrollmentActivityRow } from '../activity.js';
import * as audit from './sqlite-audit.js';
import * as certs from './sqlite-certificates.js';
import { SqliteDb } from './sqlite-db.js';
import { WalCheckpointer, WRITER_AUTOCHECKPOINT } from './wal-checkpointer.js';
import type { SqliteContext, WalSync } from './sqlite-db.js';
import * as outbox from './sqlite-outbox.js';
import * as records from './sqlite-records.js';
import { assertKnownVersions } from '../migration.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';
import * as txs from './sqlite-transactions.js';

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
  /**
   * Checkpoint the WAL on a thread of its own (`WalCheckpointer`) instead of inside commits on the event loop.
   * For a database file in WAL mode; default false. `scepkit serve` turns it on.
   */
  checkpointThread?: boolean;
}

/**
 * `CertificateStore` on SQLite (better-sqlite3, synchronous): WAL journal, foreign keys, busy timeout.
 * With `synchronous: 'FULL'` an issue resolves, and a read returns what it wrote, only once it is on disk
 * (`WalSync`: the fsync of concurrent issues is shared and runs off the event loop).
 * Every write runs in a `BEGIN IMMEDIATE` transaction, so concurrent connections (processes) serialise on the
 * write lock instead of failing on lock upgrade; statements are prepared once and cached.
 *
 * @example
 * const store = new SqliteStore({ filename: 'ca.db', synchronous: 'FULL' });
 * await store.migrate();
 */
export class SqliteStore implements CertificateStore {
  private readonly ctx: SqliteContext;
  private readonly random: (size: number) => Uint8Array;

  readonly #checkpointer: WalCheckpointer | undefined;

  constructor(options: SqliteStoreOptions) {
    this.random = options.randomBytes ?? nodeRandomBytes;
    const opened = openDatabase(options);
    this.#checkpointer = opened.checkpointer;
    this.ctx = { db: opened.db, now: options.clock ?? (() => new Date()) };
  }

  /** The WAL checkpoint thread, when `checkpointThread` started one. */
  get checkpointer(): WalCheckpointer | undefined {
    return this.#checkpointer;
  }

  async migrate(): Promise<number> {
    const db = this.ctx.db;
    if (!db.open) throw new StoreError('closed', 'store is closed');
    try {
      return db.raw
        .transaction(() => {
          db.raw.exec(
            'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
          );
          const applied = new Set(
            db.raw
              .prepare('SELECT version FROM schema_migrations')
              .pluck()
              .all()
              .map((v) => Number(v)),
          );
          assertKnownVersions(applied, SQLITE_MIGRATIONS);
          for (const m of SQLITE_MIGRATIONS) {
            if (applied.has(m.version)) continue;
            db.raw.exec(m.sql);
            db.raw
              .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
              .run(m.version, m.name, this.ctx.now().getTime());
          }
          return Number(db.raw.prepare('SELECT max(version) FROM schema_migrations').pluck().get());
        })
        .immediate();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError('migration', 'SQLite migration failed', err);
    }
  }

  async close(): Promise<void> {
    // The thread's connection first: the writer's, closed last, then checkpoints the rest and removes the WAL.
    await this.#checkpointer?.close();
    this.ctx.db.close();
  }

  /** Concurrent issues share one commit (see `SqliteDb.writeBatched`); each resolves once durable. */
  async issue(input: IssueInput): Promise<CertificateRecord> {
    return this.ctx.db.writeBatched(() => certs.issue(this.ctx, input));
  }
  async getCertificate(serial: string): Promise<CertificateRecord | null> {
    return this.ctx.db.afterDurable(certs.getCertificate(this.ctx, serial));
  }
  async getCertificateByThumbprint(thumbprint: string): Promise<CertificateRecord | null> {
    return this.ctx.db.afterDurable(certs.getCertificateByThumbprint(this.ctx, thumbprint));
  }
  async searchCertificates(query: CertificateQuery): Promise<CertificateRecord[]> {
    return this.ctx.db.afterDurable(certs.searchCertificates(this.ctx, query));
  }
  async countCertificates(options: { expiringWithinDays: number; now?: Date }): Promise<CertificateCounts> {
    return this.ctx.db.afterDurable(certs.countCertificates(this.ctx, options));
  }
  async revoke(
    serial: string,
    reason: RevocationReason,
    time: Date,
    event?: AuditEventInput,
  ): Promise<RevokeResult> {
    return certs.revoke(this.ctx, serial, reason, time, event);
  }
  async listRevoked(options?: { notExpiredAt?: Date }): Promise<RevokedEntry[]> {
    return this.ctx.db.afterDurable(certs.listRevoked(this.ctx, options));
  }

  async beginTransaction(
    input: BeginTransactionInput,
    event?: AuditEventInput,
  ): Promise<BeginTransactionResult> {
    const begun = txs.beginTransaction(this.ctx, input, event);
    // An existing transaction may point at a certificate whose group commit is not yet on disk.
    return begun.created ? begun : this.ctx.db.afterDurable(begun);
  }
  async getTransaction(key: TransactionKey): Promise<TransactionRecord | null> {
    return this.ctx.db.afterDurable(txs.getTransaction(this.ctx, key));
  }
  async listTransactions(query: TransactionQuery): Promise<TransactionRecord[]> {
    return this.ctx.db.afterDurable(txs.listTransactions(this.ctx, query));
  }
  async updateTransaction(
    key: TransactionKey,
    update: TransactionUpdate,
    event?: AuditEventInput,
  ): Promise<TransactionRecord> {
    return txs.updateTransaction(this.ctx, key, update, event);
  }
  async markTransactionNotified(key: TransactionKey): Promise<boolean> {
    return txs.markTransactionNotified(this.ctx, key);
  }

  async appendAudit(event: AuditEventInput): Promise<AuditEvent> {
    return audit.appendAudit(this.ctx, event);
  }
  async queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    return this.ctx.db.afterDurable(audit.queryAudit(this.ctx, query));
  }

  async enrollmentActivity(query: EnrollmentActivityQuery): Promise<EnrollmentActivityRow[]> {
    return this.ctx.db.afterDurable(activity.enrollmentActivity(this.ctx, query));
  }

  async mintChallenge(input: MintChallengeInput): Promise<MintedChallenge> {
    return records.mintChallenge(this.ctx, input, this.random);
  }
  async consumeChallenge(
    password: string,
    options?: { profile?: string; now?: Date },
  ): Promise<ConsumeChallengeResult> {
    return records.consumeChallenge(this.ctx, password, options);
  }
  async purgeChallenges(before: Date): Promise<number> {
    return records.purgeChallenges(this.ctx, before);
  }

  async nextCrlNumber(): Promise<bigint> {
    return records.nextCrlNumber(this.ctx);
  }
  async saveCrl(crl: CrlRecord): Promise<boolean> {
    return records.saveCrl(this.ctx, crl);
  }
  async getLatestCrl(): Promise<CrlRecord | null> {
    return this.ctx.db.afterDurable(records.getLatestCrl(this.ctx));
  }

  async enqueueOutbox(input: EnqueueOutboxInput): Promise<OutboxItem> {
    return outbox.enqueueOutbox(this.ctx, input);
  }
  async claimOutbox(input: ClaimOutboxInput): Promise<OutboxItem[]> {
    return outbox.claimOutbox(this.ctx, input);
  }
  async completeOutbox(id: number, owner: string, error?: string): Promise<boolean> {
    return outbox.completeOutbox(this.ctx, id, owner, error);
  }
  async rescheduleOutbox(
    id: number,
    owner: string,
    options: { error: string; nextAttemptAt: Date },
  ): Promise<boolean> {
    return outbox.rescheduleOutbox(this.ctx, id, owner, options);
  }
  async getOutboxItem(id: number): Promise<OutboxItem | null> {
    return this.ctx.db.afterDurable(outbox.getOutboxItem(this.ctx, id));
  }
  async purgeOutbox(before: Date): Promise<number> {
    return outbox.purgeOutbox(this.ctx, before);
  }

  async recordIntuneRevocation(record: IntuneRevocationRecord): Promise<'recorded' | 'duplicate'> {
    return records.recordIntuneRevocation(this.ctx, record);
  }
  async getIntuneRevocation(requestContext: string): Promise<IntuneRevocationRecord | null> {
    return this.ctx.db.afterDurable(records.getIntuneRevocation(this.ctx, requestContext));
  }
}

function openDatabase(options: SqliteStoreOptions): { db: SqliteDb; checkpointer?: WalCheckpointer } {
  let raw: Database.Database | undefined;
  let walFd: number | undefined;
  let checkpointer: WalCheckpointer | undefined;
  try {
    raw = new Database(options.filename);
    raw.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    const wal = raw.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    raw.pragma('foreign_keys = ON');
    // Statement journals in memory: every multi-statement write transaction, and each savepoint of a group
    // commit, keeps one, and past 64 KiB SQLite spills it to a temporary file (created, written, deleted on
    // the event loop: ~0.7 files and 16 writes per enrollment). Nothing in them outlives the transaction.
    raw.pragma('temp_store = MEMORY');
    if (wal && options.checkpointThread && !raw.memory) {
      const writer = raw;
      checkpointer = new WalCheckpointer(resolve(options.filename), {
        onFailure: () => {
          if (writer.open) writer.pragma('wal_autocheckpoint = 1000');
        },
      });
      raw.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT}`);
    }
    const [conn, ckpt] = [raw, checkpointer];
    const opened = (walSync?: WalSync) => {
      const db = new SqliteDb(conn, {
        ...(walSync ? { walSync } : {}),
        ...(ckpt ? { onCommit: () => ckpt.committed() } : {}),
      });
      return ckpt ? { db, checkpointer: ckpt } : { db };
    };
    if (options.synchronous !== 'FULL' || !wal) {
      raw.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
      return opened();
    }
    // FULL, by scepkit (see `WalSync`): NORMAL commits, then fdatasync of the WAL file.
    raw.pragma('synchronous = NORMAL');
    raw.prepare('SELECT count(*) FROM sqlite_master').get(); // a read opens (creates) the WAL file
    const walPath = `${resolve(options.filename)}-wal`;
    walFd = openSync(walPath, 'r+');
    // Its directory entry too, once: what SQLite's own FULL does on the first sync of a new WAL.
    const dir = openSync(dirname(walPath), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    return opened({ fd: walFd });
  } catch (err) {
    void checkpointer?.close();
    raw?.close();
    if (walFd !== undefined) closeSync(walFd);
    throw new StoreError('database', 'cannot open SQLite database', err);
  }
}
