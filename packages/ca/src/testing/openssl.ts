// Test helpers (not exported from the package): run the openssl CLI on temp files.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toPem } from '../bytes.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: env ?? process.env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export function openssl(args: string[]): Promise<RunResult> {
  return run('openssl', args);
}

/** A temp directory with helpers to drop files in it. */
export class TempDir {
  private constructor(readonly path: string) {}

  static async create(prefix = 'scepkit-ca-'): Promise<TempDir> {
    return new TempDir(await mkdtemp(join(tmpdir(), prefix)));
  }

  async file(name: string, content: string | Uint8Array): Promise<string> {
    const p = join(this.path, name);
    await writeFile(p, content);
    return p;
  }

  /** Write certificates as one PEM bundle. */
  certs(name: string, ders: readonly Uint8Array[]): Promise<string> {
    return this.file(name, ders.map((d) => toPem('CERTIFICATE', d)).join(''));
  }

  join(name: string): string {
    return join(this.path, name);
  }

  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }
}

/** `openssl verify -CAfile root [-untrusted chain] leaf`: resolves to stdout+stderr, asserts via code. */
export async function opensslVerify(
  dir: TempDir,
  leaf: Uint8Array,
  root: Uint8Array,
  intermediates: readonly Uint8Array[] = [],
  extra: string[] = [],
): Promise<RunResult> {
  const rootPath = await dir.certs('verify-root.pem', [root]);
  const leafPath = await dir.certs('verify-leaf.pem', [leaf]);
  const args = ['verify', '-CAfile', rootPath, ...extra];
  if (intermediates.length > 0) args.push('-untrusted', await dir.certs('verify-chain.pem', intermediates));
  args.push(leafPath);
  return openssl(args);
}
