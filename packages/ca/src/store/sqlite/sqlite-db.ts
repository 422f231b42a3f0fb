import { fdatasync, fdatasyncSync, closeSync } from 'node:fs';
import type { Database as Db, Statement, Transaction } from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { Dialect } from '../query-builder.js';

export const SQLITE_DIALECT: Dialect = { param: () => '?', ilike: 'LIKE', time: (d) => d.getTime() };

/**
 * Durability done by scepkit instead of SQLite: the connection runs in WAL mode with `synchronous = NORMAL` (a
 * commit appends to the WAL without fsync, and SQLite keeps the file consistent through a power cut), and a
 * commit that must survive one is followed by `fdatasync` of the WAL file, the same fsync `synchronous = FULL`
 * would make inside the commit. Done by `SqliteDb`, the fsync of a group commit runs on libuv's thread pool, so
 * the event loop goes on with other requests meanwhile, and one fsync serves every commit made before it starts.
 */
export interface WalSync {
  /** An open descriptor of the database's `-wal` file (the connection keeps it from being deleted). */
  fd: number;
  /** Injection points for tests; default `node:fs`. */
  fdatasync?: (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => void;
  fdatasyncSync?: (fd: number) => void;
}

interface DurableWaiter {
  seq: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A better-sqlite3 connection with a statement cache and transaction/error handling. */
export class SqliteDb {
  private readonly statements = new Map<string, Statement>();
  readonly #wal: Required<WalSync> | undefined;

  readonly #onCommit: (() => void) | undefined;
  /**
   * Runs its argument in a transaction (a savepoint when one is open). Made once: better-sqlite3's
   * `transaction(fn)` builds four wrappers and defines their properties on every call.
   */
  readonly #inTransaction: Transaction<(fn: () => unknown) => unknown>;

  constructor(
    readonly raw: Db,
    options: { walSync?: WalSync; onCommit?: () => void } = {},
  ) {
    this.#onCommit = options.onCommit;
    this.#inTransaction = raw.transaction((fn: () => unknown) => fn());
    const w = options.walSync;
    this.#wal = w && {
      fd: w.fd,
      fdatasync: w.fdatasync ?? fdatasync,
      fdatasyncSync: w.fdatasyncSync ?? fdatasyncSync,
    };
  }

  get open(): boolean {
    return this.raw.open;
  }

  close(): void {
    if (!this.raw.open) return;
    if (this.#wal && this.#durable < this.#committed && this.#failed === undefined) {
      try {
        this.#syncNow();
      } catch {
        // #syncNow rejected the waiters
      }
    }
    this.statements.clear();
    this.raw.close();
    // A fdatasync still on the thread pool keeps using the descriptor: close it when that one returns.
    if (this.#wal && !this.#syncing) closeSync(this.#wal.fd);
  }

  /** The prepared statement for `sql`, prepared once per connection. */
  stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.raw.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  read<T>(fn: () => T): T {
    this.assertOpen();
    try {
      return fn();
    } catch (err) {
      throw wrap(err);
    }
  }

  /**
   * Run `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front (waiting up to busy_timeout),
   * so two connections never deadlock on a read-to-write upgrade. Any throw rolls back.
   */
  write<T>(fn: () => T): T {
    const nested = this.raw.inTransaction; // a savepoint in a group commit: that commit syncs
    const result = this.#commit(fn);
    if (this.#wal && !nested) {
      this.#committed++;
      this.#syncNow();
    }
    return result;
  }

  #commit<T>(fn: () => T): T {
    this.assertOpen();
    let result: T;
    try {
      result = this.#inTransaction.immediate(fn) as T;
    } catch (err) {
      throw wrap(err);
    }
    this.#onCommit?.();
    return result;
  }

  /**
   * `write` for a record whose loss in a power cut is harmless (a transaction begun but not yet answered): with
   * `synchronous = FULL` in WAL mode this commit is not fsynced by itself (NORMAL), and the next durable commit's
   * fsync of the WAL (append-only, in order) makes it durable too. Saves one fsync per enrollment.
   */
  writeRelaxed<T>(fn: () => T): T {
    if (this.#wal) return this.#commit(fn); // NORMAL already; the next durable commit's fsync covers it
    this.assertOpen();
    this.#level ??= Number(this.raw.pragma('synchronous', { simple: true }));
    if (this.#level < 2) return this.#commit(fn);
    this.raw.pragma('synchronous = NORMAL');
    try {
      return this.#commit(fn);
    } finally {
      this.raw.pragma(`synchronous = ${this.#level}`);
    }
  }

  /**
   * Group commit: writes queued in the same turn of the event loop run in one `BEGIN IMMEDIATE` transaction, each
   * in its own savepoint (one that throws is rolled back alone and rejects alone), and all resolve after the single
   * commit: under concurrent enrollments one fsync serves many, and nothing resolves before it is durable.
   */
  writeBatched<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#batch.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.#batch.length === 1) setImmediate(() => this.#flush());
    });
  }

