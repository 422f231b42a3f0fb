/*
 * A PostgreSQL cluster of the test's own (Debian's `initdb`/`pg_ctl`, data in a temporary directory, listening on
 * 127.0.0.1 and a free port), so a test can really stop, crash and restart the database without touching the
 * cluster other tests share. As root the cluster runs as the `postgres` user (PostgreSQL refuses root).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../support/tools.js';

const PG_ROOT = '/usr/lib/postgresql';

/** The newest installed server's bin directory, or undefined. */
function binDir(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(a) - Number(b));
  const v = versions.at(-1);
  return v ? join(PG_ROOT, v, 'bin') : undefined;
}

/** Why the test cannot run here (locally), or undefined; in CI a missing server is an error. */
export function requirePrivatePostgres(): string | undefined {
  if (binDir()) return undefined;
  const why = 'no PostgreSQL server binaries in /usr/lib/postgresql (apt-get install postgresql)';
  if (process.env['CI']) throw new Error(why);
  return why;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class PrivatePostgres {
  readonly #bin: string;
  readonly #dir: string;
  readonly #data: string;
  readonly #asPostgres: boolean;
  #port = 0;

  private constructor(bin: string, dir: string) {
    this.#bin = bin;
    this.#dir = dir;
    this.#data = join(dir, 'data');
    this.#asPostgres = process.getuid?.() === 0;
  }

  /** initdb (superuser `scepkit`, trust authentication on loopback) and start. */
  static async create(): Promise<PrivatePostgres> {
    const bin = binDir();
    if (!bin) throw new Error('no PostgreSQL server binaries');
    const pg = new PrivatePostgres(bin, tempDir('pg-private'));
    if (pg.#asPostgres) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(pg.#dir, uid, gid);
    }
    pg.#run('initdb', ['-D', pg.#data, '-U', 'scepkit', '--auth=trust', '-E', 'UTF8']);
    pg.#port = await freePort();
    pg.start();
    return pg;
  }

  get url(): string {
    return `postgres://scepkit@127.0.0.1:${this.#port}/postgres`;
  }

  start(): void {
    const opts = `-p ${this.#port} -c listen_addresses=127.0.0.1 -k ${this.#dir} -c fsync=on`;
    this.#run('pg_ctl', [
      '-D',
      this.#data,
      '-l',
      join(this.#dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      opts,
      'start',
    ]);
  }

  /** `immediate`: the server processes are killed without a checkpoint, like a crash (WAL replay on start). */
  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    this.#run('pg_ctl', ['-D', this.#data, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /** The server's log (for a failing test's message). */
  log(): string {
    try {
      return readFileSync(join(this.#dir, 'server.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async close(): Promise<void> {
    try {
      this.stop('fast');
    } catch {
      // already stopped
    }
  }

  #run(program: string, args: string[]): void {
    const exe = join(this.#bin, program);
    const [cmd, argv] = this.#asPostgres ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
    execFileSync(cmd as string, argv as string[], { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.#dir });
  }
}
