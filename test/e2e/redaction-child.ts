// Child process of log-redaction.test.ts: runs the Intune emulator and `scepkit serve` (log level trace, to this
// process's stdout) and enrolls through every path that handles a secret; then writes the secrets it used to the
// file named by argv[2], for the parent to look for in the output.
import { KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDeviceCsr, generateDeviceKeys, runDemo, startEmulator } from '@scepkit/intune-emulator';
import { enroll, parseConfig, serve } from '../support/cli.js';
import { emulatorIntuneConfig } from '../support/emulator.js';

const [secretsFile, dataDir] = process.argv.slice(2) as [string, string];
const staticChallenge = 'static-redaction-challenge-7f3a9c';
const emu = await startEmulator({ port: 0 });
mkdirSync(dataDir, { recursive: true });
const tlsCaFile = join(dataDir, 'emulator-tls.pem');
writeFileSync(tlsCaFile, emu.tlsCaPem);
const config = parseConfig({
  dataDir,
  server: { port: 0 },
  ca: { keyType: 'rsa-2048' },
  log: { level: 'trace' },
  endpoints: [
    { path: '/scep', challenge: { type: 'static' } },
    { path: '/scep/intune', challenge: { type: 'intune' } },
  ],
  intune: {
    ...emulatorIntuneConfig(emu, tlsCaFile),
  },
});
const s = await serve(config, {
  init: true,
  out: process.stdout,
  env: {
    ...process.env,
    SCEPKIT_INTUNE_CLIENT_SECRET: emu.clientSecret,
    SCEPKIT_STATIC_CHALLENGE: staticChallenge,
  },
});
const challenges = [staticChallenge];
try {
  const device = emu.seed!.devices.windows;
  const profile = emu.seed!.deviceProfiles.windows;
  const payload = emu.emulator
    .checkIn(device.tenantId, device.id, { force: true })
    .find((p) => p.profileId === profile.id)!;
  challenges.push(payload.challenge);
  const keys = await generateDeviceKeys(2048);
  const csr = await buildDeviceCsr({ profile, device, challenge: payload.challenge, keys });
  await enroll({
    url: `${s.url}/scep/intune`,
    subject: '',
    csr: { der: csr.der, privateKey: KeyObject.from(keys.privateKey) },
  });
  // Refused by Intune: a tampered challenge (its text must not appear either).
  const tampered = `${payload.challenge.slice(0, -12)}AAAAAAAAAAA=`;
  challenges.push(tampered);
  const bad = await buildDeviceCsr({ profile, device, challenge: tampered, keys });
  await enroll({
    url: `${s.url}/scep/intune`,
    subject: '',
    csr: { der: bad.der, privateKey: KeyObject.from(keys.privateKey) },
  }).catch(() => undefined);
  await enroll({ url: `${s.url}/scep`, challenge: staticChallenge, subject: 'CN=redaction-static' });
  const wrong = 'wrong-static-challenge-5d1e22';
  challenges.push(wrong);
  await enroll({ url: `${s.url}/scep`, challenge: wrong, subject: 'CN=redaction-wrong' }).catch(
    () => undefined,
  );
  await runDemo({ emulator: emu.emulator, scepUrl: `${s.url}/scep/intune`, out: () => undefined });
} finally {
  await s.close();
  await emu.stop();
}
writeFileSync(
  secretsFile,
  JSON.stringify({
    challenges,
    clientSecret: emu.clientSecret,
    passphrase: readFileSync(join(dataDir, 'secrets', 'key-passphrase'), 'utf8').trim(),
  }),
);
