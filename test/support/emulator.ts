import type { RunningEmulator } from '@scepkit/intune-emulator';

/**
 * The `intune` config keys that point scepkit at a running emulator: its tenant and app, its Entra and Graph
 * endpoints, and `tlsCaFile` (where the caller wrote `emu.tlsCaPem`). Spread it and add the test's own keys.
 */
export function emulatorIntuneConfig(
  emu: Pick<RunningEmulator, 'tenantDomain' | 'clientId' | 'url'>,
  tlsCaFile: string,
) {
  return {
    tenant: emu.tenantDomain,
    clientId: emu.clientId,
    authority: `${emu.url}/`,
    graphUrl: `${emu.url}/`,
    tlsCaFile,
  };
}
