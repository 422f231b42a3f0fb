import type { FastifyInstance } from 'fastify';
import { REVOCATION_REASONS } from '@scepkit/ca';
import type { CertificateQuery, CertificateRecord, RevocationReasonName } from '@scepkit/ca';
import { z } from 'zod';
import { certificateDetail, summarize, toPem } from './certificate-detail.js';
import type { AdminContext } from './context.js';
import { sessionOf } from './context.js';
import { parseInput, sendError } from './http.js';

/** Serial as typed by a person (`0A:1B ...`, any case) -> the store's form (lowercase hex, no leading zeros). */
export function normalizeSerial(text: string): string | undefined {
  const hex = text.replace(/[\s:]/g, '').toLowerCase();
  if (!/^[0-9a-f]{1,40}$/.test(hex)) return undefined;
  return hex.replace(/^0+/, '') || '0';
}

const SearchQuery = z
  .object({
    q: z.string().trim().max(256).default(''),
    by: z.enum(['any', 'subject', 'san', 'serial', 'device']).default('any'),
    status: z.enum(['valid', 'revoked']).optional(),
    expiringDays: z.coerce.number().int().min(0).max(3650).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).max(10_000).default(0),
  })
  .strict();

const SerialParam = z.object({
  serial: z.string().transform((s, ctx) => {
    const n = normalizeSerial(s);
    if (!n) ctx.addIssue({ code: 'custom', message: 'a serial number in hex' });
    return n ?? '';
  }),
});

const REVOKABLE = Object.keys(REVOCATION_REASONS).filter((r) => r !== 'removeFromCRL') as [
  RevocationReasonName,
  ...RevocationReasonName[],
];
const RevokeBody = z.object({ reason: z.enum(REVOKABLE) }).strict();

/** Certificates: search, detail, PEM download, revoke. */
export function registerCertificateRoutes(api: FastifyInstance, x: AdminContext): void {
  const { store, authority } = x.options;

  api.get('/certificates', async (request, reply) => {
    const q = parseInput(reply, SearchQuery, request.query);
    if (!q) return reply;
    const base: CertificateQuery = {
      ...(q.status ? { status: q.status } : {}),
      ...(q.expiringDays !== undefined
        ? { expiringBefore: new Date(x.now().getTime() + q.expiringDays * 86_400_000) }
        : {}),
    };
    const serial = normalizeSerial(q.q);
    if (q.by === 'serial' && q.q && !serial) {
      return sendError(reply, 400, 'bad-request', 'q: a serial number in hex');
    }
    // One query per field (each on its own filter); `any` merges them, newest first.
    const filters: CertificateQuery[] = [];
    if (!q.q) filters.push({});
    else {
      if (q.by === 'any' || q.by === 'subject') filters.push({ subject: q.q });
      if (q.by === 'any' || q.by === 'san') filters.push({ san: q.q });
      if ((q.by === 'any' || q.by === 'serial') && serial) filters.push({ serialPrefix: serial });
      if (q.by === 'any' || q.by === 'device') filters.push({ deviceId: q.q });
    }
    const want = q.offset + q.limit + 1;
    const results = await Promise.all(
      filters.map((f) => store.searchCertificates({ ...base, ...f, limit: Math.min(want, 1000) })),
    );
    const seen = new Map<string, CertificateRecord>();
    for (const c of results.flat()) seen.set(c.serial, c);
    // Stable sort: ties keep the store's order (newest first by insertion).
    const all = [...seen.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    const page = all.slice(q.offset, q.offset + q.limit);
    return {
      items: page.map(summarize),
      offset: q.offset,
      limit: q.limit,
      more: all.length > q.offset + q.limit,
    };
  });

  api.get('/certificates/:serial', async (request, reply) => {
    const p = parseInput(reply, SerialParam, request.params);
    if (!p) return reply;
    const c = await store.getCertificate(p.serial);
    if (!c) return sendError(reply, 404, 'not-found', `no certificate with serial ${p.serial}`);
    const [transaction, audit] = await Promise.all([
      c.transactionId ? store.getTransaction({ transactionId: c.transactionId, profile: c.profile }) : null,
      store.queryAudit({ serial: c.serial, limit: 100 }),
    ]);
    return certificateDetail(c, {
      chain: x.options.chain,
      transaction,
      audit,
      intuneProfiles: x.options.intuneProfiles ?? [],
    });
  });

  api.get('/certificates/:serial/pem', async (request, reply) => {
    const p = parseInput(reply, SerialParam, request.params);
    if (!p) return reply;
    const c = await store.getCertificate(p.serial);
    if (!c) return sendError(reply, 404, 'not-found', `no certificate with serial ${p.serial}`);
    return reply
      .type('application/x-pem-file')
      .header('content-disposition', `attachment; filename="${c.serial}.pem"`)
      .header('cache-control', 'no-store')
      .send(toPem(c.der));
  });

  api.post('/certificates/:serial/revoke', async (request, reply) => {
    const p = parseInput(reply, SerialParam, request.params);
    if (!p) return reply;
    const body = parseInput(reply, RevokeBody, request.body);
    if (!body) return reply;
    const session = sessionOf(request);
    const result = await authority.revoke(p.serial, REVOCATION_REASONS[body.reason], session.actor, {
      remoteAddress: request.ip,
    });
    if (result === 'not-found') {
      return sendError(reply, 404, 'not-found', `no certificate with serial ${p.serial}`);
    }
    const c = await store.getCertificate(p.serial);
    return { result, certificate: c ? summarize(c) : null };
  });
}
