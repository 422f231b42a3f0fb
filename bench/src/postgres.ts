import pg from 'pg';
import { cpuSeconds } from './proc.js';

function benchSchema(schema: string): string {
  if (!/^bench_[a-z0-9_]+$/.test(schema)) throw new Error(`refusing to touch schema ${schema}`);
  return schema;
}

async function withPool<T>(url: string, run: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    return await run(pool);
  } finally {
    await pool.end();
  }
}

/** Drops the bench's PostgreSQL schema (the name is checked: only `bench_*` schemas). */
export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  await withPool(url, (pool) => pool.query(`DROP SCHEMA IF EXISTS ${benchSchema(schema)} CASCADE`));
}

/** Rows of the bench schema's certificates table, and distinct serial numbers among them. */
export async function countPostgresCertificates(
  url: string,
  schema: string,
): Promise<{ rows: number; distinctSerials: number }> {
  const r = await withPool(url, (pool) =>
    pool.query<{ rows: number; serials: number }>(
      `SELECT count(*)::int AS rows, count(DISTINCT serial)::int AS serials FROM ${benchSchema(schema)}.certificates`,
    ),
  );
  return { rows: r.rows[0]?.rows ?? 0, distinctSerials: r.rows[0]?.serials ?? 0 };
}

/** `url` with `application_name` set, so the server's connections can be told from everyone else's. */
export function withApplicationName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}

/**
 * CPU of the PostgreSQL backends serving connections named `applicationName` (local server: their PIDs are
 * read in /proc). Backends that appear during the measurement count from zero; those that end are lost.
 */
export async function startBackendMeter(
  url: string,
  applicationName: string,
): Promise<() => Promise<number>> {
  const backends = async () => {
    const r = await withPool(url, (pool) =>
      pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
        applicationName,
      ]),
    );
    const cpu = new Map<number, number>();
    for (const { pid } of r.rows) {
      try {
        cpu.set(pid, cpuSeconds(pid));
      } catch {
        // not readable here (remote server, or the backend just ended)
      }
    }
    return cpu;
  };
  const before = await backends();
  return async () => {
    let total = 0;
    for (const [pid, seconds] of await backends()) total += seconds - (before.get(pid) ?? 0);
    return total;
  };
}
