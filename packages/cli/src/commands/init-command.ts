import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { initDataDir } from '../setup/init.js';
import { dataDirLayout } from '../setup/data-dir.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'create the CA, RA and OCSP signer, encrypted keys, secrets and config in the data directory',
    )
    .action(async () => {
      const { config } = await loadConfig(program.opts()['config']);
      const r = await initDataDir(config);
      const l = dataDirLayout(config.dataDir);
      const fp = createHash('sha256').update(r.caCertificateDer).digest('hex');
      process.stdout.write(
        `${r.created ? 'created' : 'already initialized'}: ${config.dataDir}\n` +
          `CA certificate: ${l.caCert}\nCA SHA-256 fingerprint: ${fp}\n` +
          r.notes.map((n) => `note: ${n}\n`).join(''),
      );
    });
}
