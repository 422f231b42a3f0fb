import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeSecretFile } from '@scepkit/ca';
import { CliError } from '../errors.js';

/** Reads a one-line secret file (trailing newline dropped). */
export async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    const v = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    if (!v) throw new CliError('config', `${what} file ${path} is empty`);
    return v;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError('config', `cannot read the ${what} file ${path}: ${(e as Error).message}`);
  }
}

/**
 * A secret from, in order: an environment variable, a configured file, or a generated file (0600) in the data
 * directory. Secrets never come from the command line (they would show in `ps`).
 */
export async function resolveSecret(o: {
  what: string;
  envValue: string | undefined;
  file: string | undefined;
  generatedFile: string;
  generate: boolean;
}): Promise<{ value: string; source: string }> {
  if (o.envValue) return { value: o.envValue, source: 'environment' };
  if (o.file) return { value: await readSecretFile(o.file, o.what), source: o.file };
  try {
    return { value: await readSecretFile(o.generatedFile, o.what), source: o.generatedFile };
  } catch (e) {
    if (!o.generate) throw e;
  }
  // Hex keeps it inside PrintableString (a SCEP challengePassword) and shell-safe.
  const value = randomBytes(16).toString('hex');
  await writeSecretFile(o.generatedFile, `${value}\n`);
  return { value, source: `${o.generatedFile} (generated)` };
}
