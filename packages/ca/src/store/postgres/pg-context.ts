import type { QueryConfig } from 'pg';
import type { Dialect } from '../query-builder.js';
import type { PgDb } from './pg-db.js';

/** What the PostgreSQL modules share: the database, the quoted schema name and the clock. */
export interface PgContext {
  db: PgDb;
  /** Quoted schema, to prefix table names: `${s}.certificates`. */
  s: string;
  now: () => Date;
  /** Hot statements run as named prepared statements (see `statement`). */
  prepared: boolean;
}

/**
 * A query of the enrollment path: named (`scepkit/<schema>/<key>`, prepared once per connection by the driver)
 * when `ctx.prepared`, else unnamed. `key` must name one SQL text in the schema.
 */
export function statement(ctx: PgContext, key: string, text: string, values: unknown[]): QueryConfig {
  return ctx.prepared ? { name: `scepkit/${ctx.s}/${key}`, text, values } : { text, values };
}

export const PG_DIALECT: Dialect = { param: (n) => `$${n}`, ilike: 'ILIKE', time: (d) => d };
