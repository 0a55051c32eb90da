import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { ConfigError, readConfig } from './config.js';
import { startWebServer } from './server.js';

// Wiring only: configuration from the environment, a pino logger, the server, signal handling.
let config;
try {
  config = readConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`robocam web: ${error.message}\n`);
  process.exit(2);
}

const logger = pino({ name: 'robocam-web', level: config.logLevel });
const server = await startWebServer({
  port: config.port,
  host: config.host,
  publicDir: fileURLToPath(new URL('./public/', import.meta.url)),
  signaling: config.signaling,
  trustProxy: config.trustProxy,
  logger,
});
logger.info({ port: server.port, host: config.host, signaling: config.signaling }, 'viewer page listening');

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
