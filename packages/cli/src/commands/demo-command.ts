import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { runDemo, startEmulator } from '@scepkit/intune-emulator';
import type { RunningEmulator } from '@scepkit/intune-emulator';
import { loadConfig, parseConfig } from '../config/load-config.js';
import type { Config } from '../config/schema.js';
import { CliError } from '../errors.js';
import { serve } from './serve-command.js';
import { initDataDir } from '../setup/init.js';

/** The Intune endpoint added when scepkit runs beside the emulator. */
export const EMULATOR_ENDPOINT = '/scep/intune';

/**
 * Starts the Intune emulator (seeded tenant, app, users, devices of each platform, SCEP profiles) and returns the
 * config with an Intune section and an `/scep/intune` endpoint wired to it, plus the client secret to pass as env.
 */
export async function withEmulator(
  config: Config,
  port = 0,
): Promise<{ config: Config; emulator: RunningEmulator; env: NodeJS.ProcessEnv }> {
  const emulator = await startEmulator({ port });
  const dir = join(config.dataDir, 'emulator');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tlsCaFile = join(dir, 'emulator-tls.pem');
  await writeFile(tlsCaFile, emulator.tlsCaPem);
  const endpoints = config.endpoints.some((e) => e.path === EMULATOR_ENDPOINT)
    ? config.endpoints
    : [
        ...config.endpoints,
        { path: EMULATOR_ENDPOINT, profile: 'default', challenge: { type: 'intune' as const } },
      ];
  const wired = parseConfig({
    ...config,
    endpoints,
    intune: {
      tenant: emulator.tenantDomain,
      clientId: emulator.clientId,
      authority: `${emulator.url}/`,
      graphUrl: `${emulator.url}/`,
      tlsCaFile,
      revocationIntervalSeconds: 30,
    },
  });
  wired.dataDir = config.dataDir;
  return {
    config: wired,
    emulator,
    env: { ...process.env, SCEPKIT_INTUNE_CLIENT_SECRET: emulator.clientSecret },
  };
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'run the Intune flow offline: the emulator, scepkit, and a Windows, an iOS, a macOS and an Android device ' +
        'enrolling through check-in, validation, issuance and notification',
    )
    .option('--data-dir <dir>', 'data directory for the demo CA (default: a new temporary one)')
    .action(async (o: { dataDir?: string }) => {
      const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'scepkit-demo-')));
      const base = parseConfig({
        dataDir,
        server: { port: 0 },
        ca: { keyType: 'rsa-2048', commonName: 'scepkit demo CA' },
        log: { level: 'warn' },
        endpoints: [{ path: '/scep', challenge: { type: 'static' } }],
      });
      base.dataDir = dataDir;
      const { config, emulator, env } = await withEmulator(base);
      const quiet = { write: () => true } as unknown as NodeJS.WritableStream;
      const s = await serve(config, { init: true, out: quiet, env });
      try {
        process.stdout.write(`Intune emulator: ${emulator.url} (tenant ${emulator.tenantDomain})\n`);
        process.stdout.write(`scepkit: ${s.url}${EMULATOR_ENDPOINT} (data in ${dataDir})\n\n`);
        const results = await runDemo({
          emulator: emulator.emulator,
          scepUrl: `${s.url}${EMULATOR_ENDPOINT}`,
          out: process.stdout,
          trustCaPem: await readFile(join(dataDir, 'ca', 'ca.cert.pem'), 'utf8'),
        });
        const failed = results.filter((r) => !r.ok);
        process.stdout.write(`\n${results.length - failed.length} of ${results.length} devices enrolled\n`);
        if (failed.length > 0)
          throw new CliError('enroll', `${failed.map((f) => f.platform).join(', ')} failed`);
      } finally {
        await s.close();
        await emulator.stop();
      }
    });
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'serve on embedded defaults (what `npm start` runs): create the CA on first run and, when no Intune tenant is ' +
        'configured, start the Intune emulator beside the server and wire /scep/intune to it',
    )
    .action(async () => {
      const loaded = (await loadConfig(program.opts()['config'])).config;
      // Create the data directory (and write the config file) from the config as given, before wiring the
      // emulator in: the emulator's ephemeral URL must never be saved as the tenant.
      const init = await initDataDir(loaded);
      if (init.created) {
        process.stdout.write(`created a new CA in ${loaded.dataDir}\n`);
        for (const n of init.notes) process.stdout.write(`note: ${n}\n`);
      }
      let config = loaded;
      let env: NodeJS.ProcessEnv = process.env;
      let emulator: RunningEmulator | undefined;
      if (!loaded.intune) {
        ({ config, emulator, env } = await withEmulator(loaded));
      }
      const s = await serve(config, { env });
      if (emulator) {
        process.stdout.write(
          [
            `Intune emulator (no tenant configured): ${emulator.url}, tenant ${emulator.tenantDomain}`,
            `  Intune SCEP endpoint: ${s.url}${EMULATOR_ENDPOINT} (validates challenges with the emulator)`,
            '  watch simulated Windows, iOS, macOS and Android devices enroll through the nine steps:',
            '    npx scepkit demo',
            '  to use a real tenant, add an "intune" section to the config (see docs/configuration.md)',
            '',
          ].join('\n'),
        );
      }
      const stop = () => {
        Promise.all([s.close(), emulator?.stop()]).then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
