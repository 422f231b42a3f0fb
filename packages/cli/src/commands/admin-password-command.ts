import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { writeSecretFile } from '@scepkit/ca';
import { hashPassword } from '@scepkit/server';
import { loadConfig } from '../config/load-config.js';
import { CliError } from '../errors.js';
import { adminPasswordFile } from '../setup/admin-console.js';

export const MIN_ADMIN_PASSWORD_LENGTH = 12;

/** Reads standard input to its end (a pipe or a file): the first line is the password. */
async function readStdin(input: NodeJS.ReadableStream): Promise<string> {
  let data = '';
  for await (const chunk of input) {
    data += chunk.toString();
    if (data.length > 4096) throw new CliError('usage', 'the password is too long');
  }
  return data.split(/\r?\n/)[0] ?? '';
}

/** Asks on the terminal without echoing. */
function ask(question: string): Promise<string> {
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  process.stderr.write(question);
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve) =>
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    }),
  );
}

/**
 * The new admin console password: SCEPKIT_ADMIN_PASSWORD, else standard input (asked twice, not echoed, on a
 * terminal). Never from the command line (it would show in `ps` and shell history).
 */
export async function readNewPassword(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let password = env['SCEPKIT_ADMIN_PASSWORD'];
  if (password === undefined) {
    if (process.stdin.isTTY) {
      password = await ask('new admin password: ');
      if ((await ask('again: ')) !== password) throw new CliError('usage', 'the passwords differ');
    } else {
      password = await readStdin(process.stdin);
    }
  }
  if (password.length < MIN_ADMIN_PASSWORD_LENGTH) {
    throw new CliError('usage', `the admin password needs at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`);
  }
  return password;
}

/** Hashes the password (scrypt, random salt) into the admin password file (0600, replaced). */
export async function setAdminPassword(file: string, password: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeSecretFile(file, `${await hashPassword(password)}\n`, { overwrite: true });
}

export function registerAdminPassword(program: Command): void {
  program
    .command('admin-password')
    .description(
      'set the admin console password (from SCEPKIT_ADMIN_PASSWORD or standard input); stores its scrypt hash',
    )
    .action(async () => {
      const { config } = await loadConfig(program.opts()['config']);
      const file = adminPasswordFile({ config });
      await setAdminPassword(file, await readNewPassword());
      process.stdout.write(
        `admin password hash written to ${file}\n` +
          (config.admin
            ? 'restart `scepkit serve` to use it; signed-in sessions end with the restart\n'
            : 'add "admin": {} to the config to serve the console under /admin\n'),
      );
    });
}
