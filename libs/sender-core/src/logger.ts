import createDebug from 'debug';

/**
 * The structured logger @robocam/sender writes to: pino's signature (`info(object, message)`), so
 * an app passes its pino instance. Without one, lines go to the `debug` namespace
 * `robocam:sender` (enable with `DEBUG=robocam:*`).
 */
export interface Logger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
  /** A logger that adds `bindings` to every line (pino's `child`). */
  child?(bindings: object): Logger;
}

/** The default logger: `debug('robocam:sender')`, silent unless enabled. */
export function debugLogger(namespace = 'robocam:sender'): Logger {
  const write = createDebug(namespace);
  const at =
    (level: string) =>
    (object: object, message?: string): void => {
      if (write.enabled) write('%s %s %o', level, message ?? '', object);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** `logger.child(bindings)` when the logger has it, else a wrapper adding the bindings. */
export function childLogger(logger: Logger, bindings: object): Logger {
  if (logger.child !== undefined) return logger.child(bindings);
  return {
    debug: (object, message) => {
      logger.debug({ ...bindings, ...object }, message);
    },
    info: (object, message) => {
      logger.info({ ...bindings, ...object }, message);
    },
    warn: (object, message) => {
      logger.warn({ ...bindings, ...object }, message);
    },
    error: (object, message) => {
      logger.error({ ...bindings, ...object }, message);
    },
  };
}
