import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/**
 * The thread of `WalCheckpointer`: its own connection to the database, which copies the WAL's frames into the
 * database file (a PASSIVE checkpoint: it never waits for, nor blocks, the writer) each time it is asked to.
 */
const port = parentPort;
if (!port) throw new Error('wal-checkpointer-thread runs as a worker thread');
const { filename } = workerData as { filename: string };
const db = new Database(filename, { fileMustExist: true });
// NORMAL: the WAL is synced before its frames are copied, the database file after, as SQLite's own checkpoints do.
db.pragma('synchronous = NORMAL');
port.on('message', (m: 'checkpoint' | 'close') => {
  if (m === 'close') {
    db.close();
    port.close(); // nothing left: the thread exits
    return;
  }
  let backfilled = -1;
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { checkpointed: number }[];
    backfilled = row?.checkpointed ?? -1;
  } catch {
    // SQLITE_BUSY or an I/O error: the writer's own checkpoints still run; the next request tries again
  }
  port.postMessage(backfilled);
});
