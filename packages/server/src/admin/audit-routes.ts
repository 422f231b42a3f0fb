import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AdminContext } from './context.js';
import { parseInput } from './http.js';

const AuditQuery = z
  .object({
    actor: z.string().trim().min(1).max(128).optional(),
    action: z.string().trim().min(1).max(64).optional(),
    serial: z.string().trim().min(1).max(64).optional(),
    transactionId: z.string().trim().min(1).max(256).optional(),
    /** Keyset paging: the `next` of the previous page. */
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

/** The audit log, newest first, filtered by actor and action. */
export function registerAuditRoutes(api: FastifyInstance, x: AdminContext): void {
  api.get('/audit', async (request, reply) => {
    const q = parseInput(reply, AuditQuery, request.query);
    if (!q) return reply;
    const rows = await x.options.store.queryAudit({
      ...(q.actor ? { actor: q.actor } : {}),
      ...(q.action ? { action: q.action } : {}),
      ...(q.serial ? { serial: q.serial } : {}),
      ...(q.transactionId ? { transactionId: q.transactionId } : {}),
      ...(q.before ? { beforeId: q.before } : {}),
      limit: q.limit + 1,
    });
    const items = rows.slice(0, q.limit);
    return { items, next: rows.length > q.limit ? (items[items.length - 1]?.id ?? null) : null };
  });
}
