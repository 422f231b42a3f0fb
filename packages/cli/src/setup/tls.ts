import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { issueTlsServerCertificate, writePrivateKeyFile } from '@scepkit/ca';
import type { Config } from '../config/schema.js';
import { CliError } from '../errors.js';
import { toPem } from '../pem.js';
import { dataDirLayout } from './data-dir.js';
import { keyPassphrase } from './init.js';
import type { Runtime } from './runtime.js';

/**
 * HTTPS material: the operator's certificate and key when configured, else a server certificate issued once by this
 * CA for the listen host, localhost, 127.0.0.1 and the public URL's host (key encrypted with the key passphrase).
 */
export async function tlsMaterial(
  config: Config,
  rt: Pick<Runtime, 'ca'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ cert: Buffer; key: Buffer; passphrase?: string }> {
  const t = config.server.tls;
  if (t.certFile || t.keyFile) {
    if (!t.certFile || !t.keyFile)
      throw new CliError('config', 'server.tls: certFile and keyFile go together');
    return { cert: await readFile(t.certFile), key: await readFile(t.keyFile) };
  }
  const l = dataDirLayout(config.dataDir);
  const { value: passphrase } = await keyPassphrase(config, env, false);
  const exists = await stat(l.tlsCert).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const hosts = [...new Set([config.server.host, 'localhost', '127.0.0.1'])].filter((h) => h !== '0.0.0.0');
    if (config.server.publicUrl) hosts.unshift(new URL(config.server.publicUrl).hostname);
    const issued = await issueTlsServerCertificate(rt.ca, { hosts: [...new Set(hosts)] });
    await mkdir(dirname(l.tlsCert), { recursive: true, mode: 0o700 });
    await writePrivateKeyFile(l.tlsKey, issued.privateKey, { passphrase });
    await writeFile(
      l.tlsCert,
      toPem('CERTIFICATE', issued.certificateDer) + toPem('CERTIFICATE', rt.ca.certificateDer),
    );
  }
  return { cert: await readFile(l.tlsCert), key: await readFile(l.tlsKey), passphrase };
}
