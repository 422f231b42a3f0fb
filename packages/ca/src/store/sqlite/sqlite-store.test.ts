import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { runStoreConformance } from '../conformance/index.js';
import type { CertificateStore } from '../types.js';
import { hashChallenge } from '../validate.js';
import { SqliteStore } from './sqlite-store.js';

runStoreConformance({
  name: 'sqlite',
  async createDatabase() {
    const dir = await mkdtemp(join(tmpdir(), 'scepkit-store-'));
    const opened: CertificateStore[] = [];
    return {
      async open(options) {
        const store = new SqliteStore({ filename: join(dir, 'ca.db'), ...options });
        opened.push(store);
        return store;
      },
      async drop() {
        for (const s of opened) await s.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
});

test('sqlite/pragmas-and-hashed-challenges', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'scepkit-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const filename = join(dir, 'ca.db');
  const store = new SqliteStore({ filename, synchronous: 'FULL' });
  t.after(() => store.close());
  await store.migrate();
  await store.mintChallenge({ password: 'secret-otp', expiresAt: new Date(Date.now() + 60_000) });
  const raw = new Database(filename, { readonly: true });
  t.after(() => raw.close());
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  const rows = raw.prepare('SELECT hash FROM challenges').all() as { hash: string }[];
  assert.deepEqual(rows, [{ hash: hashChallenge('secret-otp') }], 'only the SHA-256 is stored');
  assert.deepEqual(raw.prepare('SELECT version, name FROM schema_migrations').all(), [
    { version: 1, name: 'initial' },
  ]);
  assert.throws(
    () => raw.prepare('DELETE FROM audit_log').run(),
    'audit log is append-only (read-only handle)',
  );
});

test('sqlite/memory-database', async () => {
  const store = new SqliteStore({ filename: ':memory:' });
  await store.migrate();
  assert.equal(await store.nextCrlNumber(), 1n);
  await store.close();
});
