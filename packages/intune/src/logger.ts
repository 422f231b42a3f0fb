/** A pino-compatible logger (`logger.info({ activityId }, 'msg')`). Defaults to a no-op. */
export interface IntuneLogger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

const noop = (): void => undefined;

/** The default logger: drops everything. */
export const NOOP_LOGGER: IntuneLogger = { debug: noop, info: noop, warn: noop, error: noop };
