import type { VideoCodec } from '@robocam/types';
import { nameCameras, parseCameraList } from './camera-list.js';
import type { EncoderPreference } from './encoder/index.js';
import { ConfigurationError } from './errors.js';
import type { SenderSettings } from './sender.js';
import {
  ConfigError,
  listSchema,
  logLevelSchema,
  portSchema,
  readEnv,
  type LogLevel,
} from '@robocam/service';
import { z } from 'zod';

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
  ICE_TRANSPORT_POLICY: z.enum(['all', 'relay']).default('all'),
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
  CONTROL_TOKEN: z.string().min(1).max(512).optional(),
  CONTROL_ENABLED: z.enum(['true', 'false', '1', '0']).default('true'),
  COMMAND_DEADLINE_MS: z.coerce.number().int().min(10).max(10_000).optional(),
  DEADMAN_MS: z.coerce.number().int().min(100).max(10_000).optional(),
  CONTROL_UDP: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9870')
    .optional(),
  TELEMETRY_UDP_PORT: portSchema.optional(),
  PUBLISH_WHIP: listSchema.optional(),
  PUBLISH_WHIP_TOKEN: z.string().min(1).optional(),
});

/** One camera to publish to a WHIP endpoint (`PUBLISH_WHIP`). */
export interface WhipTarget {
  /** Camera id (the first camera when `PUBLISH_WHIP` names none). */
  camera: string;
  /** The WHIP endpoint URL. */
  url: string;
}

/** The sender service's configuration, as {@link readSenderConfig} reads it from the environment. */
export interface SenderEnvConfig {
  logLevel: LogLevel;
  /**
   * The health endpoint (`/healthz`, `/stats`, `/metrics`, snapshots): `HEALTH_PORT`,
   * `HEALTH_HOST` (default 127.0.0.1) and `METRICS_TOKEN` (required for all but `/healthz` when set).
   */
  health: { port: number; host: string; token?: string };
  /** The UDP bridge to robot software; undefined when neither CONTROL_UDP nor TELEMETRY_UDP_PORT is set. */
  udpBridge: { controlTarget?: string; telemetryPort?: number } | undefined;
  sender: Omit<SenderSettings, 'logger'>;
  /** Cameras to publish to WHIP endpoints (`PUBLISH_WHIP`); empty when unset. */
  publish: WhipTarget[];
  /** Bearer token for every WHIP endpoint (`PUBLISH_WHIP_TOKEN`). */
  publishToken: string | undefined;
}

/**
 * `PUBLISH_WHIP` entries: `camera=url` or a bare `url` (the first camera). Messages never echo
 * the URL: a WHIP URL may carry a secret in its query.
 */
function parseWhipTargets(entries: readonly string[], cameraIds: readonly string[]): WhipTarget[] {
  return entries.map((entry, index) => {
    const named = /^([a-z0-9_-]+)=(.*)$/.exec(entry);
    const camera = named === null ? cameraIds[0] : (named[1] as string);
    const url = named === null ? entry : (named[2] as string);
    const where = `PUBLISH_WHIP entry ${index + 1}`;
    if (!/^https?:\/\/\S+$/i.test(url) || !URL.canParse(url)) {
      throw new ConfigError(
        `invalid configuration:\n  ${where}: must be URL or camera=URL with an http(s) URL`,
      );
    }
    if (camera === undefined || !cameraIds.includes(camera)) {
      throw new ConfigError(
        `invalid configuration:\n  ${where}: no camera "${camera ?? ''}" (cameras: ${cameraIds.join(', ')})`,
      );
    }
    return { camera, url };
  });
}

/**
 * Reads the sender service's configuration from environment variables (the table in the README,
 * "apps/sender"); shared by apps/sender and the one-process apps/robocam.
 *
 * @throws ConfigError naming every invalid variable.
 */
export function readSenderConfig(env: NodeJS.ProcessEnv): SenderEnvConfig {
  const e = readEnv(envSchema, env);
  let cameras;
  try {
    cameras = parseCameraList(e.CAMERAS);
  } catch (error) {
    if (error instanceof ConfigurationError)
      throw new ConfigError(`invalid configuration:\n  CAMERAS: ${error.message}`);
    throw error;
  }
  if (e.ICE_TRANSPORT_POLICY === 'relay' && e.ICE_SERVERS === undefined) {
    throw new ConfigError(
      'invalid configuration:\n  ICE_SERVERS: required with ICE_TRANSPORT_POLICY=relay (the TURN URLs)',
    );
  }
  const iceServers = e.ICE_SERVERS?.map((url) => ({
    urls: url,
    ...(e.ICE_USERNAME === undefined ? {} : { username: e.ICE_USERNAME }),
    ...(e.ICE_CREDENTIAL === undefined ? {} : { credential: e.ICE_CREDENTIAL }),
  }));
  const publish = parseWhipTargets(
    e.PUBLISH_WHIP ?? [],
    nameCameras(cameras).map((camera) => camera.id),
  );
  const udpBridge =
    e.CONTROL_UDP === undefined && e.TELEMETRY_UDP_PORT === undefined
      ? undefined
      : {
          ...(e.CONTROL_UDP === undefined ? {} : { controlTarget: e.CONTROL_UDP }),
          ...(e.TELEMETRY_UDP_PORT === undefined ? {} : { telemetryPort: e.TELEMETRY_UDP_PORT }),
        };
  return {
    logLevel: e.LOG_LEVEL,
    health: {
      port: e.HEALTH_PORT,
      host: e.HEALTH_HOST,
      ...(e.METRICS_TOKEN === undefined ? {} : { token: e.METRICS_TOKEN }),
    },
    udpBridge,
    publish,
    publishToken: e.PUBLISH_WHIP_TOKEN,
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
      control: {
        enabled: e.CONTROL_ENABLED === 'true' || e.CONTROL_ENABLED === '1',
        ...(e.CONTROL_TOKEN === undefined ? {} : { token: e.CONTROL_TOKEN }),
        ...(e.COMMAND_DEADLINE_MS === undefined ? {} : { commandDeadlineMs: e.COMMAND_DEADLINE_MS }),
        ...(e.DEADMAN_MS === undefined ? {} : { deadmanMs: e.DEADMAN_MS }),
      },
      peer: {
        ...(iceServers === undefined ? {} : { iceServers }),
        ...(e.ICE_TRANSPORT_POLICY === 'relay' ? { iceTransportPolicy: 'relay' as const } : {}),
        ...(e.RTC_PORT_RANGE === undefined ? {} : { icePortRange: e.RTC_PORT_RANGE }),
        ...(e.ANNOUNCED_IPS === undefined ? {} : { announcedAddresses: e.ANNOUNCED_IPS }),
      },
    },
  };
}
