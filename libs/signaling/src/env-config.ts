import { listSchema, logLevelSchema, portSchema, readEnv, type LogLevel } from '@robocam/service';
import { z } from 'zod';
import type { SignalingServerSettings } from './server.js';

const positiveInt = z.coerce.number().int().positive();

const envSchema = z.object({
  PORT: portSchema.default(8765),
  HOST: z.string().min(1).default('::'),
  LOG_LEVEL: logLevelSchema.default('info'),
  SENDER_TOKEN: z.string().min(1).optional(),
  VIEWER_TOKEN: z.string().min(1).optional(),
  ALLOWED_ORIGINS: listSchema.optional(),
  MAX_CONNECTIONS: positiveInt.optional(),
  MAX_MESSAGE_BYTES: positiveInt.optional(),
  MESSAGES_PER_SECOND: positiveInt.optional(),
  HEARTBEAT_MS: positiveInt.optional(),
  ICE_SERVERS: listSchema.optional(),
  ICE_USERNAME: z.string().optional(),
  ICE_CREDENTIAL: z.string().optional(),
});

/** The signaling service's configuration, as {@link readSignalingConfig} reads it from the environment. */
export interface SignalingEnvConfig {
  logLevel: LogLevel;
  server: SignalingServerSettings;
}

/**
 * Reads the signaling server's configuration from environment variables (the table in the README,
 * "apps/signal"); shared by apps/signal and the one-process apps/robocam.
 *
 * @throws ConfigError naming every invalid variable.
 */
export function readSignalingConfig(env: NodeJS.ProcessEnv): SignalingEnvConfig {
  const e = readEnv(envSchema, env);
  return {
    logLevel: e.LOG_LEVEL,
    server: {
      port: e.PORT,
      host: e.HOST,
      processMetrics: true,
      ...(e.SENDER_TOKEN === undefined ? {} : { senderToken: e.SENDER_TOKEN }),
      ...(e.VIEWER_TOKEN === undefined ? {} : { viewerToken: e.VIEWER_TOKEN }),
      ...(e.ALLOWED_ORIGINS === undefined ? {} : { allowedOrigins: e.ALLOWED_ORIGINS }),
      ...(e.MAX_CONNECTIONS === undefined ? {} : { maxConnections: e.MAX_CONNECTIONS }),
      ...(e.MAX_MESSAGE_BYTES === undefined ? {} : { maxMessageBytes: e.MAX_MESSAGE_BYTES }),
      ...(e.MESSAGES_PER_SECOND === undefined ? {} : { messagesPerSecond: e.MESSAGES_PER_SECOND }),
      ...(e.HEARTBEAT_MS === undefined ? {} : { heartbeatMs: e.HEARTBEAT_MS }),
      ...(e.ICE_SERVERS === undefined
        ? {}
        : {
            whepIceServers: e.ICE_SERVERS.map((urls) => ({
              urls,
              ...(e.ICE_USERNAME === undefined ? {} : { username: e.ICE_USERNAME }),
              ...(e.ICE_CREDENTIAL === undefined ? {} : { credential: e.ICE_CREDENTIAL }),
            })),
          }),
    },
  };
}
