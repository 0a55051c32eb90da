import { fileURLToPath } from 'node:url';
import { exitOnConfigError, shutdownOnSignals } from '@robocam/service';
import { pino } from 'pino';
import { readConfig } from './config.js';
import { startWebServer } from './server.js';

// Wiring only: configuration from the environment, a pino logger, the server, signal handling.
const config = exitOnConfigError('web', () => readConfig(process.env));
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
shutdownOnSignals(logger, () => server.close());
