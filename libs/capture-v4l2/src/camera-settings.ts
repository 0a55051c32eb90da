/**
 * {@link V4l2CameraSettings}: what a camera is asked for, its defaults, and their validation.
 */
import { silentLogger, type BackoffSettings, type Logger } from '@robocam/types';
import type { CaptureBackend } from './capture-backend.js';
import { InvalidSettingsError } from './errors.js';
import type { ModeRequest } from './mode-negotiation.js';
import { normalizeFormat } from './pixel-formats.js';
import type { CaptureFormat, DiscoveryMethod } from './types.js';

/**
 * Reopen delays after a loss: 250, 500, 1000, 2000, 4000, 5000, 5000… ms by default. No jitter:
 * the device is local to this process, so there is no crowd of clients to spread out (jitter is for
 * reconnects to a shared server), and a camera replugged mid-wait comes back on a predictable
 * schedule.
 */
const REOPEN_BACKOFF = { factor: 2, jitter: 0 } as const;

export interface V4l2CameraSettings {
  /** Device node; a stable link such as `/dev/v4l/by-id/usb-…-video-index0` survives replugging. Default `/dev/video0`. */
  device?: string;
  /** Requested frame width; the output size once negotiated (see {@link V4l2Camera.width}). Default 1280. */
  width?: number;
  /** Requested frame height. Default 720. */
  height?: number;
  /** Requested frames per second; the driver's nearest rate is used. Default 30. */
  fps?: number;
  /** Capture format. Default `auto`: MJPEG above {@link mjpegAbovePixels} on USB cameras, raw otherwise. */
  format?: CaptureFormat;
  /**
   * Whether another capture size may be used and scaled to the requested size. When false the
   * device must offer the requested size exactly, else {@link UnsupportedModeError}. Default true.
   */
  allowScaling?: boolean;
  /** In `auto`, USB cameras use MJPEG for frames larger than this many pixels. Default 307200 (640x480). */
  mjpegAbovePixels?: number;
  /** I420 output buffers in rotation: a frame's `data` stays valid while `poolSize - 1` more frames are emitted. Default 4. */
  poolSize?: number;
  /** Captured frames kept waiting while one is converted; older ones are dropped. Default 1. */
  queueSize?: number;
  /** No frame for this long while streaming reports `lost` ("stalled"). Default 2000 ms or 5 frame intervals, whichever is longer. */
  stallTimeoutMs?: number;
  /** First delay before reopening a lost device; doubles up to {@link reopenMaxDelayMs}. Default 250 ms. */
  reopenDelayMs?: number;
  /** Longest delay between reopen attempts. Default 5000 ms. */
  reopenMaxDelayMs?: number;
  /** Where discovery reads formats from (see {@link DiscoverySettings}). Default `auto`. */
  discovery?: DiscoveryMethod;
  /** Replaces node-av (tests, other capture stacks). Default: node-av. */
  backend?: CaptureBackend;
  /**
   * Where losses, reopens, mode changes and errors are logged (pino's signature; pass the app's
   * logger or a child of it). Default `silentLogger`.
   */
  logger?: Logger;
}

/** {@link V4l2CameraSettings} with defaults applied and checked. */
export interface ResolvedCameraSettings {
  device: string;
  /** What negotiation asks the device for (the output size is fixed per negotiation). */
  request: Omit<ModeRequest, 'fixedOutput' | 'excludeUnknown'>;
  poolSize: number;
  queueSize: number;
  stallTimeoutMs: number;
  reopenBackoff: BackoffSettings;
  discovery: DiscoveryMethod;
  backend: CaptureBackend | undefined;
  logger: Logger;
}

/** Applies the defaults and validates; throws {@link InvalidSettingsError}. */
export function resolveCameraSettings({
  device = '/dev/video0',
  width = 1280,
  height = 720,
  fps = 30,
  format = 'auto',
  allowScaling = true,
  mjpegAbovePixels = 640 * 480,
  poolSize = 4,
  queueSize = 1,
  stallTimeoutMs,
  reopenDelayMs = 250,
  reopenMaxDelayMs = 5000,
  discovery = 'auto',
  backend,
  logger = silentLogger,
}: V4l2CameraSettings): ResolvedCameraSettings {
  if (typeof device !== 'string' || device === '')
    throw new InvalidSettingsError('camera device must be a path such as /dev/video0');
  const integer = (name: string, value: number, min: number, max: number): void => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InvalidSettingsError(`camera ${name} must be an integer from ${min} to ${max}, got ${value}`);
    }
  };
  integer('width', width, 16, 8192);
  integer('height', height, 16, 8192);
  integer('poolSize', poolSize, 2, 64);
  integer('queueSize', queueSize, 1, 64);
  integer('mjpegAbovePixels', mjpegAbovePixels, 0, 8192 * 8192);
  if (!Number.isFinite(fps) || fps <= 0 || fps > 240)
    throw new InvalidSettingsError(`camera fps must be above 0 and at most 240, got ${fps}`);
  const stall = stallTimeoutMs ?? Math.max(2000, 5000 / fps);
  if (!Number.isFinite(stall) || stall < 100)
    throw new InvalidSettingsError(`camera stallTimeoutMs must be at least 100, got ${stall}`);
  if (!(reopenDelayMs > 0) || !(reopenMaxDelayMs >= reopenDelayMs)) {
    throw new InvalidSettingsError(
      `camera reopen delays must satisfy 0 < reopenDelayMs (${reopenDelayMs}) ≤ reopenMaxDelayMs (${reopenMaxDelayMs})`,
    );
  }
  return {
    device,
    request: { width, height, fps, format: normalizeFormat(format), allowScaling, mjpegAbovePixels },
    poolSize,
    queueSize,
    stallTimeoutMs: stall,
    reopenBackoff: { initialDelayMs: reopenDelayMs, maxDelayMs: reopenMaxDelayMs, ...REOPEN_BACKOFF },
    discovery,
    backend,
    logger,
  };
}
