import { readFile } from 'node:fs/promises';
import {
  IntuneClient,
  IntuneConfigurationError,
  IntuneRevocationClient,
  IntuneScepValidator,
  type IntuneClientOptions,
  type IntuneLogger,
} from '@scepkit/intune';
import type { IntuneConfig } from '../config/schema.js';
import { CliError } from '../errors.js';
import { readSecretFile } from '../setup/secrets.js';

/** The Intune side of a process: ONE client (tokens and discovery cached) shared by validator and revocation. */
export interface IntuneServices {
  client: IntuneClient;
  validator: IntuneScepValidator;
  revocation: IntuneRevocationClient;
  close(): Promise<void>;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new CliError('config', `cannot read the ${what} ${path}: ${(e as Error).message}`);
  }
}

/**
 * Builds the client options from the `intune` config: the secret from `SCEPKIT_INTUNE_CLIENT_SECRET` or
 * `clientSecretFile`, else the certificate + key files; endpoints overridable; `tlsCaFile` trusted for HTTPS.
 */
export async function intuneClientOptions(
  c: IntuneConfig,
  env: NodeJS.ProcessEnv,
  logger?: IntuneLogger,
): Promise<IntuneClientOptions> {
  const o: IntuneClientOptions = {
    tenant: c.tenant,
    clientId: c.clientId,
    providerNameAndVersion: c.providerNameAndVersion,
    ...(c.authority ? { authorityHost: c.authority } : {}),
    ...(c.graphUrl ? { graphResourceUrl: c.graphUrl } : {}),
    ...(c.intuneResourceUrl ? { intuneResourceUrl: c.intuneResourceUrl } : {}),
    ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}),
    ...(c.tlsCaFile ? { ca: await readText(c.tlsCaFile, 'intune.tlsCaFile') } : {}),
    ...(logger ? { logger } : {}),
  };
  const envSecret = env['SCEPKIT_INTUNE_CLIENT_SECRET'];
  if (envSecret) o.clientSecret = envSecret;
  else if (c.clientSecretFile)
    o.clientSecret = await readSecretFile(c.clientSecretFile, 'Intune client secret');
  else if (c.certificateFile && c.privateKeyFile) {
    o.clientCertificate = {
      certificatePem: await readText(c.certificateFile, 'intune.certificateFile'),
      privateKeyPem: await readText(c.privateKeyFile, 'intune.privateKeyFile'),
    };
  } else {
    throw new CliError(
      'config',
      'intune: set SCEPKIT_INTUNE_CLIENT_SECRET, intune.clientSecretFile, or intune.certificateFile + privateKeyFile',
    );
  }
  return o;
}

export async function openIntune(
  c: IntuneConfig,
  env: NodeJS.ProcessEnv,
  logger?: IntuneLogger,
): Promise<IntuneServices> {
  let client: IntuneClient;
  try {
    client = new IntuneClient(await intuneClientOptions(c, env, logger));
  } catch (e) {
    if (e instanceof IntuneConfigurationError) throw new CliError('config', `intune: ${e.message}`);
    throw e;
  }
  return {
    client,
    validator: new IntuneScepValidator(client),
    revocation: new IntuneRevocationClient(client),
    close: () => client.close(),
  };
}
