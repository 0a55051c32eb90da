import { ConfigError } from './env.js';
import type { Logger } from './logger.js';

/**
 * Runs `read` (typically `() => readConfig(process.env)`) and returns its result. On a
 * {@link ConfigError} it writes `robocam <appName>: <message>` to stderr and exits the process with
 * code 2; any other error is rethrown.
 */
export function exitOnConfigError<T>(appName: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`robocam ${appName}: ${error.message}\n`);
    process.exit(2);
  }
}

/** Options of {@link shutdownOnSignals}. */
export interface ShutdownOptions {
  /** The signals that stop the process; default `['SIGTERM', 'SIGINT']`. */
  signals?: readonly NodeJS.Signals[];
}

/**
 * Stops the process gracefully on SIGTERM and SIGINT: logs `stopping` (with the signal), awaits
 * `close()`, logs `stopped` and exits with code 0. If `close()` rejects it logs `unclean shutdown`
 * (with the error) and exits with code 1. `close()` runs once: later signals are ignored.
 *
 * @returns `shutdown(code)`, the same shutdown for other reasons (e.g. a fatal start-up error):
 *   it closes, logs `stopped` and exits with `code`, or exits 1 as above; it does nothing if a
 *   shutdown is already under way.
 */
export function shutdownOnSignals(
  logger: Logger,
  close: () => Promise<void>,
  options: ShutdownOptions = {},
): (code: number) => void {
  let stopping = false;
  const shutdown = (code: number): void => {
    if (stopping) return;
    stopping = true;
    // Through a promise so that a close() that throws synchronously is an unclean shutdown too.
    Promise.resolve()
      .then(close)
      .then(
        () => {
          logger.info({}, 'stopped');
          process.exit(code);
        },
        (error: unknown) => {
          logger.error({ err: String(error) }, 'unclean shutdown');
          process.exit(1);
        },
      );
  };
  for (const signal of options.signals ?? (['SIGTERM', 'SIGINT'] as const)) {
    process.on(signal, () => {
      if (stopping) return;
      logger.info({ signal }, 'stopping');
      shutdown(0);
    });
  }
  return shutdown;
}
