import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import pg from 'pg';
import { FakeClock, makeCert } from '../conformance/harness.js';
import { runStoreConformance } from '../conformance/index.js';
import { StoreError } from '../errors.js';
import type { CertificateStore } from '../types.js';
import { PostgresStore } from './postgres-store.js';

const url = process.env['SCEPKIT_TEST_PG'];

if (url) {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  const run = `scepkit_t_${process.pid}_${randomBytes(3).toString('hex')}`;
  let n = 0;
  const spare: string[] = [];

  /** Truncate every table of a fully migrated schema; false if the schema is not (fully) migrated. */
  const emptied = async (schema: string): Promise<boolean> => {
    const r = await admin.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [schema],
    );
    const tables = r.rows.map((row) => row.table_name).filter((name) => name !== 'schema_migrations');
    if (tables.length !== 8) return false;
    await admin.query(
      `TRUNCATE ${tables.map((name) => `"${schema}"."${name}"`).join(', ')} RESTART IDENTITY`,
    );
    return true;
  };
  after(async () => {
    // Drop anything a failed test left behind, then end the admin pool.
    const r = await admin.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
      [`${run}\\_%`],
    );
    for (const { nspname } of r.rows) await admin.query(`DROP SCHEMA "${nspname}" CASCADE`);
    await admin.end();
  });

  runStoreConformance({
    name: 'postgres',
    async createDatabase(options) {
      // Creating and migrating a schema costs far more than emptying one: reuse emptied schemas.
      const schema = (options?.pristine ? undefined : spare.pop()) ?? `${run}_${++n}`;
      const opened: CertificateStore[] = [];
      return {
        async open(options) {
          const store = new PostgresStore({ connectionString: url, schema, poolMax: 4, ...options });
          opened.push(store);
          return store;
        },
        async drop() {
          for (const s of opened) await s.close();
          if (await emptied(schema)) spare.push(schema);
          else await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        },
      };
    },
  });

  test('postgres/audit-log-append-only-and-schema-isolation', async (t) => {
    const schema = `${run}_x`;
    const store = new PostgresStore({ connectionString: url, schema, poolMax: 2 });
    t.after(async () => {
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    });
    await store.migrate();
    await store.appendAudit({ actor: 'scep', action: 'x' });
    await assert.rejects(admin.query(`DELETE FROM "${schema}".audit_log`), /append-only/);
    const tables = await admin.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
      [schema],
    );
    assert.deepEqual(
      tables.rows.map((r) => r.table_name),
      [
        'audit_log',
        'certificates',
        'challenges',
        'crl_counter',
        'crl_latest',
        'intune_revocations',
        'outbox',
        'schema_migrations',
        'transactions',
      ],
    );
  });

  test('postgres/external-pool-is-not-ended-by-close', async (t) => {
    const schema = `${run}_pool`;
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    t.after(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    });
    const store = new PostgresStore({ pool, schema });
    assert.equal(await store.migrate(), 3);
    await store.close();
    await assert.rejects(store.nextCrlNumber(), /closed/);
    const r = await pool.query<{ n: number }>('SELECT 1 AS n');
    assert.equal(r.rows[0]?.n, 1, 'the caller still owns a working pool');
  });

  for (const prepared of [true, false]) {
    test(`postgres/enrollment-statements-${prepared ? 'prepared' : 'unprepared'}`, async (t) => {
      const schema = `${run}_prep_${prepared}`;
      // One connection, so that pg_prepared_statements shows what the store's statements left on it.
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      const store = new PostgresStore({ pool, schema, preparedStatements: prepared });
      t.after(async () => {
        await store.close();
        await pool.end();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      });
      await store.migrate();
      const clock = new FakeClock();
      for (const id of ['t1', 't2']) {
        const key = { transactionId: id, profile: 'p' };
        const begun = await store.beginTransaction({
          ...key,
          requestHash: 'aa',
          csr: new Uint8Array([1, 2]),
        });
        assert.equal(begun.created, true);
        const again = await store.beginTransaction({ ...key, requestHash: 'aa' });
        assert.deepEqual(
          { created: again.created, state: again.transaction.state },
          { created: false, state: 'pending' },
        );
        const cert = makeCert(clock, { transactionId: id });
        const issued = await store.issue({
          certificate: cert,
          transaction: key,
          audit: { actor: 'scep', action: 'issue' },
        });
        assert.equal(issued.serial, cert.serial);
        assert.equal(await store.markTransactionNotified(key), true);
        const tx = await store.getTransaction(key);
        assert.deepEqual([tx?.state, tx?.serial, tx?.csr, tx?.notified], ['issued', cert.serial, null, true]);
      }
      assert.equal((await store.queryAudit({ action: 'issue' })).length, 2);
      const names = await pool.query<{ name: string }>(
        'SELECT name FROM pg_prepared_statements ORDER BY name',
      );
      assert.deepEqual(
        names.rows.map((r) => r.name),
        prepared ? ['begin', 'issue', 'notified'].map((k) => `scepkit/"${schema}"/${k}`) : [],
      );
    });
  }

  test('fail/postgres-schema-from-a-newer-release', async (t) => {
    const schema = `${run}_newer`;
    const store = new PostgresStore({ connectionString: url, schema, poolMax: 1 });
    t.after(async () => {
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    });
    await store.migrate();
    await admin.query(
      `INSERT INTO "${schema}".schema_migrations (version, name, applied_at) VALUES (99, 'future', now())`,
    );
    await assert.rejects(
      store.migrate(),
      (err: unknown) => err instanceof StoreError && err.code === 'migration' && /newer/.test(err.message),
    );
  });

  test('fail/postgres-invalid-schema-name', () => {
    assert.throws(
      () => new PostgresStore({ connectionString: url, schema: 'x"; DROP TABLE y; --' }),
      /schema/,
    );
  });
} else if (process.env['CI']) {
  test('postgres conformance', () => {
    assert.fail('SCEPKIT_TEST_PG is not set but CI is: the PostgreSQL store tests must run in CI');
  });
} else {
  test(
    'postgres conformance',
    { skip: 'SCEPKIT_TEST_PG is not set (a postgres:// URL enables these tests)' },
    () => {},
  );
}
