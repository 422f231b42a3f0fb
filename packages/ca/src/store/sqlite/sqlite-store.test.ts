import assert from 'node:assert/strict';
import { fstatSync, openSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { runStoreConformance } from '../conformance/index.js';
import { DuplicateSerialError, StoreError } from '../errors.js';
import type { CertificateStore } from '../types.js';
import { hashChallenge } from '../validate.js';
import { SqliteDb } from './sqlite-db.js';
import { SqliteStore } from './sqlite-store.js';
import type { WorkerJob, WorkerResult } from './sqlite-worker.test.fixture.js';
import { FakeClock, makeCert, randomSerial } from '../conformance/harness.js';

// Every store behaviour, and again with the WAL checkpoint thread running.
for (const [name, thread] of [
  ['sqlite', {}],
  ['sqlite-checkpoint-thread', { checkpointThread: true }],
] as const) {
  runStoreConformance({
    name,
    async createDatabase() {
      const dir = await mkdtemp(join(tmpdir(), 'scepkit-store-'));
      const opened: CertificateStore[] = [];
      return {
        async open(options) {
          const store = new SqliteStore({ filename: join(dir, 'ca.db'), ...thread, ...options });
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
}

test('sqlite/wal-hashed-challenges-append-only-audit', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'scepkit-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const filename = join(dir, 'ca.db');
  const store = new SqliteStore({ filename, synchronous: 'FULL' });
  t.after(() => store.close());
  await store.migrate();
  await store.mintChallenge({ password: 'secret-otp', expiresAt: new Date(Date.now() + 60_000) });
  await store.appendAudit({ actor: 'scep', action: 'x' });
  const raw = new Database(filename);
  t.after(() => raw.close());
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  const rows = raw.prepare('SELECT hash FROM challenges').all() as { hash: string }[];
  assert.deepEqual(rows, [{ hash: hashChallenge('secret-otp') }], 'only the SHA-256 is stored');
  assert.throws(() => raw.prepare('DELETE FROM audit_log').run(), /append-only/);
  assert.throws(() => raw.prepare("UPDATE audit_log SET actor = 'y'").run(), /append-only/);
});

test('sqlite/numbered-migrations-apply-only-missing-versions', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'scepkit-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const filename = join(dir, 'ca.db');
  const first = new SqliteStore({ filename });
  assert.equal(await first.migrate(), 2);
  await first.close();
  // Roll the database back to version 1, as if it had been created by an older release.
  const raw = new Database(filename);
  raw.exec('DROP INDEX certificates_transaction; DELETE FROM schema_migrations WHERE version = 2;');
  raw.close();
  const store = new SqliteStore({ filename });
  t.after(() => store.close());
  assert.equal(await store.migrate(), 2);
  const check = new Database(filename, { readonly: true });
  t.after(() => check.close());
  assert.deepEqual(check.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all(), [
    { version: 1, name: 'initial' },
    { version: 2, name: 'certificates-by-transaction' },
  ]);
  const index = check
    .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?")
    .get('certificates_transaction');
  assert.ok(index, 'migration 2 re-applied');
});

test('fail/sqlite-database-from-a-newer-release', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'scepkit-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const filename = join(dir, 'ca.db');
  const first = new SqliteStore({ filename });
  await first.migrate();
  await first.close();
  const raw = new Database(filename);
  raw.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)").run();
  raw.close();
  const store = new SqliteStore({ filename });
  t.after(() => store.close());
  await assert.rejects(
    store.migrate(),
    (err: unknown) => err instanceof StoreError && err.code === 'migration' && /newer/.test(err.message),
  );
});

test('fail/sqlite-cannot-open', () => {
  assert.throws(
    () => new SqliteStore({ filename: join(tmpdir(), 'no-such-dir-scepkit', 'x', 'ca.db') }),
    (err: unknown) => err instanceof StoreError && err.code === 'database',
  );
});

test('sqlite/memory-database', async () => {
  const store = new SqliteStore({ filename: ':memory:' });
  await store.migrate();
  assert.equal(await store.nextCrlNumber(), 1n);
  await store.close();
});

function runWorker(job: WorkerJob): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./sqlite-worker.test.fixture.js', import.meta.url), {
      workerData: job,
    });
    worker.once('message', (m: WorkerResult) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}`));
    });
  });
}

test('sqlite/two-threads-two-connections-one-file', async (t) => {
  // Real contention: two threads, each with its own connection, interleave BEGIN IMMEDIATE writes.
  const dir = await mkdtemp(join(tmpdir(), 'scepkit-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const filename = join(dir, 'ca.db');
  const store = new SqliteStore({ filename });
  t.after(() => store.close());
  await store.migrate();
  const ids: number[] = [];
  for (let i = 0; i < 60; i++) ids.push((await store.enqueueOutbox({ kind: 'k', payload: { i } })).id);
  await store.mintChallenge({ password: 'otp', expiresAt: new Date(Date.now() + 600_000) });
  const serials = Array.from({ length: 200 }, () => randomSerial());
  const transactionIds = Array.from({ length: 50 }, (_, i) => `tx-${i}`);
  const common = { filename, crlNumbers: 40, challenge: 'otp', transactionIds };
  const [a, b] = await Promise.all([
    runWorker({ ...common, owner: 'a', serials: serials.slice(0, 150) }),
    runWorker({ ...common, owner: 'b', serials: serials.slice(50) }),
  ]);
  assert.equal(a.issued.length + b.issued.length, 200);
  assert.deepEqual(new Set([...a.issued, ...b.issued]), new Set(serials), 'each serial issued exactly once');
  assert.equal(a.duplicates + b.duplicates, 100);
  assert.equal((await store.countCertificates({ expiringWithinDays: 0 })).issued, 200);
  const crl = [...a.crl, ...b.crl].sort((x, y) => (x < y ? -1 : 1));
  assert.deepEqual(
    crl,
    Array.from({ length: 80 }, (_, i) => BigInt(i + 1)),
  );
  assert.deepEqual([a.challenge, b.challenge].sort(), ['ok', 'used']);
  assert.deepEqual(
    [...a.created, ...b.created].sort(),
    [...transactionIds].sort(),
    'each transaction created once',
  );
  const claimed = [...a.claimed, ...b.claimed].sort((x, y) => x - y);
  assert.deepEqual(claimed, ids, 'every outbox item claimed once');
});

test('sqlite/relaxed-write-skips-only-its-own-fsync', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'scepkit-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const raw = new Database(join(dir, 'ca.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  const db = new SqliteDb(raw);
  t.after(() => db.close());
  raw.exec('CREATE TABLE t (v INTEGER)');
  const level = () => Number(raw.pragma('synchronous', { simple: true }));
  const seen = db.writeRelaxed(() => {
    raw.prepare('INSERT INTO t VALUES (1)').run();
    return level();
  });
  assert.equal(seen, 1, 'the relaxed commit runs with synchronous = NORMAL');
  assert.equal(level(), 2, 'FULL again for the next (durable) commit');
  assert.throws(() =>
    db.writeRelaxed(() => {
      raw.prepare('INSERT INTO t VALUES (2)').run();
      throw new Error('boom');
    }),
  );
  assert.equal(level(), 2, 'FULL again after a rolled-back relaxed write');
  assert.deepEqual(raw.prepare('SELECT v FROM t').all(), [{ v: 1 }]);
  // A connection configured NORMAL stays NORMAL.
  raw.pragma('synchronous = NORMAL');
  const normal = new SqliteDb(raw);
  normal.writeRelaxed(() => raw.prepare('INSERT INTO t VALUES (3)').run());
  assert.equal(level(), 1);
});

test('sqlite/group-commit: concurrent issues share one commit, a failing one fails alone', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'scepkit-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const filename = join(dir, 'ca.db');
  const clock = new FakeClock();
  const store = new SqliteStore({ filename, synchronous: 'FULL', clock: clock.now });
  t.after(() => store.close());
  await store.migrate();
  const probe = new Database(filename, { readonly: true });
  t.after(() => probe.close());
  // data_version changes once per commit by another connection.
  const version = () => Number(probe.pragma('data_version', { simple: true }));
  const before = version();
  const dup = randomSerial();
  const inputs = [...Array(12).keys()].map((i) => ({
    certificate: makeCert(clock, i === 3 || i === 7 ? { serial: dup } : {}),
    audit: { actor: 'scep', action: 'issue' },
  }));
  const results = await Promise.allSettled(inputs.map((input) => store.issue(input)));
  assert.equal(version() - before, 1, 'twelve issues, one commit');
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [[i, r.reason] as const] : []));
  assert.equal(failed.length, 1);
  assert.equal(failed[0]![0], 7, 'the second use of the serial fails');
  assert.ok(failed[0]![1] instanceof DuplicateSerialError);
  const rows = probe.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number };
  assert.equal(rows.n, 11);
  const audits = probe.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'issue'").get() as {
    n: number;
  };
  assert.equal(audits.n, 11, 'the failed one left no audit row either');
});

/** SQLite's temporary files (statement journals, sorter spills) this process has open; unlinked at creation. */
function openTempFiles(): string[] {
  const links = readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return ''; // closed meanwhile (readdir's own descriptor)
    }
  });
  return links.filter((l) => l.includes('etilqs_'));
}

test('sqlite/temp-store: a group commit keeps its statement journals in memory, not in temporary files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'scepkit-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const clock = new FakeClock();
  // issue() reads the clock inside the group commit, after the savepoints of the issues queued before it.
  const seen: string[] = [];
  const now = (): Date => {
    seen.push(...openTempFiles());
    return clock.now();
  };
  const store = new SqliteStore({ filename: join(dir, 'ca.db'), synchronous: 'FULL', clock: now });
  t.after(() => store.close());
  await store.migrate();
  const n = 24;
  const keys = Array.from({ length: n }, (_, i) => ({ transactionId: `tx-${i}`, profile: 'intune' }));
  for (const key of keys) await store.beginTransaction({ ...key, requestHash: 'ab'.repeat(32) });
  seen.length = 0;
  const issued = await Promise.all(
    keys.map((key) =>
      store.issue({
        certificate: makeCert(clock, { transactionId: key.transactionId }),
        transaction: key,
        audit: { actor: 'scep', action: 'issue', details: { pad: 'x'.repeat(2000) } },
      }),
    ),
  );
  assert.equal(issued.length, n);
  assert.equal((await store.searchCertificates({})).length, n, 'all committed');
  assert.deepEqual(seen, [], 'no temporary file was open inside the commit');
});

/** A WAL-mode connection at NORMAL whose WAL fsyncs are held until the test releases them. */
async function heldWalSync(t: { after: (fn: () => unknown) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'scepkit-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'ca.db');
  const raw = new Database(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec('CREATE TABLE t (v INTEGER UNIQUE)');
  const fd = openSync(`${path}-wal`, 'r+');
  const calls: { fd: number; done: (err: NodeJS.ErrnoException | null) => void }[] = [];
  const syncCalls: number[] = [];
  const db = new SqliteDb(raw, {
    walSync: {
      fd,
      fdatasync: (f, done) => calls.push({ fd: f, done }),
      fdatasyncSync: (f) => syncCalls.push(f),
    },
  });
  t.after(() => db.close());
  const settled = <T>(p: Promise<T>) => {
    const s = { done: false, value: undefined as T | undefined, error: undefined as unknown };
    p.then(
      (v) => ((s.done = true), (s.value = v)),
      (e: unknown) => ((s.done = true), (s.error = e)),
    );
    return s;
  };
  const turn = () => new Promise((r) => setImmediate(r));
  // As the store's issue does: a write() nested in the group commit (a savepoint, synced with the group).
  const insert = (v: number) =>
    db.writeBatched(() => db.write(() => raw.prepare('INSERT INTO t VALUES (?)').run(v).changes));
  return { path, raw, db, fd, calls, syncCalls, settled, turn, insert };
}

test('sqlite/wal-sync: a group commit resolves only after fdatasync of the WAL, off the event loop', async (t) => {
  const h = await heldWalSync(t);
  const first = [1, 2, 3].map((v) => h.settled(h.insert(v)));
  await h.turn();
  assert.equal(h.calls.length, 1, 'one fsync for the three commits');
  assert.equal(fstatSync(h.calls[0]!.fd).ino, statSync(`${h.path}-wal`).ino, 'of the -wal file');
  assert.deepEqual(h.raw.prepare('SELECT count(*) AS n FROM t').get(), { n: 3 }, 'committed');
  const read = h.settled(h.db.afterDurable('row'));
  // A commit made while that fsync runs is not covered by it: it waits for the next one.
  const later = h.settled(h.insert(4));
  await h.turn();
  assert.equal(h.calls.length, 1, 'no second fsync while one is running');
  assert.ok(!first.some((s) => s.done) && !read.done && !later.done, 'nothing resolves before the fsync');
  h.calls[0]!.done(null);
  await h.turn();
  assert.deepEqual(
    first.map((s) => s.value),
    [1, 1, 1],
  );
  assert.equal(read.value, 'row', 'a read returns once what it may see is durable');
  assert.equal(later.done, false);
  assert.equal(h.calls.length, 2, 'the next fsync starts for the later commit');
  h.calls[1]!.done(null);
  await h.turn();
  assert.equal(later.value, 1);
  assert.equal(h.syncCalls.length, 0, 'group commits never fsync in the event loop');
  assert.equal(await h.db.afterDurable('now'), 'now', 'nothing pending: immediate');
});

test('sqlite/wal-sync: relaxed writes skip the fsync, a synchronous write makes everything durable', async (t) => {
  const h = await heldWalSync(t);
  h.db.writeRelaxed(() => h.raw.prepare('INSERT INTO t VALUES (1)').run());
  await h.turn();
  assert.equal(h.calls.length + h.syncCalls.length, 0, 'a relaxed commit has no fsync of its own');
  assert.equal(Number(h.raw.pragma('synchronous', { simple: true })), 1, 'no pragma toggling: NORMAL');
  const pending = h.settled(h.insert(2));
  await h.turn();
  assert.equal(h.calls.length, 1);
  h.db.write(() => h.raw.prepare('INSERT INTO t VALUES (3)').run());
  assert.deepEqual(h.syncCalls, [h.fd], 'write() fsyncs the WAL before it returns');
  await h.turn();
  assert.equal(pending.value, 1, 'and that fsync covers the group commit made before it');
  h.calls[0]!.done(null); // the slower thread-pool fsync returns later: nothing left to settle
  await h.turn();
  assert.equal(h.calls.length, 1);
});

test('fail/sqlite-wal-sync-error-fails-closed', async (t) => {
  const h = await heldWalSync(t);
  const a = h.settled(h.insert(1));
  const b = h.settled(h.insert(1)); // same value: its savepoint fails alone, before any fsync
  await h.turn();
  assert.ok(b.done && b.error instanceof StoreError, 'a constraint failure rejects at once');
  const read = h.settled(h.db.afterDurable('x'));
  h.calls[0]!.done(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
  await h.turn();
  for (const s of [a, read]) {
    assert.ok(s.error instanceof StoreError && s.error.code === 'database', 'the fsync failure rejects');
    assert.match((s.error as Error).message, /fsync/);
  }
  // Nothing written after a failed fsync can be promised durable: the store refuses until restarted.
  assert.throws(
    () => h.db.write(() => h.raw.prepare('INSERT INTO t VALUES (5)').run()),
    (e: unknown) => e instanceof StoreError && e.code === 'database',
  );
  await assert.rejects(h.insert(6), (e: unknown) => e instanceof StoreError && e.code === 'database');
  assert.throws(() => h.db.read(() => 1), /fsync/);
});

test('sqlite/wal-sync: close makes pending commits durable and closes the WAL descriptor after the fsync', async (t) => {
  const h = await heldWalSync(t);
  const a = h.settled(h.insert(1));
  await h.turn();
  assert.equal(h.calls.length, 1);
  h.db.close();
  await h.turn();
  assert.deepEqual(h.syncCalls, [h.fd], 'close fsyncs in place');
  assert.equal(a.value, 1);
  assert.doesNotThrow(() => fstatSync(h.fd), 'kept open while the thread-pool fsync may still use it');
  h.calls[0]!.done(null);
  assert.throws(() => fstatSync(h.fd), /EBADF/);
});

test('sqlite/full-store: NORMAL on the connection, fsync by the store, data survives reopening', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'scepkit-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const filename = join(dir, 'ca.db');
  const clock = new FakeClock();
  const store = new SqliteStore({ filename, synchronous: 'FULL', clock: clock.now });
  await store.migrate();
  const cert = makeCert(clock);
  const issued = await Promise.all([
    store.issue({ certificate: cert, audit: { actor: 'scep', action: 'issue' } }),
    store.issue({ certificate: makeCert(clock), audit: { actor: 'scep', action: 'issue' } }),
  ]);
  assert.equal(issued[0].serial, cert.serial);
  assert.equal((await store.getCertificate(cert.serial))?.serial, cert.serial);
  await store.close();
  const again = new SqliteStore({ filename, synchronous: 'FULL' });
  t.after(() => again.close());
  assert.deepEqual((await again.getCertificate(cert.serial))?.der, cert.der);
  assert.equal((await again.countCertificates({ expiringWithinDays: 0 })).issued, 2);
});
