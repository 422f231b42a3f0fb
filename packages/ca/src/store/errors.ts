/** Error codes of the store. */
export type StoreErrorCode =
  | 'duplicate-serial'
  | 'transaction-not-found'
  | 'invalid-transition'
  | 'invalid-input'
  | 'closed'
  | 'migration'
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
