import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from test/dist/...). */
export const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
/** The built scepkit command (what `npm install` links as `scepkit`). */
export const SCEPKIT = join(REPO, 'packages/cli/dist/bin.cjs');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `scepkit-${prefix}-`));
}

/** Is a program on PATH (or at an absolute path)? */
export function have(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

/**
 * In CI every interop tool must be present (.ci/run installs them): a missing one fails the test instead of skipping.
 * Locally, a missing tool skips with the reason.
 */
export function requireTools(...programs: string[]): string | undefined {
  const missing = programs.filter((p) => !have(p));
  if (missing.length === 0) return undefined;
  const why = `missing ${missing.join(', ')} (apt-get install scep certmonger openssl)`;
  if (process.env['CI']) throw new Error(why);
  return why;
}

export function openssl(args: string[], input?: Uint8Array): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program without blocking the event loop (servers started by the test keep being read). */
export function run(
  program: string,
  args: string[],
  o: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(program, args, {
      env: { ...process.env, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
