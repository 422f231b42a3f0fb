/*
 * Opening the store a running (or killed) scepkit used, and the invariants that must hold in it after a crash.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore, SqliteStore } from '@scepkit/ca';
import type { CertificateRecord, CertificateStore } from '@scepkit/ca';
import { PG_URL } from './harness.js';

export type StoreKind = 'sqlite' | 'postgres';

/** In CI PostgreSQL must be there (a missing one fails); locally its absence skips. */
export async function requirePostgres(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    const why = `PostgreSQL not reachable at ${PG_URL.replace(/:[^:@/]*@/, ':***@')}: ${String(err)}`;
    if (process.env['CI']) throw new Error(why);
    return why;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function uniqueSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}`.toLowerCase();
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export function storeConfig(kind: StoreKind, schema: string): Record<string, unknown> {
  return kind === 'sqlite' ? { type: 'sqlite' } : { type: 'postgres', url: PG_URL, schema };
}

export function openStore(
  kind: StoreKind,
  dataDir: string,
  schema: string,
  url: string = PG_URL,
): CertificateStore {
  return kind === 'sqlite'
    ? new SqliteStore({ filename: join(dataDir, 'scepkit.db') })
    : new PostgresStore({ connectionString: url, schema, poolMax: 2 });
}

/** Every certificate in the store (at most a few thousand in these tests). */
export async function allCertificates(store: CertificateStore): Promise<CertificateRecord[]> {
  const out: CertificateRecord[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await store.searchCertificates({ limit: 1000, offset });
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

export interface Received {
  transactionId: string;
  profile: string;
  der: Uint8Array;
  serial: string;
}

/**
 * After a crash and restart: every certificate a client received is stored (same DER), no serial twice, one
 * certificate per transaction, every `issued` transaction has its certificate, nothing left `pending`.
 * Returns the number of received certificates missing from the store (the test asserts it is zero).
 */
export async function checkInvariants(
  store: CertificateStore,
  received: readonly Received[],
): Promise<number> {
  const all = await allCertificates(store);
  const serials = new Set(all.map((c) => c.serial));
  assert.equal(serials.size, all.length, 'no serial stored twice');
  let lost = 0;
  for (const r of received) {
    const c = await store.getCertificate(r.serial);
    if (!c) {
      lost++;
      continue;
    }
    assert.ok(
      Buffer.from(c.der).equals(Buffer.from(r.der)),
      `${r.serial}: the stored DER is the one received`,
    );
    assert.equal(c.transactionId, r.transactionId);
    const forTx = await store.searchCertificates({ transactionId: r.transactionId });
    assert.equal(forTx.length, 1, `one certificate for transaction ${r.transactionId}`);
  }
  for (let offset = 0; ; offset += 1000) {
    const issued = await store.listTransactions({ state: 'issued', limit: 1000, offset });
    for (const t of issued) {
      assert.ok(t.serial, `issued transaction ${t.transactionId} names its certificate`);
      assert.ok(
        serials.has(t.serial),
        `issued transaction ${t.transactionId}: certificate ${t.serial} stored`,
      );
    }
    if (issued.length < 1000) break;
  }
  const pending = await store.listTransactions({ state: 'pending', limit: 1000 });
  assert.deepEqual(
    pending.map((t) => t.transactionId),
    [],
    'no transaction left half-done (pending) once its request was re-sent',
  );
  return lost;
}