  #batch: { fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];

  #flush(): void {
    const batch = this.#batch;
    this.#batch = [];
    if (batch.length === 1) {
      const [only] = batch as [(typeof batch)[number]];
      let value: unknown;
      try {
        value = this.#wal ? this.#commit(only.fn) : this.write(only.fn);
      } catch (err) {
        only.reject(err);
        return;
      }
      if (!this.#wal) return only.resolve(value);
      this.#durableAfter(++this.#committed).then(() => only.resolve(value), only.reject);
      return;
    }
    let outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[];
    try {
      outcomes = (this.#wal ? this.#commit.bind(this) : this.write.bind(this))(() =>
        batch.map((item) => {
          try {
            // Nested in the outer transaction, better-sqlite3 runs this as a savepoint.
            return { ok: true as const, value: this.#inTransaction(item.fn) };
          } catch (error) {
            return { ok: false as const, error: wrap(error) };
          }
        }),
      );
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    // A write whose savepoint failed wrote nothing: it rejects now; the others once their commit is durable.
    outcomes.forEach((o, i) => o.ok || batch[i]!.reject(o.error));
    const settle = (): void => outcomes.forEach((o, i) => o.ok && batch[i]!.resolve(o.value));
    if (!this.#wal) return settle();
    this.#durableAfter(++this.#committed).then(settle, (err: unknown) => {
      outcomes.forEach((o, i) => o.ok && batch[i]!.reject(err));
    });
  }

  /**
   * `value`, once every durable commit made so far is on disk: a read that may hand out what a group commit
   * wrote (a certificate) must not return it before its fsync, as SQLite's FULL would not have shown it.
   */
  afterDurable<T>(value: T): Promise<T> {
    if (this.#durable >= this.#committed) return Promise.resolve(value);
    return this.#durableAfter(this.#committed).then(() => value);
  }

  /** Durable commits made (sequence numbers) and the last one known on disk. */
  #committed = 0;
  #durable = 0;
  #syncing = false;
  #waiters: DurableWaiter[] = [];
  /** After a failed fsync nothing is known to be durable: every later write fails (fail closed). */
  #failed: StoreError<string> | undefined;

  #durableAfter(seq: number): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#durable >= seq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ seq, resolve, reject });
      this.#kick();
    });
  }

  /** Starts one fdatasync on the thread pool for every commit made so far, unless one is running. */
  #kick(): void {
    const wal = this.#wal!;
    if (this.#syncing || this.#waiters.length === 0) return;
    this.#syncing = true;
    const target = this.#committed;
    wal.fdatasync(wal.fd, (err) => {
      this.#syncing = false;
      if (!this.raw.open) closeSync(wal.fd);
      if (err) {
        this.#fail(err);
        return;
      }
      this.#settle(target);
      if (this.raw.open) this.#kick();
    });
  }

  /** fdatasync now, in this thread (a synchronous write): every commit so far is durable after it. */
  #syncNow(): void {
    if (this.#failed) throw this.#failed;
    const target = this.#committed;
    try {
      this.#wal!.fdatasyncSync(this.#wal!.fd);
    } catch (err) {
      throw this.#fail(err);
    }
    this.#settle(target);
  }

  #settle(target: number): void {
    if (target <= this.#durable) return;
    this.#durable = target;
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const w of waiting) {
      if (w.seq <= target) w.resolve();
      else this.#waiters.push(w);
    }
  }

  #fail(err: unknown): StoreError<string> {
    this.#failed ??= new StoreError(
      'database',
      'fsync of the SQLite WAL failed; restart after checking the disk',
      err,
    );
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const w of waiting) w.reject(this.#failed);
    return this.#failed;
  }

  /** The connection's configured `synchronous` level (0 OFF .. 3 EXTRA), read on first relaxed write. */
  #level: number | undefined;

  private assertOpen(): void {
    if (!this.raw.open) throw new StoreError('closed', 'store is closed');
    if (this.#failed) throw this.#failed;
  }
}

/** What the SQLite modules share. */
export interface SqliteContext {
  db: SqliteDb;
  now: () => Date;
}

export function isUniqueViolation(err: unknown, column: string): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof e.message === 'string' && e.message.includes(column);
}

function wrap(err: unknown): StoreError<string> {
  if (err instanceof StoreError) return err as StoreError<string>;
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_BUSY') return new StoreError('unavailable', 'SQLite database is busy', err);
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
    return new StoreError('invalid-input', 'constraint violated', err);
  }
  return new StoreError('database', 'SQLite error', err);
}
