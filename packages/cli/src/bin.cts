#!/usr/bin/env node
/**
 * The `scepkit` command. It only sizes libuv's thread pool (see `thread-pool.cts`) and then loads the CLI: the
 * size must be in the environment before the first module is imported, because the ESM loader starts the pool.
 */
import { availableParallelism } from 'node:os';
import { chooseThreadPoolSize } from './thread-pool.cjs';

const chosen = chooseThreadPoolSize(process.env, availableParallelism());
import('./main.js').then(
  async ({ main }) => {
    // The pool has started with that size. Unset it again, so that processes this one starts (the workers of
    // `serve --workers`) choose their own share instead of inheriting this one's.
    if (chosen) delete process.env.UV_THREADPOOL_SIZE;
    process.exitCode = await main(process.argv);
  },
  (err: unknown) => {
    process.stderr.write(`scepkit: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
