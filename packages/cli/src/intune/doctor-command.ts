import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import type { Config } from '../config/schema.js';
import { CliError } from '../errors.js';
import { openIntune } from './client.js';
import { formatDoctor, runDoctor, type DoctorReport } from './doctor.js';

/** Runs the Intune checks of `config` (no CA keys needed) and prints each step. */
export async function doctor(
  config: Config,
  o: { out?: NodeJS.WritableStream; env?: NodeJS.ProcessEnv } = {},
): Promise<DoctorReport> {
  if (!config.intune) throw new CliError('config', 'doctor: the config has no "intune" section');
  const intune = await openIntune(config.intune, o.env ?? process.env);
  try {
    const report = await runDoctor(intune.client, intune.validator);
    (o.out ?? process.stdout).write(`${formatDoctor(report)}\n`);
    return report;
  } finally {
    await intune.close();
  }
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the Intune integration: Entra token, Graph permission, discovery, live validateRequest',
    )
    .action(async () => {
      const { config } = await loadConfig(program.opts()['config']);
      const report = await doctor(config);
      if (!report.ok) throw new CliError('config', 'the Intune integration is not working (see above)');
    });
}
