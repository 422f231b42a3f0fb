import { IntuneClient } from '../intune-client.js';
import type { IntuneClientOptions } from '../config.js';
import type { IntuneLogger } from '../logger.js';
import { CLIENT_ID, CLIENT_SECRET, TENANT, type FakeIntune } from './fake-intune.js';

/** Options pointing every endpoint at the fake, trusting its certificate; backoff waits are recorded, not slept. */
export function fakeOptions(fake: FakeIntune, extra: Partial<IntuneClientOptions> = {}): IntuneClientOptions {
  return {
    tenant: TENANT,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    providerNameAndVersion: 'scepkit-test/1.2.3',
    authorityHost: `${fake.url}/`,
    graphResourceUrl: `${fake.url}/`,
    ca: fake.caPem,
    timeoutMs: 5000,
    sleep: async () => undefined,
    ...extra,
  };
}

export function fakeClient(fake: FakeIntune, extra: Partial<IntuneClientOptions> = {}): IntuneClient {
  return new IntuneClient(fakeOptions(fake, extra));
}

/** A logger that keeps every line, to assert what is (and is not) logged. */
export function recordingLogger(): IntuneLogger & { lines: { level: string; obj: Record<string, unknown>; msg?: string }[] } {
  const lines: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const at =
    (level: string) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      lines.push({ level, obj, ...(msg !== undefined ? { msg } : {}) });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
