/**
 * The logging surface the server needs: pino's (`logger.info({ port }, 'listening')`), so the app
 * passes its pino instance and tests pass nothing.
 */
export interface Logger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

const ignore = (): void => undefined;

/** Discards everything; the default when no logger is given. */
export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
