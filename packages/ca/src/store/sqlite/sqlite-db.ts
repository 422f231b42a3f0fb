import type { Database as Db, Statement } from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { Dialect } from '../query-builder.js';

export const SQLITE_DIALECT: Dialect = { param: () => '?', ilike: 'LIKE', time: (d) => d.getTime() };

/** A better-sqlite3 connection with a statement cache and transaction/error handling. */
export class SqliteDb {
  private readonly statements = new Map<string, Statement>();

  constructor(readonly raw: Db) {}

  get open(): boolean {
    return this.raw.open;
  }

  close(): void {
    if (!this.raw.open) return;
    this.statements.clear();
    this.raw.close();
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
    this.assertOpen();
    try {
      return this.raw.transaction(fn).immediate();
    } catch (err) {
      throw wrap(err);
    }
  }

  /**
   * `write` for a record whose loss in a power cut is harmless (a transaction begun but not yet answered): with
   * `synchronous = FULL` in WAL mode this commit is not fsynced by itself (NORMAL), and the next durable commit's
   * fsync of the WAL (append-only, in order) makes it durable too. Saves one fsync per enrollment.
   */
  writeRelaxed<T>(fn: () => T): T {
    this.assertOpen();
    this.#level ??= Number(this.raw.pragma('synchronous', { simple: true }));
    if (this.#level < 2) return this.write(fn);
    this.raw.pragma('synchronous = NORMAL');
    try {
      return this.write(fn);
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
      try {
        only.resolve(this.write(only.fn));
      } catch (err) {
        only.reject(err);
      }
      return;
    }
    let outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[];
    try {
      outcomes = this.write(() =>
        batch.map((item) => {
          try {
            // Nested in the outer transaction, better-sqlite3 runs this as a savepoint.
            return { ok: true as const, value: this.raw.transaction(item.fn)() };
          } catch (error) {
            return { ok: false as const, error: wrap(error) };
          }
        }),
      );
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.value) : batch[i]!.reject(o.error)));
  }

  /** The connection's configured `synchronous` level (0 OFF .. 3 EXTRA), read on first relaxed write. */
  #level: number | undefined;

  private assertOpen(): void {
    if (!this.raw.open) throw new StoreError('closed', 'store is closed');
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
