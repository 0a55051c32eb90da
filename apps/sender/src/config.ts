import {
  ConfigurationError,
  nameCameras,
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

export interface SenderAppConfig {
  logLevel: LogLevel;
  healthPort: number;
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
  const publish = parseWhipTargets(
    e.PUBLISH_WHIP ?? [],
    nameCameras(cameras).map((camera) => camera.id),
  );
  return {
    logLevel: e.LOG_LEVEL,
    healthPort: e.HEALTH_PORT,
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
      peer: {
        ...(iceServers === undefined ? {} : { iceServers }),
        ...(e.RTC_PORT_RANGE === undefined ? {} : { icePortRange: e.RTC_PORT_RANGE }),
        ...(e.ANNOUNCED_IPS === undefined ? {} : { announcedAddresses: e.ANNOUNCED_IPS }),
      },
    },
  };
}
