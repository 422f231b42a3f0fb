/** Why the server refused to start or a request failed on our side. */
export type ServerErrorCode = 'badOptions' | 'badMaterial' | 'internal';

/** A typed server error. `message` is for logs and operators, never sent to clients verbatim. */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  constructor(
    readonly code: ServerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
