import { setFfmpegLogLevel } from '@robocam/sender';
import { exitOnConfigError, shutdownOnSignals } from '@robocam/service';
import { pino } from 'pino';
import { readOneProcessConfig, startOneProcess } from './one-process.js';

// Wiring only (loaded by main.ts): configuration from the environment, one pino logger, the three
// services in this process, signal handling.
const config = exitOnConfigError('robocam', () => readOneProcessConfig(process.env));
const logger = pino({ name: 'robocam', level: config.logLevel });
// FFmpeg prints to stderr on its own; keep it to errors unless debugging.
setFfmpegLogLevel(config.logLevel === 'debug' || config.logLevel === 'trace' ? 'info' : 'error');
const robocam = await startOneProcess(config, logger);
const shutdown = shutdownOnSignals(logger, () => robocam.close());
// Keeps retrying while signaling is away; fails only if it refuses the sender (e.g. a bad token).
robocam.started.catch((error: unknown) => {
  if (robocam.closed) return;
  logger.fatal(
    { err: error instanceof Error ? error.message : String(error) },
    'signaling refused the sender',
  );
  shutdown(1);
});
