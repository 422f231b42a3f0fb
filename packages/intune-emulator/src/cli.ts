#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startEmulator } from './server.js';

/**
 * `scepkit-intune-emulator [--port N] [--scep-url URL] [--tenant NAME]`: starts a seeded emulator on
 * 127.0.0.1 and prints what a SCEP server's Intune config needs. The client secret is printed once.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8444' },
      'scep-url': { type: 'string', default: 'https://127.0.0.1:8443/scep' },
      tenant: { type: 'string', default: 'contoso' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: scepkit-intune-emulator [--port 8444] [--scep-url URL] [--tenant contoso]\n',
    );
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port: not a port: ${values.port}`);
  const emu = await startEmulator({
    port,
    seed: { tenantName: values.tenant, scepServerUrl: values['scep-url'] },
  });
  const seed = emu.seed;
  if (!seed) throw new Error('seed missing');
  const out = {
    url: emu.url,
    adminApi: `${emu.url}/admin/state`,
    intuneConfig: {
      tenant: seed.tenant.domain,
      tenantId: seed.tenant.id,
      clientId: seed.app.clientId,
      clientSecret: seed.clientSecret,
      authorityHost: `${emu.url}/`,
      graphResourceUrl: `${emu.url}/`,
      knownAuthorities: [new URL(emu.url).host],
    },
    devices: Object.fromEntries(Object.entries(seed.devices).map(([p, d]) => [p, d.id])),
    profiles: {
      ...Object.fromEntries(Object.entries(seed.deviceProfiles).map(([p, pr]) => [`device-${p}`, pr.id])),
      'user-windows': seed.userProfile.id,
    },
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`\n# Trust this TLS certificate (e.g. NODE_EXTRA_CA_CERTS):\n${emu.tlsCaPem}`);
  const stop = (): void => {
    void emu.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`scepkit-intune-emulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
