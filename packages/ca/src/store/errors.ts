/** Error codes of the store. */
export type StoreErrorCode =
  | 'duplicate-serial'
  | 'transaction-not-found'
  | 'invalid-transition'
  | 'invalid-input'
  | 'closed'
  | 'migration'
  | 'unavailable'
  | 'database';

/** Base class of every error the store throws; `cause` keeps the driver error (never shown to clients). */
export class StoreError<Code extends string = StoreErrorCode> extends Error {
  readonly code: Code;
  override readonly cause: unknown;

  constructor(code: Code, message: string, cause?: unknown) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
    this.cause = cause;
  }
}

/** The serial is already used: generate a new serial and call `issue` again. */
export class DuplicateSerialError extends StoreError<'duplicate-serial'> {
  readonly serial: string;

  constructor(serial: string, cause?: unknown) {
    super('duplicate-serial', `certificate serial ${serial} already exists`, cause);
    this.name = 'DuplicateSerialError';
    this.serial = serial;
  }
}

/** The transaction does not exist, or its current state does not allow the requested change. */
export class TransactionStateError extends StoreError<'transaction-not-found' | 'invalid-transition'> {
  /** Current state, when the transaction exists. */
  readonly state: string | null;

  constructor(code: 'transaction-not-found' | 'invalid-transition', message: string, state: string | null) {
    super(code, message);
    this.name = 'TransactionStateError';
    this.state = state;
  }
}

/** Node's socket error codes that mean the database server cannot be reached right now. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * True when a PostgreSQL driver error says the database is out of reach for now (a retry later can succeed):
 * a socket error, a connection the server ended (`pg`'s "Connection terminated"), a pool connect timeout,
 * SQLSTATE class 08 (connection exception), 57P01–57P03 (shutdown, crash, cannot connect now) and
 * 53300 (too many connections).
 */
export function isPostgresUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code)) return true;
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') {
    return true;
  }
  const message = typeof e?.message === 'string' ? e.message : '';
  return /^Connection terminated|^timeout exceeded when trying to connect|^Client has encountered a connection error|^Client was closed and is not queryable/.test(
    message,
  );
}

/**
 * True when `err` (or an error in its `cause` chain) is a `StoreError` with code `unavailable`: the server
 * should answer "try again later" (HTTP 503 with Retry-After), not "internal error".
 */
export function isStoreUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof StoreError && e.code === 'unavailable') return true;
  }
  return false;
}
