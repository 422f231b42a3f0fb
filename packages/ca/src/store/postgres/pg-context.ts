import type { Dialect } from '../query-builder.js';
import type { PgDb } from './pg-db.js';

/** What the PostgreSQL modules share: the database, the quoted schema name and the clock. */
export interface PgContext {
  db: PgDb;
  /** Quoted schema, to prefix table names: `${s}.certificates`. */
  s: string;
  now: () => Date;
}

export const PG_DIALECT: Dialect = { param: (n) => `$${n}`, ilike: 'ILIKE', time: (d) => d };
