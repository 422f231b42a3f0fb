import type { FastifyInstance } from 'fastify';
import type { ScepBackend } from './backend.js';
import { contextOf } from './request-context.js';

/** The `/healthz` body. */
export interface HealthReport {
  ok: boolean;
  store: 'ok' | 'unreachable' | 'unknown';
  /** The last Intune `doctor` result given to `setDoctorResult`, or null. */
  intune: unknown;
}

export function registerHealthRoute(
  app: FastifyInstance,
  path: string,
  backend: ScepBackend,
  doctor: () => unknown,
) {
  app.get(path, async (request, reply) => {
    contextOf(request).op = 'healthz';
    let store: HealthReport['store'] = 'unknown';
    if (backend.health) {
      try {
        store = (await backend.health()).store ? 'ok' : 'unreachable';
      } catch (err) {
        contextOf(request).err = err;
        store = 'unreachable';
      }
    }
    const report: HealthReport = { ok: store !== 'unreachable', store, intune: doctor() ?? null };
    return reply
      .code(report.ok ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(report);
  });
}
