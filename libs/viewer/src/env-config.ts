import {
  ConfigError,
  listSchema,
  logLevelSchema,
  portSchema,
  readEnv,
  type LogLevel,
} from '@robocam/service';
import { z } from 'zod';
import type { IceServerSettings } from './ice-servers.js';
import type { SignalingTarget } from './signaling-url.js';

/** An absolute ws:// or wss:// URL, or a path on the page's own origin (for a reverse proxy). */
const signalingUrl = z
  .string()
  .refine(
    (value) => /^\/[^/\\]/.test(value) || /^wss?:\/\/[^/?#\s]+(?:[/?][^\s]*)?$/.test(value),
    'must be a ws:// or wss:// URL, or a path such as /signal on the page’s own host',
  );
const bool = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

const envSchema = z.object({
  PORT: portSchema.default(8080),
  HOST: z.string().min(1).default('::'),
  LOG_LEVEL: logLevelSchema.default('info'),
  SIGNALING_URL: signalingUrl.optional(),
  PUBLIC_SIGNALING_URL: signalingUrl.optional(),
  SIGNALING_PORT: portSchema.min(1).default(8765),
  TRUST_PROXY: bool.default(false),
  // The sender's names and shapes, so that one environment file serves both apps.
  ICE_SERVERS: listSchema.optional(),
  ICE_USERNAME: z.string().optional(),
  ICE_CREDENTIAL: z.string().optional(),
  ICE_SECRET: z.string().min(1).optional(),
  ICE_CREDENTIAL_TTL: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .optional(),
  ICE_TRANSPORT_POLICY: z.enum(['all', 'relay']).default('all'),
});

/** The viewer service's configuration, as {@link readViewerConfig} reads it from the environment. */
export interface ViewerEnvConfig {
  port: number;
  host: string;
  logLevel: LogLevel;
  /** Where pages connect for signaling. */
  signaling: SignalingTarget;
  /** Honour X-Forwarded-Proto / X-Forwarded-Host from a reverse proxy. */
  trustProxy: boolean;
  /** STUN/TURN servers for the pages; undefined when ICE_SERVERS is unset. */
  iceServers?: IceServerSettings;
}

/**
 * Reads the viewer web server's configuration from environment variables (the table in the README,
 * "apps/web"); shared by apps/web and the one-process apps/robocam.
 *
 * @throws ConfigError naming every invalid variable.
 */
export function readViewerConfig(env: NodeJS.ProcessEnv): ViewerEnvConfig {
  const e = readEnv(envSchema, env);
  // PUBLIC_SIGNALING_URL is what browsers use; SIGNALING_URL (the sender's variable) is the fallback
  // so that one environment file can serve both apps.
  const explicit = e.PUBLIC_SIGNALING_URL ?? e.SIGNALING_URL;
  const signaling: SignalingTarget =
    explicit === undefined
      ? { kind: 'port', port: e.SIGNALING_PORT }
      : explicit.startsWith('/')
        ? { kind: 'path', path: explicit }
        : { kind: 'url', url: explicit };
  if (e.ICE_SERVERS === undefined && (e.ICE_SECRET !== undefined || e.ICE_TRANSPORT_POLICY === 'relay')) {
    throw new ConfigError(
      'invalid configuration:\n  ICE_SERVERS: required with ICE_SECRET or ICE_TRANSPORT_POLICY=relay (the TURN URLs)',
    );
  }
  const iceServers: IceServerSettings | undefined =
    e.ICE_SERVERS === undefined
      ? undefined
      : {
          urls: e.ICE_SERVERS,
          ...(e.ICE_SECRET === undefined
            ? {
                ...(e.ICE_USERNAME === undefined ? {} : { username: e.ICE_USERNAME }),
                ...(e.ICE_CREDENTIAL === undefined ? {} : { credential: e.ICE_CREDENTIAL }),
              }
            : { secret: e.ICE_SECRET }),
          ...(e.ICE_CREDENTIAL_TTL === undefined ? {} : { credentialTtlSec: e.ICE_CREDENTIAL_TTL }),
          iceTransportPolicy: e.ICE_TRANSPORT_POLICY,
        };
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    signaling,
    trustProxy: e.TRUST_PROXY,
    ...(iceServers === undefined ? {} : { iceServers }),
  };
}
