import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { initDataDir } from '../setup/init.js';
import type { CaImport } from '../setup/init.js';
import { readFile } from 'node:fs/promises';
import { CliError } from '../errors.js';
import { dataDirLayout } from '../setup/data-dir.js';

/** A key file as PEM text, or its DER bytes. */
function pemOrDer(b: Buffer): string | Uint8Array {
  return b.includes('-----BEGIN') ? b.toString('utf8') : new Uint8Array(b);
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'create the CA, RA and OCSP signer, encrypted keys, secrets and config in the data directory',
    )
    .option(
      '--import-cert <file>',
      'run an existing CA: its certificate (PEM; further certificates = its chain)',
    )
    .option(
      '--import-key <file>',
      'the key of that CA (PEM or DER PKCS#8; passphrase in SCEPKIT_IMPORT_PASSPHRASE)',
    )
    .option('--import-chain <file>', 'its issuer certificates up to the root (PEM bundle)')
    .option(
      '--import-p12 <file>',
      'run an existing CA from a PKCS#12 file (password in SCEPKIT_IMPORT_PASSPHRASE)',
    )
    .action(
      async (o: { importCert?: string; importKey?: string; importChain?: string; importP12?: string }) => {
        const { config } = await loadConfig(program.opts()['config']);
        const passphrase = process.env['SCEPKIT_IMPORT_PASSPHRASE'];
        let from: CaImport | undefined;
        if (o.importP12) {
          if (!passphrase) throw new CliError('usage', '--import-p12 needs SCEPKIT_IMPORT_PASSPHRASE');
          from = { kind: 'pkcs12', data: new Uint8Array(await readFile(o.importP12)), password: passphrase };
        } else if (o.importCert || o.importKey) {
          if (!o.importCert || !o.importKey)
            throw new CliError('usage', '--import-cert and --import-key go together');
          from = {
            kind: 'pem',
            certificate: await readFile(o.importCert, 'utf8'),
            key: pemOrDer(await readFile(o.importKey)),
            ...(o.importChain ? { chain: await readFile(o.importChain, 'utf8') } : {}),
            ...(passphrase ? { passphrase } : {}),
          };
        }
        const r = await initDataDir(config, process.env, from);
        const l = dataDirLayout(config.dataDir);
        const fp = createHash('sha256').update(r.caCertificateDer).digest('hex');
        process.stdout.write(
          `${r.created ? 'created' : 'already initialized'}: ${config.dataDir}\n` +
            `CA certificate: ${l.caCert}\nCA SHA-256 fingerprint: ${fp}\n` +
            r.notes.map((n) => `note: ${n}\n`).join(''),
        );
      },
    );
}
