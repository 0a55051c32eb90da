import { pino } from 'pino';
import { ConfigError, readConfig } from './config.js';
import { createSignalingServer } from './signaling-server.js';

// Wiring only: configuration from the environment, a pino logger, and signal handling.
let config;
try {
  config = readConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`robocam signal: ${error.message}\n`);
  process.exit(2);
}

const logger = pino({ name: 'robocam-signal', level: config.logLevel });
const server = await createSignalingServer({ ...config.server, logger });

let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  server.close().then(
    () => {
      logger.info({}, 'stopped');
      process.exit(0);
    },
    (error: unknown) => {
      logger.error({ err: String(error) }, 'unclean shutdown');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
