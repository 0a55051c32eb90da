import { AV_LOG_DEBUG, AV_LOG_ERROR, AV_LOG_INFO, AV_LOG_QUIET, AV_LOG_WARNING } from 'node-av/constants';
import { Log } from 'node-av/lib';

/** How much FFmpeg itself prints to stderr (process-wide). */
export type FfmpegLogLevel = 'quiet' | 'error' | 'warning' | 'info' | 'debug';

const LEVELS = {
  quiet: AV_LOG_QUIET,
  error: AV_LOG_ERROR,
  warning: AV_LOG_WARNING,
  info: AV_LOG_INFO,
  debug: AV_LOG_DEBUG,
} as const;

/**
 * Sets FFmpeg's own log level. FFmpeg writes straight to stderr (e.g. a libvpx banner for every
 * encoder, probe failures of absent hardware encoders), bypassing the app's structured logs;
 * apps usually want only its errors. The setting is global to the process.
 */
export function setFfmpegLogLevel(level: FfmpegLogLevel): void {
  Log.setLevel(LEVELS[level]);
}
