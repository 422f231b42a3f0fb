import { X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { activityChart, activityWindow } from './activity.js';
import type { AdminContext } from './context.js';
import { parseInput } from './http.js';

const DAY = 86_400_000;
/** Pending requests counted on the dashboard at most (the Requests page lists them all). */
const PENDING_COUNT_LIMIT = 1000;

const ActivityQuery = z
  .object({
    hours: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 31)
      .default(168),
  })
  .strict();

/** `GET /api/summary` (counts, CA/RA certificates, Intune health) and `GET /api/activity` (the chart). */
export function registerDashboardRoutes(api: FastifyInstance, x: AdminContext): void {
  const { store } = x.options;
  const keyCertificates = x.options.certificates.map((c) => {
    const cert = new X509Certificate(c.der);
    return {
      role: c.role,
      subject: cert.subject.replace(/\n/g, ', '),
      serial: cert.serialNumber.toLowerCase(),
      notAfter: new Date(cert.validTo),
      sha256: cert.fingerprint256,
    };
  });

  api.get('/summary', async () => {
    const now = x.now();
    const [counts, pending] = await Promise.all([
      store.countCertificates({ expiringWithinDays: 30, now }),
      store.listTransactions({ state: 'pending', limit: PENDING_COUNT_LIMIT }),
    ]);
    return {
      now,
      counts: {
        issued: counts.issued,
        revoked: counts.revoked,
        expiring30d: counts.expiring,
        // Pending approval: the CA keeps the CSR only for requests waiting for an administrator.
        pendingApproval: pending.filter((t) => t.csr !== null).length,
        pendingCapped: pending.length >= PENDING_COUNT_LIMIT,
      },
      certificates: keyCertificates.map((c) => ({
        ...c,
        daysLeft: Math.floor((c.notAfter.getTime() - now.getTime()) / DAY),
      })),
      intune: x.doctor() ?? null,
      intuneConfigured: (x.options.intuneProfiles?.length ?? 0) > 0,
    };
  });

  api.get('/activity', async (request, reply) => {
    const q = parseInput(reply, ActivityQuery, request.query);
    if (!q) return reply;
    const now = x.now();
    const rows = await store.enrollmentActivity(activityWindow(now, q.hours));
    return activityChart(rows, now, q.hours);
  });
}
