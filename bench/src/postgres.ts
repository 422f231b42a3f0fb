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

/** VACUUM ANALYZE of the tables an enrollment writes, in the bench schema. */
export async function vacuumAnalyze(url: string, schema: string): Promise<void> {
  const s = benchSchema(schema);
  await withPool(url, (pool) =>
    pool.query(`VACUUM (ANALYZE) ${s}.certificates, ${s}.transactions, ${s}.audit_log`),
  );
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
 * read in /proc). Sampled every 500 ms while the point runs, not only at its ends: the server's pool closes a
 * connection after 10 s idle, which can happen before the load generator has checked every reply. Backends that
 * appear during the measurement count from zero; one that ends counts up to its last sample.
 */
export async function startBackendMeter(
  url: string,
  applicationName: string,
): Promise<() => Promise<number>> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let started = false;
  const sample = async () => {
    const r = await pool.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    for (const { pid } of r.rows) {
      try {
        const seconds = cpuSeconds(pid);
        if (!first.has(pid)) first.set(pid, started ? 0 : seconds);
        last.set(pid, seconds);
      } catch {
        // not readable here (remote server, or the backend just ended)
      }
    }
  };
  await sample();
  started = true;
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(sample).catch(() => undefined);
  }, 500);
  return async () => {
    clearInterval(timer);
    await sampling;
    await sample();
    await pool.end();
    let total = 0;
    for (const [pid, seconds] of last) total += seconds - (first.get(pid) ?? 0);
    return total;
  };
}
