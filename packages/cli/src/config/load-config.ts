import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigSchema } from './schema.js';
import type { Config } from './schema.js';
import { CliError } from '../errors.js';

/** Environment variables that override the config file (the CLI is the only reader of process.env). */
export const ENV_OVERRIDES: ReadonlyArray<{
  env: string;
  path: string[];
  type: 'string' | 'number' | 'boolean';
}> = [
  { env: 'SCEPKIT_DATA_DIR', path: ['dataDir'], type: 'string' },
  { env: 'SCEPKIT_HOST', path: ['server', 'host'], type: 'string' },
  { env: 'SCEPKIT_PORT', path: ['server', 'port'], type: 'number' },
  { env: 'SCEPKIT_WORKERS', path: ['server', 'workers'], type: 'number' },
  { env: 'SCEPKIT_PUBLIC_URL', path: ['server', 'publicUrl'], type: 'string' },
  { env: 'SCEPKIT_TLS', path: ['server', 'tls', 'enabled'], type: 'boolean' },
  { env: 'SCEPKIT_TLS_CERT_FILE', path: ['server', 'tls', 'certFile'], type: 'string' },
  { env: 'SCEPKIT_TLS_KEY_FILE', path: ['server', 'tls', 'keyFile'], type: 'string' },
  { env: 'SCEPKIT_CA_KEY_TYPE', path: ['ca', 'keyType'], type: 'string' },
  { env: 'SCEPKIT_CA_COMMON_NAME', path: ['ca', 'commonName'], type: 'string' },
  { env: 'SCEPKIT_CA_PASSPHRASE_FILE', path: ['ca', 'passphraseFile'], type: 'string' },
  { env: 'SCEPKIT_LOG_LEVEL', path: ['log', 'level'], type: 'string' },
  { env: 'SCEPKIT_INTUNE_TENANT', path: ['intune', 'tenant'], type: 'string' },
  { env: 'SCEPKIT_INTUNE_CLIENT_ID', path: ['intune', 'clientId'], type: 'string' },
  { env: 'SCEPKIT_INTUNE_CLIENT_SECRET_FILE', path: ['intune', 'clientSecretFile'], type: 'string' },
];

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

function envValue(name: string, raw: string, type: 'string' | 'number' | 'boolean'): unknown {
  if (type === 'string') return raw;
  if (type === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new CliError('config', `${name}: expected a number, got "${raw}"`);
    return n;
  }
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new CliError('config', `${name}: expected true or false, got "${raw}"`);
}

/** Validates a raw config object; errors name the bad key (e.g. `server.port`). */
export function parseConfig(raw: unknown, source = 'config'): Config {
  const r = ConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`);
  throw new CliError('config', `${source} is invalid:\n${lines.join('\n')}`);
}

/**
 * Reads the config file (JSON; missing is fine when not named explicitly), applies SCEPKIT_* overrides, validates,
 * and resolves dataDir to an absolute path.
 */
export async function loadConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ config: Config; file: string | undefined }> {
  const dataDirGuess = env['SCEPKIT_DATA_DIR'] ?? './data';
  const path = file ?? env['SCEPKIT_CONFIG'] ?? resolve(dataDirGuess, 'scepkit.json');
  let raw: Record<string, unknown> = {};
  let used: string | undefined;
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    used = path;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !file && !env['SCEPKIT_CONFIG']) raw = {};
    else if (e instanceof SyntaxError) throw new CliError('config', `${path}: not valid JSON: ${e.message}`);
    else throw new CliError('config', `cannot read ${path}: ${(e as Error).message}`);
  }
  for (const o of ENV_OVERRIDES) {
    const v = env[o.env];
    if (v !== undefined && v !== '') setPath(raw, o.path, envValue(o.env, v, o.type));
  }
  if (env['SCEPKIT_POSTGRES_URL']) raw['store'] = { type: 'postgres', url: env['SCEPKIT_POSTGRES_URL'] };
  const fromFile = used !== undefined && typeof raw['dataDir'] === 'string' && !env['SCEPKIT_DATA_DIR'];
  const config = parseConfig(raw, used ?? 'configuration');
  // A dataDir written in a config file is relative to that file; otherwise to the working directory.
  config.dataDir = fromFile && used ? resolve(dirname(used), config.dataDir) : resolve(config.dataDir);
  return { config, file: used };
}
