import type { Pool, PoolClient, QueryConfig, QueryResultRow } from 'pg';
import { StoreError, isPostgresUnavailable } from '../errors.js';
import type { Row } from '../rows.js';

/** Something that runs a query: the pool (autocommit) or a client inside a transaction. */
export type Queryable = Pick<PoolClient, 'query'>;

/** The pool plus transaction and error handling shared by the PostgreSQL modules. */
export class PgDb {
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly ownsPool: boolean,
  ) {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }

  /** Rows of one autocommit statement. */
  async query(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.run(async (c) => (await c.query(sql, params)).rows as Row[]);
  }

  /** Run autocommit statements on the pool; driver errors become `StoreError`s. */
  async run<T>(fn: (c: Queryable) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('closed', 'store is closed');
    try {
      return await fn(this.pool);
    } catch (err) {
      throw wrap(err);
    }
  }

  /** Run `fn` in one SQL transaction (READ COMMITTED) on one client; rolled back on any error. */
  async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('closed', 'store is closed');
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw wrap(err);
    }
    let broken: Error | undefined;
    // A checked-out client is no longer watched by the pool: if the connection drops (database restart,
    // network cut) while `fn` runs between statements, the client emits 'error', which would crash the process.
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
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
      // A connection that broke under `fn` makes any error of `fn` an outage, whatever its message.
      if (broken && !(err instanceof StoreError)) {
        throw new StoreError('unavailable', 'PostgreSQL connection lost', err);
      }
      throw wrap(err);
    } finally {
      // A client whose connection failed (or whose rollback failed) is destroyed instead of returned to the pool.
      client.removeListener('error', onError);
      client.release(broken);
    }
  }
}

/** The single row a statement (SQL and parameters, or a `statement` config) must return. */
export async function one(c: Queryable, sql: string | QueryConfig, params?: unknown[]): Promise<Row> {
  const r =
    typeof sql === 'string' ? await c.query<QueryResultRow>(sql, params) : await c.query<QueryResultRow>(sql);
  const row = r.rows[0];
  if (!row) throw new StoreError('database', 'statement returned no row');
  return row;
}

export function isUniqueViolation(err: unknown, constraint: string): boolean {
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
  if (isPostgresUnavailable(err)) return new StoreError('unavailable', 'PostgreSQL is unavailable', err);
  return new StoreError('database', 'PostgreSQL error', err);
}
