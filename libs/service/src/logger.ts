/**
 * The logging surface robocam's servers need: pino's (`logger.info({ port }, 'listening')`), so an
 * app passes its pino instance and tests pass nothing. The object comes first, the message second.
 */
export interface Logger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

const ignore = (): void => undefined;

/** A {@link Logger} that discards everything; the default when no logger is given. */
export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
