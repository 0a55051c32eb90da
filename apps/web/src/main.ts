import { exitOnConfigError, shutdownOnSignals } from '@robocam/service';
import { readViewerConfig, startViewerServer } from '@robocam/viewer';
import { pino } from 'pino';

// Wiring only: configuration from the environment, a pino logger, the viewer server (with the page
// @robocam/viewer ships), signal handling.
const config = exitOnConfigError('web', () => readViewerConfig(process.env));
const logger = pino({ name: 'robocam-web', level: config.logLevel });
const server = await startViewerServer({
  port: config.port,
  host: config.host,
  signaling: config.signaling,
  trustProxy: config.trustProxy,
  ...(config.iceServers === undefined ? {} : { iceServers: config.iceServers }),
  logger,
});
const ice = config.iceServers?.urls ?? [];
logger.info(
  { port: server.port, host: config.host, signaling: config.signaling, ice },
  'viewer page listening',
);
shutdownOnSignals(logger, () => server.close());
