import { Sender, setFfmpegLogLevel } from '@robocam/sender';
import { pino } from 'pino';
import { ConfigError, readConfig } from './config.js';
import { startHealthServer } from './health-server.js';

// Wiring only (loaded by main.ts): configuration from the environment, a pino logger, the sender,
// signal handling.
let config;
try {
  config = readConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`robocam sender: ${error.message}\n`);
  process.exit(2);
}

const logger = pino({ name: 'robocam-sender', level: config.logLevel });
// FFmpeg prints to stderr on its own; keep it to errors unless debugging.
setFfmpegLogLevel(config.logLevel === 'debug' || config.logLevel === 'trace' ? 'info' : 'error');
const sender = new Sender({ ...config.sender, logger });
const health = await startHealthServer(sender, config.healthPort);
logger.info(
  { signalingUrl: config.sender.signalingUrl, cameras: [...sender.cameras.keys()], healthPort: health.port },
  'sender starting',
);
// Keeps retrying while the signaling server is away; fails only if it refuses us (e.g. bad token).
sender.start().catch((error: unknown) => {
  logger.fatal(
    { err: error instanceof Error ? error.message : String(error) },
    'signaling server refused the sender',
  );
  void shutdown(1);
});

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await sender.close().catch((error: unknown) => {
    logger.error({ err: String(error) }, 'unclean sender shutdown');
  });
  await new Promise((resolve) => health.close(resolve));
  logger.info({}, 'stopped');
  process.exit(code);
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    logger.info({ signal }, 'stopping');
    void shutdown(0);
  });
}
