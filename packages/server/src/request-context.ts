import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FailInfo, PkiStatus } from '@scepkit/scep';

/** Metric/log label of what a request did; bounded (never a client-supplied string). */
export type OperationLabel =
  | 'GetCACaps'
  | 'GetCACert'
  | 'GetNextCACert'
  | 'PKIOperation'
  | 'unknown'
  | 'crl'
  | 'ocsp'
  | 'healthz'
  | 'metrics'
  | 'admin'
  | 'other';

/** What the per-request log line and metrics report. Never holds secrets. */
export interface RequestContext {
  op: OperationLabel;
  messageType?: string;
  transactionId?: string;
  endpoint?: string;
  pkiStatus?: PkiStatus;
  failInfo?: FailInfo;
  /** Why a request was refused (our short public reason). */
  reason?: string;
  /** Our own fault, logged as `err`. */
  err?: unknown;
}

const contexts = new WeakMap<FastifyRequest, RequestContext>();

export function contextOf(request: FastifyRequest): RequestContext {
  let c = contexts.get(request);
  if (!c) {
    c = { op: 'other' };
    contexts.set(request, c);
  }
  return c;
}

/** Answers a client error with a short plain-text reason (never internal details). */
export function refuse(request: FastifyRequest, reply: FastifyReply, status: number, reason: string) {
  contextOf(request).reason = reason;
  return reply.code(status).type('text/plain; charset=utf-8').send(`${reason}\n`);
}
