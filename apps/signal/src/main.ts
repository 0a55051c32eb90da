import { exitOnConfigError, shutdownOnSignals } from '@robocam/service';
import { createSignalingServer, readSignalingConfig } from '@robocam/signaling';
import { pino } from 'pino';

// Wiring only: configuration from the environment, a pino logger, and signal handling.
const config = exitOnConfigError('signal', () => readSignalingConfig(process.env));
const logger = pino({ name: 'robocam-signal', level: config.logLevel });
const server = await createSignalingServer({ ...config.server, logger });
shutdownOnSignals(logger, () => server.close());
