/**
 * The size of libuv's thread pool for one scepkit process, chosen before anything starts the pool.
 *
 * scepkit signs (RSA, ECDSA) and fsyncs on libuv's thread pool. Node.js sizes it from UV_THREADPOOL_SIZE once,
 * when the pool first starts, and 4 threads otherwise. Four is wrong both ways: on 2 cores it makes up to five
 * runnable threads (the pool's four and the event loop) that preempt each other, and on more than 4 cores it
 * caps one process's signing at 4 of them. The pool gets this process's share of the cores instead: all of them,
 * or `cores / workers` (rounded up) for each of `serve --workers` (BENCHMARKS.md: measured on 2 cores).
 *
 * CommonJS, like `bin.cts`, so that it is loaded without the ESM loader, which reads modules on the pool.
 */

/** The pool's size for one of `workers` processes sharing `cores`: at least 1. */
export function threadPoolSize(cores: number, workers: number): number {
  const c = Number.isInteger(cores) && cores > 0 ? cores : 1;
  const w = Number.isInteger(workers) && workers > 0 ? workers : 1;
  return Math.ceil(c / w);
}

/**
 * Sets `env.UV_THREADPOOL_SIZE` to this process's share of `cores` unless it is set already (an operator's
 * choice wins). A `serve --workers` worker finds its count in SCEPKIT_WORKER_COUNT. Returns whether it set it.
 */
export function chooseThreadPoolSize(env: NodeJS.ProcessEnv, cores: number): boolean {
  if (env.UV_THREADPOOL_SIZE) return false;
  env.UV_THREADPOOL_SIZE = String(threadPoolSize(cores, Number(env.SCEPKIT_WORKER_COUNT ?? 1)));
  return true;
}
