import { randomUUID } from 'node:crypto';
import { EmulatorError } from './errors.js';
import { aadError, odataError, type EmulatorContext, type EmulatorResponse } from './http.js';
import { scepResult } from './scep-actions.js';

export const FAULT_OPERATIONS = [
  'token',
  'discovery',
  'validateRequest',
  'successNotification',
  'failureNotification',
  'download',
  'upload',
] as const;
export type FaultOperation = (typeof FAULT_OPERATIONS)[number];

/**
 * What to do instead of (or before) the normal answer:
 * - `errorCode`: ScepActions answer 200 with this `code`; the token endpoint an AADSTS error (`code` = `7000222`
 *   or `AADSTS7000222`); discovery 403 and the revocation calls 400 with an OData error of this code.
 * - `http500`: HTTP 500 with an OData `InternalError` body.
 * - `unauthorized`: HTTP 401 (Entra `invalid_client` on the token endpoint, OData elsewhere).
 * - `nonJson`: an HTML body (status 200 unless given).
 * - `latency`: wait `ms`, then answer normally.
 * - `drop`: destroy the connection without answering.
 */
export type Fault =
  | { kind: 'errorCode'; code: string; description?: string }
  | { kind: 'http500'; message?: string }
  | { kind: 'unauthorized' }
  | { kind: 'nonJson'; status?: number }
  | { kind: 'latency'; ms: number }
  | { kind: 'drop' };

export interface FaultRule {
  id: string;
  operation: FaultOperation;
  fault: Fault;
  /** Calls left; undefined = permanent. */
  remaining?: number;
  /** Calls it has affected. */
  hits: number;
}

const KINDS = ['errorCode', 'http500', 'unauthorized', 'nonJson', 'latency', 'drop'];

/** Fault rules per operation; the first matching rule applies to a call and counts down. */
export class FaultInjector {
  private rules: FaultRule[] = [];

  /** Adds a rule for the next `count` calls (permanent when `count` is undefined). */
  add(operation: FaultOperation, fault: Fault, count?: number): FaultRule {
    if (!FAULT_OPERATIONS.includes(operation)) {
      throw new EmulatorError('INVALID_ARGUMENT', `operation must be one of ${FAULT_OPERATIONS.join(', ')}`);
    }
    if (!KINDS.includes(fault.kind))
      throw new EmulatorError('INVALID_ARGUMENT', `fault kind must be one of ${KINDS.join(', ')}`);
    if (fault.kind === 'errorCode' && (typeof fault.code !== 'string' || fault.code === '')) {
      throw new EmulatorError('INVALID_ARGUMENT', 'errorCode fault needs a code');
    }
    if (fault.kind === 'latency' && !(Number.isFinite(fault.ms) && fault.ms >= 0)) {
      throw new EmulatorError('INVALID_ARGUMENT', 'latency fault needs ms >= 0');
    }
    if (count !== undefined && !(Number.isInteger(count) && count > 0)) {
      throw new EmulatorError('INVALID_ARGUMENT', 'count must be a positive integer');
    }
    const rule: FaultRule = {
      id: randomUUID(),
      operation,
      fault,
      hits: 0,
      ...(count !== undefined ? { remaining: count } : {}),
    };
    this.rules.push(rule);
    return rule;
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** Removes one rule by id, those of one operation, or all. */
  clear(filter: { id?: string; operation?: FaultOperation } = {}): void {
    this.rules = this.rules.filter(
      (r) =>
        !(
          (filter.id === undefined || r.id === filter.id) &&
          (filter.operation === undefined || r.operation === filter.operation)
        ),
    );
  }

  /** The fault for this call of `operation`, consuming one use of its rule. */
  take(operation: FaultOperation): Fault | undefined {
    const rule = this.rules.find((r) => r.operation === operation);
    if (!rule) return undefined;
    rule.hits++;
    if (rule.remaining !== undefined && --rule.remaining <= 0)
      this.rules = this.rules.filter((r) => r !== rule);
    return rule.fault;
  }
}

/** The answer a fault produces for `operation`; undefined for `latency` (answer normally after the wait). */
export function faultResponse(
  ctx: EmulatorContext,
  operation: FaultOperation,
  fault: Fault,
): EmulatorResponse | undefined {
  switch (fault.kind) {
    case 'latency':
      return undefined;
    case 'drop':
      return { status: 0, body: '', drop: true };
    case 'http500':
      return odataError(
        500,
        'InternalError',
        fault.message ?? 'An internal server error occurred (injected).',
      );
    case 'nonJson':
      return {
        status: fault.status ?? 200,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: '<html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>',
      };
    case 'unauthorized':
      return operation === 'token'
        ? aadError(ctx.now(), 401, 'invalid_client', 7000215, 'Invalid client secret provided (injected).')
        : odataError(
            401,
            operation === 'discovery' ? 'InvalidAuthenticationToken' : 'Unauthorized',
            'Access token validation failure (injected).',
          );
    case 'errorCode':
      return errorCodeResponse(ctx, operation, fault.code, fault.description);
  }
}

function errorCodeResponse(
  ctx: EmulatorContext,
  operation: FaultOperation,
  code: string,
  description?: string,
): EmulatorResponse {
  switch (operation) {
    case 'validateRequest':
    case 'successNotification':
    case 'failureNotification':
      return scepResult(ctx, code, description ?? `Injected error ${code}.`);
    case 'token': {
      const n = Number(code.replace(/^AADSTS/i, ''));
      const client = [7000215, 7000222, 700027, 700024, 7000218].includes(n);
      return aadError(
        ctx.now(),
        client ? 401 : 400,
        client ? 'invalid_client' : 'invalid_request',
        Number.isFinite(n) ? n : 0,
        description ?? 'Injected error.',
      );
    }
    case 'discovery':
      return odataError(403, code, description ?? 'Insufficient privileges to complete the operation.');
    case 'download':
    case 'upload':
      return odataError(400, code, description ?? `Injected error ${code}.`);
  }
}

/** Parses an admin API fault body; throws INVALID_ARGUMENT. */
export function toFault(value: unknown): Fault {
  if (typeof value !== 'object' || value === null || typeof (value as { kind?: unknown }).kind !== 'string') {
    throw new EmulatorError('INVALID_ARGUMENT', 'fault must be an object with a kind');
  }
  return value as Fault;
}
