import { z } from 'zod';
import type { SignalingServerSettings } from './signaling-server.js';

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

const envSchema = z.object({
  PORT: port.default(8765),
  HOST: z.string().min(1).default('::'),
  LOG_LEVEL: logLevel.default('info'),
  SENDER_TOKEN: z.string().min(1).optional(),
  VIEWER_TOKEN: z.string().min(1).optional(),
  ALLOWED_ORIGINS: list.optional(),
  MAX_CONNECTIONS: positiveInt.optional(),
  MAX_MESSAGE_BYTES: positiveInt.optional(),
  MESSAGES_PER_SECOND: positiveInt.optional(),
  HEARTBEAT_MS: positiveInt.optional(),
  ICE_SERVERS: list.optional(),
  ICE_USERNAME: z.string().optional(),
  ICE_CREDENTIAL: z.string().optional(),
});

export interface SignalAppConfig {
  logLevel: z.infer<typeof logLevel>;
  server: SignalingServerSettings;
}

/** Thrown for invalid environment; the message names each bad variable and what it accepts. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads the signaling server's configuration from environment variables. */
export function readConfig(env: NodeJS.ProcessEnv): SignalAppConfig {
  // Empty strings mean "unset" (compose files often pass VAR= through).
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name}=${JSON.stringify(present[name] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
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
