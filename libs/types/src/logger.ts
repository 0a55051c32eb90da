/**
 * The structured logger every robocam library writes to: pino's signature (the object first, the
 * message second: `logger.info({ cameraId }, 'camera lost')`), so an app passes its pino instance
 * and every line, from every library, lands in one log stream. Libraries take it as an option and
 * default to {@link silentLogger}.
 */
export interface Logger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
  /** A logger that adds `bindings` to every line (pino's `child`); optional. */
  child?(bindings: object): Logger;
}

const ignore = (): void => undefined;

/** A {@link Logger} that discards everything; the default when no logger is given. */
export const silentLogger: Logger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  child: () => silentLogger,
};

/**
 * `logger.child(bindings)` when the logger has it, else a wrapper that adds the bindings to every
 * line. A key given both in the bindings and in a line's object appears once (the line's value
 * wins), so log lines never repeat a key.
 */
export function childLogger(logger: Logger, bindings: object): Logger {
  if (logger.child !== undefined) return logger.child(bindings);
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (object: object, message?: string): void => {
      logger[level]({ ...bindings, ...object }, message);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => childLogger(logger, { ...bindings, ...more }),
  };
}
