import { Worker } from 'node:worker_threads';

/** WAL frames after which the writer's connection checkpoints by itself (SQLite's default is 1,000). */
export const WRITER_AUTOCHECKPOINT = 4000;

/**
 * Checkpoints a WAL database from a thread of its own, so that copying the WAL into the database file and the
 * fsync of that file run on the other core instead of inside a commit on the event loop. SQLite's automatic
 * checkpoint (every 1,000 frames, ~40 enrollments) stopped the event loop for 3–10 ms each time.
 *
 * Every `every` commits the thread is asked for a PASSIVE checkpoint (none is asked while one runs). The writer's
 * connection keeps its own automatic checkpoint, raised to `WRITER_AUTOCHECKPOINT` frames: under steady writes the
 * thread's checkpoint never catches the last commit, and only a checkpoint by the writer lets the WAL restart from
 * its beginning; by then it has only the last few frames to copy. If the thread fails, the writer's automatic
 * checkpoint goes back to SQLite's default and nothing else changes: checkpoints are not part of durability (a
 * commit is durable once its WAL frames are synced).
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #every: number;
  readonly #onFailure: () => void;
  #since = 0;
  #running = false;
  #failed = false;
  #closing = false;
  readonly #exited: Promise<void>;
  /** Checkpoints the thread ran, and the WAL frames in the database file after its last one (tests, diagnostics). */
  completed = 0;
  backfilled = 0;

  constructor(filename: string, options: { every?: number; onFailure: () => void }) {
    this.#every = options.every ?? 64;
    this.#onFailure = options.onFailure;
    this.#worker = new Worker(new URL('./wal-checkpointer-thread.js', import.meta.url), {
      workerData: { filename },
    });
    this.#worker.unref();
    this.#worker.on('message', (backfilled: number) => {
      this.#running = false;
      this.completed++;
      if (backfilled >= 0) this.backfilled = backfilled;
    });
    this.#worker.on('error', () => this.#fail());
    this.#exited = new Promise<void>((resolve) =>
      this.#worker.once('exit', () => {
        this.#fail();
        resolve();
      }),
    );
  }

  /** Counts a commit; every `every` commits, asks the thread for a checkpoint unless one is running. */
  committed(): void {
    if (++this.#since < this.#every || this.#running || this.#failed) return;
    this.#since = 0;
    this.#running = true;
    this.#worker.postMessage('checkpoint');
  }

  /**
   * Closes the thread's connection (after the checkpoint it may be running) and waits for the thread to end; one
   * that does not end within `timeoutMs` is terminated (a checkpoint cut short is harmless to SQLite).
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#worker.postMessage('close');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
    });
    if ((await Promise.race([this.#exited, late])) === 'late') await this.#worker.terminate();
    clearTimeout(timer);
  }

  #fail(): void {
    if (this.#failed || this.#closing) return;
    this.#failed = true;
    this.#onFailure();
  }
}
