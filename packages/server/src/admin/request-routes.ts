import type { FastifyInstance } from 'fastify';
import { parseCsr, TransactionStateError } from '@scepkit/ca';
import type { TransactionRecord, TransactionState } from '@scepkit/ca';
import { z } from 'zod';
import type { AdminContext } from './context.js';
import { sessionOf } from './context.js';
import { parseInput, sendError } from './http.js';

const STATES = ['pending', 'approved', 'issued', 'failed', 'rejected'] as const;

const ListQuery = z
  .object({
    /** `failures`: failed and rejected. */
    state: z.enum([...STATES, 'failures', 'all']).default('all'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).max(10_000).default(0),
  })
  .strict();

const KeyParams = z
  .object({
    profile: z.string().min(1).max(128),
    transactionId: z.string().min(1).max(256),
  })
  .strict();

const RejectBody = z.object({ reason: z.string().trim().min(1).max(200).optional() }).strict();
const ApproveBody = z.object({}).strict();

function subjectOf(t: TransactionRecord): string | null {
  if (!t.csr) return null;
  try {
    return parseCsr(t.csr).subjectText;
  } catch {
    return null;
  }
}

/** Requests: recent enrollment transactions (filter by state or failures), approve and reject. */
export function registerRequestRoutes(api: FastifyInstance, x: AdminContext): void {
  const { store, authority } = x.options;

  api.get('/requests', async (request, reply) => {
    const q = parseInput(reply, ListQuery, request.query);
    if (!q) return reply;
    const states: Array<TransactionState | undefined> =
      q.state === 'all' ? [undefined] : q.state === 'failures' ? ['failed', 'rejected'] : [q.state];
    const want = Math.min(q.offset + q.limit + 1, 1000);
    const lists = await Promise.all(
      states.map((state) => store.listTransactions({ ...(state ? { state } : {}), limit: want })),
    );
    const all = lists.flat().sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    const page = all.slice(q.offset, q.offset + q.limit);
    // The subject: from the CSR while it is kept (pending), else from the issued certificate or the audit log.
    const items = await Promise.all(
      page.map(async (t) => {
        let subject = subjectOf(t);
        if (!subject && t.serial) subject = (await store.getCertificate(t.serial))?.subject ?? null;
        if (!subject && (t.state === 'rejected' || t.state === 'approved')) {
          // The CSR is gone once final; the request's subject was audited when it went pending.
          const [held] = await store.queryAudit({
            transactionId: t.transactionId,
            action: 'pending',
            limit: 1,
          });
          subject = held?.subject ?? null;
        }
        return {
          transactionId: t.transactionId,
          profile: t.profile,
          state: t.state,
          awaitingApproval: t.state === 'pending' && t.csr !== null,
          subject,
          serial: t.serial,
          failInfo: t.failInfo,
          reason: t.reason,
          notified: t.notified,
          createdAt: t.createdAt,
          updatedAt: t.updatedAt,
        };
      }),
    );
    return { items, offset: q.offset, limit: q.limit, more: all.length > q.offset + q.limit };
  });

  for (const verb of ['approve', 'reject'] as const) {
    api.post(`/requests/:profile/:transactionId/${verb}`, async (request, reply) => {
      const key = parseInput(reply, KeyParams, request.params);
      if (!key) return reply;
      const actor = sessionOf(request).actor;
      try {
        if (verb === 'approve') {
          if (!parseInput(reply, ApproveBody, request.body)) return reply;
          const t = await authority.approve(key, actor);
          return { state: t.state };
        }
        const body = parseInput(reply, RejectBody, request.body);
        if (!body) return reply;
        const t = await authority.reject(key, actor, body.reason);
        return { state: t.state };
      } catch (err) {
        if (err instanceof TransactionStateError) {
          return err.code === 'transaction-not-found'
            ? sendError(reply, 404, 'not-found', 'no such request')
            : sendError(reply, 409, 'conflict', 'the request is no longer pending');
        }
        throw err;
      }
    });
  }
}
