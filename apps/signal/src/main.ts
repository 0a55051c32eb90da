import { exitOnConfigError, shutdownOnSignals } from '@robocam/service';
import { createSignalingServer } from '@robocam/signaling';
import { pino } from 'pino';
import { readConfig } from './config.js';

// Wiring only: configuration from the environment, a pino logger, and signal handling.
const config = exitOnConfigError('signal', () => readConfig(process.env));
const logger = pino({ name: 'robocam-signal', level: config.logLevel });
const server = await createSignalingServer({ ...config.server, logger });
shutdownOnSignals(logger, () => server.close());
