import {
  ConfigurationError,
  parseCameraList,
  type EncoderPreference,
  type SenderSettings,
  type VideoCodec,
} from '@robocam/sender';
import {
  ConfigError,
  listSchema,
  logLevelSchema,
  portSchema,
  readEnv,
  type LogLevel,
} from '@robocam/service';
import { z } from 'zod';
import type { HealthServerSettings } from './health-server.js';

export { ConfigError } from '@robocam/service';

const envSchema = z.object({
  SIGNALING_URL: z
    .string()
    .regex(/^wss?:\/\/.+/, 'must be a ws:// or wss:// URL')
    .default('ws://localhost:8765'),
  LOG_LEVEL: logLevelSchema.default('info'),
  SENDER_TOKEN: z.string().min(1).optional(),
  SENDER_NAME: z.string().min(1).max(64).optional(),
  CAMERAS: z.string().min(1).default('testpattern:1280x720@30'),
  CODEC: z.enum(['vp8', 'h264']).default('vp8'),
  BITRATE: z.coerce.number().int().min(100).max(20_000).optional(),
  ENCODER: z.enum(['auto', 'software', 'v4l2m2m', 'vaapi', 'nvenc']).default('auto'),
  KEYFRAME_INTERVAL: z.coerce.number().min(0).max(300).optional(),
  ICE_SERVERS: listSchema.optional(),
  ICE_USERNAME: z.string().optional(),
  ICE_CREDENTIAL: z.string().optional(),
  RTC_PORT_RANGE: z
    .string()
    .regex(/^\d+-\d+$/, 'must be MIN-MAX, e.g. 40000-40100')
    .transform((value) => value.split('-').map(Number) as [number, number])
    .refine(([min, max]) => min >= 1024 && max <= 65535 && min < max, 'needs 1024 <= MIN < MAX <= 65535')
    .optional(),
  ANNOUNCED_IPS: listSchema.optional(),
  MAX_VIEWERS: z.coerce.number().int().min(1).max(1000).optional(),
  HEALTH_PORT: portSchema.default(8766),
  HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_TOKEN: z.string().min(1).optional(),
});

export interface SenderAppConfig {
  logLevel: LogLevel;
  /** The health endpoint (`/healthz`, `/stats`, `/metrics`, snapshots): see `HealthServerSettings`. */
  health: HealthServerSettings;
  sender: Omit<SenderSettings, 'logger'>;
}

/** Reads the sender's configuration from environment variables. */
export function readConfig(env: NodeJS.ProcessEnv): SenderAppConfig {
  const e = readEnv(envSchema, env);
  let cameras;
  try {
    cameras = parseCameraList(e.CAMERAS);
  } catch (error) {
    if (error instanceof ConfigurationError)
      throw new ConfigError(`invalid configuration:\n  CAMERAS: ${error.message}`);
    throw error;
  }
  const iceServers = e.ICE_SERVERS?.map((url) => ({
    urls: url,
    ...(e.ICE_USERNAME === undefined ? {} : { username: e.ICE_USERNAME }),
    ...(e.ICE_CREDENTIAL === undefined ? {} : { credential: e.ICE_CREDENTIAL }),
  }));
  return {
    logLevel: e.LOG_LEVEL,
    health: {
      port: e.HEALTH_PORT,
      host: e.HEALTH_HOST,
      ...(e.METRICS_TOKEN === undefined ? {} : { token: e.METRICS_TOKEN }),
    },
    sender: {
      signalingUrl: e.SIGNALING_URL,
      cameras,
      codec: e.CODEC satisfies VideoCodec,
      encoder: e.ENCODER satisfies EncoderPreference,
      ...(e.SENDER_TOKEN === undefined ? {} : { token: e.SENDER_TOKEN }),
      ...(e.SENDER_NAME === undefined ? {} : { name: e.SENDER_NAME }),
      ...(e.BITRATE === undefined ? {} : { bitrateKbps: e.BITRATE }),
      ...(e.KEYFRAME_INTERVAL === undefined ? {} : { keyframeIntervalSec: e.KEYFRAME_INTERVAL }),
      ...(e.MAX_VIEWERS === undefined ? {} : { maxSessions: e.MAX_VIEWERS }),
      peer: {
        ...(iceServers === undefined ? {} : { iceServers }),
        ...(e.RTC_PORT_RANGE === undefined ? {} : { icePortRange: e.RTC_PORT_RANGE }),
        ...(e.ANNOUNCED_IPS === undefined ? {} : { announcedAddresses: e.ANNOUNCED_IPS }),
      },
    },
  };
}
