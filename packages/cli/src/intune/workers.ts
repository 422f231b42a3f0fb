import { IntuneOutboxWorker, IntuneRevocationWorker, nameToString } from '@scepkit/ca';
import type { AuthorityLogger } from '@scepkit/ca';
import type { Runtime } from '../setup/runtime.js';

/** The Intune background work of `serve`: failure-notification outbox and revocation polling. */
export interface IntuneWorkers {
  outbox: IntuneOutboxWorker;
  revocation: IntuneRevocationWorker | undefined;
  stop(): Promise<void>;
}

/** Starts the workers when the runtime has an `intune` section; resolves to undefined otherwise. */
export function startIntuneWorkers(rt: Runtime, logger?: AuthorityLogger): IntuneWorkers | undefined {
  const intune = rt.intune;
  const c = rt.config.intune;
  if (!intune || !c) return undefined;
  const outbox = new IntuneOutboxWorker({
    store: rt.store,
    validator: intune.validator,
    intervalMs: c.outboxIntervalSeconds * 1000,
    ...(logger ? { logger } : {}),
  });
  const stops = [outbox.start()];
  let revocation: IntuneRevocationWorker | undefined;
  if (c.revocationIntervalSeconds > 0) {
    revocation = new IntuneRevocationWorker({
      client: intune.revocation,
      store: rt.store,
      revoke: (serial, reason, actor, details) => rt.authority.revoke(serial, reason, actor, details),
      issuerName: nameToString(rt.ca.subjectDer),
      intervalMs: c.revocationIntervalSeconds * 1000,
      ...(logger ? { logger } : {}),
    });
    stops.push(revocation.start());
  }
  return {
    outbox,
    revocation,
    stop: async () => {
      await Promise.all(stops.map((s) => s()));
    },
  };
}
