import { readSenderConfig, Sender, UdpBridge, setFfmpegLogLevel } from '@robocam/sender';
import { exitOnConfigError, shutdownOnSignals } from '@robocam/service';
import { pino } from 'pino';
import { startHealthServer } from './health-server.js';

// Wiring only (loaded by main.ts): configuration from the environment, a pino logger, the sender,
// signal handling.
const config = exitOnConfigError('sender', () => readSenderConfig(process.env));
const logger = pino({ name: 'robocam-sender', level: config.logLevel });
// FFmpeg prints to stderr on its own; keep it to errors unless debugging.
setFfmpegLogLevel(config.logLevel === 'debug' || config.logLevel === 'trace' ? 'info' : 'error');
const sender = new Sender({ ...config.sender, logger });
const health = await startHealthServer(sender, config.health);
const bridge =
  config.udpBridge === undefined
    ? undefined
    : new UdpBridge(sender, { ...config.udpBridge, logger: logger.child({ component: 'udp-bridge' }) });
await bridge?.start();
// Publications run beside signaling: a media server may serve viewers while the signaling server is away.
for (const target of config.publish) {
  sender.publish(target.camera, {
    url: target.url,
    ...(config.publishToken === undefined ? {} : { token: config.publishToken }),
  });
}
logger.info(
  {
    signalingUrl: config.sender.signalingUrl,
    cameras: [...sender.cameras.keys()],
    healthPort: health.port,
    healthHost: config.health.host,
  },
  'sender starting',
);
// The sender first, then its health server; a sender that does not close cleanly still lets the
// process exit with the intended code.
let closing = false;
const shutdown = shutdownOnSignals(logger, async () => {
  closing = true;
  await sender.close().catch((error: unknown) => {
    logger.error({ err: String(error) }, 'unclean sender shutdown');
  });
  // After the sender: its close raises the last stop, which the bridge still sends.
  bridge?.close();
  await new Promise((resolve) => health.close(resolve));
});
// Keeps retrying while the signaling server is away; fails only if it refuses us (e.g. bad token).
sender.start().catch((error: unknown) => {
  // Closing before the first registration ends start() too; that is a shutdown, not a refusal.
  if (closing) return;
  logger.fatal(
    { err: error instanceof Error ? error.message : String(error) },
    'signaling server refused the sender',
  );
  shutdown(1);
});
