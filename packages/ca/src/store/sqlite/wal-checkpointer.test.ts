import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { FakeClock, makeCert } from '../conformance/harness.js';
import { SqliteStore } from './sqlite-store.js';
import { WalCheckpointer } from './wal-checkpointer.js';

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** The rows of `table` in the database file alone (a copy without its WAL): what a checkpoint copied there. */
function rowsInDatabaseFile(filename: string, dir: string, table: string): number {
  const copy = join(dir, `copy-${Date.now()}.db`);
  copyFileSync(filename, copy);
  const db = new Database(copy, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

test('wal-checkpointer/copies-the-wal-into-the-database-file-on-its-thread', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'scepkit-ckpt-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const filename = join(dir, 'w.db');
  const writer = new Database(filename);
  t.after(() => writer.close());
  writer.pragma('journal_mode = WAL');
  writer.pragma('wal_autocheckpoint = 0'); // only the thread checkpoints
  writer.exec('CREATE TABLE t (v BLOB)');
  writer.pragma('wal_checkpoint(TRUNCATE)');
  const failures: number[] = [];
  const ckpt = new WalCheckpointer(filename, { every: 10, onFailure: () => failures.push(1) });
  const insert = writer.prepare('INSERT INTO t (v) VALUES (randomblob(3000))');
  for (let i = 0; i < 9; i++) {
    insert.run();
    ckpt.committed();
  }
  await sleep(100);
  assert.equal(ckpt.completed, 0, 'nothing asked before `every` commits');
  assert.equal(rowsInDatabaseFile(filename, dir, 't'), 0, 'the rows are only in the WAL');
  insert.run();
  ckpt.committed();
  await until('a checkpoint', () => ckpt.completed === 1);
  assert.equal(rowsInDatabaseFile(filename, dir, 't'), 10, 'the checkpoint copied all ten rows');
  assert.ok(ckpt.backfilled > 0);
  await ckpt.close();
  assert.deepEqual(failures, [], 'closing is not a failure');
});

test('wal-checkpointer/a-thread-that-cannot-open-the-database-reports-a-failure', async () => {
  let failed = 0;
  const ckpt = new WalCheckpointer(join(tmpdir(), `scepkit-missing-${process.pid}`, 'none.db'), {
    onFailure: () => failed++,
  });
  await until('the failure', () => failed === 1);
  for (let i = 0; i < 200; i++) ckpt.committed(); // no thread to ask: no throw, no message
  await ckpt.close(1000);
  assert.equal(failed, 1);
});

test('wal-checkpointer/store-issues-survive-reopen-and-the-wal-is-removed-at-close', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'scepkit-ckpt-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const filename = join(dir, 'ca.db');
  const clock = new FakeClock();
  const store = new SqliteStore({ filename, synchronous: 'FULL', checkpointThread: true });
  await store.migrate();
  const serials: string[] = [];
  for (let i = 0; i < 300; i++) {
    const c = makeCert(clock);
    serials.push(c.serial);
    await store.issue({ certificate: c, audit: { actor: 'scep', action: 'issue' } });
  }
  await until('a checkpoint by the thread', () => (store.checkpointer?.completed ?? 0) > 0);
  assert.ok(rowsInDatabaseFile(filename, dir, 'certificates') > 0, 'certificates reached the database file');
  await store.close();
  assert.equal(
    existsSync(`${filename}-wal`),
    false,
    'the last connection closed checkpoints and removes the WAL',
  );
  assert.equal(rowsInDatabaseFile(filename, dir, 'certificates'), 300);
  const again = new SqliteStore({ filename, synchronous: 'FULL', checkpointThread: true });
  t.after(() => again.close());
  for (const s of [serials[0]!, serials[299]!]) assert.equal((await again.getCertificate(s))?.serial, s);
});

test('wal-checkpointer/a-memory-database-has-no-thread', async (t) => {
  const store = new SqliteStore({ filename: ':memory:', checkpointThread: true });
  t.after(() => store.close());
  assert.equal(store.checkpointer, undefined);
});
