/**
 * Options for FFmpeg's v4l2 demuxer (libavdevice/v4l2.c) for a planned mode.
 */
import type { PlannedMode } from './mode-negotiation.js';

/** The v4l2 demuxer options, as strings, for `avformat_open_input`. */
export interface V4l2InputOptions {
  /** `WIDTHxHEIGHT`; the driver may adjust it (FFmpeg then logs and uses the driver's size). */
  video_size: string;
  /** Frames per second (decimal); the driver picks the nearest interval it supports. */
  framerate?: string;
  /** `mjpeg` or a raw pixel format name; absent to let FFmpeg take the first format the device offers. */
  input_format?: string;
  /**
   * `default`: packets carry the driver's own timestamps (CLOCK_MONOTONIC µs for almost all
   * drivers); {@link TimestampMapper} maps them to wall-clock time itself. (`mono2abs` would run
   * them through FFmpeg's smoothing filter, which needs the rate to settle and hides the clock.)
   */
  ts: 'default';
}

/** Builds the demuxer options that ask for `mode`. */
export function buildInputOptions(mode: PlannedMode): V4l2InputOptions {
  return {
    video_size: `${mode.captureWidth}x${mode.captureHeight}`,
    ...(mode.fps > 0 ? { framerate: formatRate(mode.fps) } : {}),
    ...(mode.pixelFormat === '' ? {} : { input_format: mode.pixelFormat }),
    ts: 'default',
  };
}

function formatRate(fps: number): string {
  return Number.isInteger(fps) ? String(fps) : String(Math.round(fps * 1000) / 1000);
}
