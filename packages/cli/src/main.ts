#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerEnroll } from './commands/enroll-command.js';
import { registerInit } from './commands/init-command.js';
import { registerServe } from './commands/serve-command.js';
import { registerAdmin } from './commands/admin-commands.js';
import { registerAdminPassword } from './commands/admin-password-command.js';
import { registerDemo, registerStart } from './commands/demo-command.js';
import { CliError } from './errors.js';
import { registerDoctor } from './intune/doctor-command.js';

export const VERSION = '0.1.0';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('scepkit')
    .description('scepkit: a SCEP certificate authority for Intune-managed devices')
    .version(VERSION, '-V, --version')
    .option('-c, --config <file>', 'config file (JSON); default $SCEPKIT_CONFIG or <dataDir>/scepkit.json');
  registerInit(program);
  registerServe(program);
  registerStart(program);
  registerDemo(program);
  registerAdmin(program);
  registerAdminPassword(program);
  registerEnroll(program);
  registerDoctor(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    const msg = e instanceof CliError ? e.message : e instanceof Error ? e.message : String(e);
    process.stderr.write(`scepkit: ${msg}\n`);
    return 1;
  }
}

/** Whether Node.js was started on this file (`node dist/main.js`, or a link to it), not on `bin.cts`. */
function startedOnThisFile(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

// The `scepkit` command is `bin.cts`, which sizes the thread pool first and then calls main().
if (startedOnThisFile()) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
