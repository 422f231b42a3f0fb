import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  createRootCa,
  importCa,
  importPkcs12,
  issueOcspSignerCertificate,
  issueRaCertificate,
  writePrivateKeyFile,
} from '@scepkit/ca';
import type { KeySpec } from '@scepkit/ca';
import type { Config } from '../config/schema.js';
import { CliError } from '../errors.js';
import { toPem } from '../pem.js';
import { dataDirLayout } from './data-dir.js';
import { resolveSecret } from './secrets.js';

export const KEY_SPECS: Record<Config['ca']['keyType'], KeySpec> = {
  'rsa-2048': { type: 'rsa', bits: 2048 },
  'rsa-3072': { type: 'rsa', bits: 3072 },
  'rsa-4096': { type: 'rsa', bits: 4096 },
  'ec-p256': { type: 'ec', curve: 'P-256' },
  'ec-p384': { type: 'ec', curve: 'P-384' },
};

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The key passphrase: SCEPKIT_CA_PASSPHRASE, else `ca.passphraseFile`, else a generated file in the data dir. */
export function keyPassphrase(config: Config, env: NodeJS.ProcessEnv, generate: boolean) {
  return resolveSecret({
    what: 'key passphrase',
    envValue: env['SCEPKIT_CA_PASSPHRASE'],
    file: config.ca.passphraseFile,
    generatedFile: dataDirLayout(config.dataDir).passphrase,
    generate,
  });
}

/** An existing CA to run as a subordinate instead of generating a root (`scepkit init --import-*`). */
export type CaImport =
  | { kind: 'pem'; certificate: string; key: string | Uint8Array; chain?: string; passphrase?: string }
  | { kind: 'pkcs12'; data: Uint8Array; password: string };

export interface InitResult {
  created: boolean;
  caCertificateDer: Uint8Array;
  notes: string[];
}

/**
 * `scepkit init`: creates the data directory, a root CA (or keeps the existing one), the RA and OCSP signer
 * certificates, encrypted keys (0600), the generated secrets, and a config file when there is none.
 */
export async function initDataDir(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
  importFrom?: CaImport,
): Promise<InitResult> {
  const l = dataDirLayout(config.dataDir);
  const notes: string[] = [];
  for (const d of [l.root, dirname(l.caCert), dirname(l.passphrase)])
    await mkdir(d, { recursive: true, mode: 0o700 });
  if (await exists(l.caCert)) {
    const pem = await readFile(l.caCert, 'utf8');
    const b64 = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END/.exec(pem)?.[1] ?? '';
    return { created: false, caCertificateDer: new Uint8Array(Buffer.from(b64, 'base64')), notes };
  }
  const passphrase = await keyPassphrase(config, env, true);
  if (passphrase.source.endsWith('(generated)')) {
    notes.push(
      `keys are encrypted with a generated passphrase in ${l.passphrase}; for production, set SCEPKIT_CA_PASSPHRASE ` +
        'or ca.passphraseFile and remove that file',
    );
  }
  const protection = { passphrase: passphrase.value };
  const subject = `CN=${config.ca.commonName}${config.ca.organization ? `, O=${config.ca.organization}` : ''}`;
  const ca = importFrom
    ? await importExisting(importFrom)
    : await createRootCa({
        subject,
        key: KEY_SPECS[config.ca.keyType],
        validityDays: config.ca.validityDays,
        singleCaMode: !config.ca.ra,
      });
  await writePrivateKeyFile(l.caKey, ca.privateKey, protection);
  await writeFile(l.caCert, toPem('CERTIFICATE', ca.certificateDer));
  const parents = ca.identity.chain.slice(1);
  if (parents.length > 0) {
    await writeFile(l.caChain, parents.map((c) => toPem('CERTIFICATE', c)).join(''));
    notes.push(`imported a subordinate CA with ${parents.length} issuer certificate(s) up to its root`);
  }
  if (config.ca.ra) {
    const ra = await issueRaCertificate(ca.identity, {
      subject: `CN=${config.ca.commonName} SCEP RA${config.ca.organization ? `, O=${config.ca.organization}` : ''}`,
    });
    await writePrivateKeyFile(l.raKey, ra.privateKey, protection);
    await writeFile(l.raCert, toPem('CERTIFICATE', ra.certificateDer));
  }
  const ocsp = await issueOcspSignerCertificate(ca.identity, {
    subject: `CN=${config.ca.commonName} OCSP Responder${config.ca.organization ? `, O=${config.ca.organization}` : ''}`,
  });
  await writePrivateKeyFile(l.ocspKey, ocsp.privateKey, protection);
  await writeFile(l.ocspCert, toPem('CERTIFICATE', ocsp.certificateDer));
  if (config.endpoints.some((e) => e.challenge.type === 'static') && !env['SCEPKIT_STATIC_CHALLENGE']) {
    const ch = await resolveSecret({
      what: 'static challenge',
      envValue: undefined,
      file: undefined,
      generatedFile: l.staticChallenge,
      generate: true,
    });
    notes.push(`static challenge password: in ${ch.source.replace(' (generated)', '')}`);
  }
  if (!(await exists(l.config))) {
    await writeFile(l.config, JSON.stringify({ ...config, dataDir: '.' }, null, 2) + '\n', { mode: 0o600 });
    notes.push(`configuration written to ${l.config}`);
  }
  return { created: true, caCertificateDer: ca.certificateDer, notes };
}

async function importExisting(i: CaImport) {
  const imported =
    i.kind === 'pkcs12'
      ? await importPkcs12(i.data, i.password)
      : importCa({
          certificate: i.certificate,
          key: i.key,
          ...(i.chain ? { chain: i.chain } : {}),
          ...(i.passphrase ? { passphrase: i.passphrase } : {}),
        });
  return { ...imported, certificateDer: imported.identity.certificateDer };
}

export function assertInitialized(config: Config): Promise<void> {
  return stat(dataDirLayout(config.dataDir).caCert).then(
    () => undefined,
    () => {
      throw new CliError('config', `no CA in ${config.dataDir}: run \`scepkit init\` first`);
    },
  );
}
