/**
 * Turns what the system reports (Node `err.code` strings, FFmpeg's negative AVERROR numbers) into
 * this library's typed errors.
 */
import {
  CaptureFailedError,
  DeviceBusyError,
  DeviceLostError,
  DeviceNotFoundError,
  PermissionDeniedError,
  type CaptureError,
} from './errors.js';

/** Linux errno numbers FFmpeg returns negated as AVERROR(e). */
const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM',
  2: 'ENOENT',
  4: 'EINTR',
  5: 'EIO',
  6: 'ENXIO',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  16: 'EBUSY',
  19: 'ENODEV',
  22: 'EINVAL',
  24: 'EMFILE',
  28: 'ENOSPC',
  32: 'EPIPE',
  38: 'ENOSYS',
  71: 'EPROTO',
  110: 'ETIMEDOUT',
};

/** FFmpeg's own error codes (FFERRTAG) that matter for capture. */
const AVERROR_EOF = -0x20464f45; // MKTAG('E','O','F',' ')
const AVERROR_EXIT = -0x54495845; // MKTAG('E','X','I','T')
const AVERROR_INVALIDDATA = -0x41444e49; // MKTAG('I','N','D','A')

/** Name of an FFmpeg return code: `EBUSY`, `EOF`, `INVALIDDATA`, or `AVERROR(-n)`. */
export function avErrorName(code: number): string {
  if (code === AVERROR_EOF) return 'EOF';
  if (code === AVERROR_EXIT) return 'EXIT';
  if (code === AVERROR_INVALIDDATA) return 'INVALIDDATA';
  return ERRNO_NAMES[-code] ?? `AVERROR(${code})`;
}

/** What kind of failure an errno name stands for. */
export type FailureKind = 'not-found' | 'permission' | 'busy' | 'gone' | 'invalid' | 'other';

/** Classifies an errno name (`ENOENT`…) or FFmpeg error name (`EOF`…). */
export function classifyErrno(errno: string): FailureKind {
  switch (errno) {
    case 'ENOENT':
      return 'not-found';
    case 'EACCES':
    case 'EPERM':
      return 'permission';
    case 'EBUSY':
      return 'busy';
    case 'ENODEV':
    case 'ENXIO':
    case 'EIO':
    case 'EPIPE':
    case 'EPROTO':
    case 'ETIMEDOUT':
    case 'EOF':
      return 'gone';
    case 'EINVAL':
      return 'invalid';
    default:
      return 'other';
  }
}

/** Context that makes open errors actionable. */
export interface OpenErrorContext {
  /** Video nodes present (for "not found"), e.g. `/dev/video2 (HD Webcam)`. */
  videoNodes?: readonly string[];
  /** Group owning the device (for "permission denied"). */
  group?: string;
  /** Readable text of the system error, e.g. "Device or resource busy". */
  text?: string;
}

/**
 * The typed error for a failure to open `device` (before streaming). ENODEV/ENXIO at open mean the
 * node exists without a device behind it (unplugged, driver gone): reported as not found.
 */
export function openError(device: string, errno: string, context: OpenErrorContext = {}): CaptureError {
  switch (classifyErrno(errno)) {
    case 'not-found':
      return new DeviceNotFoundError(device, {
        errno,
        ...(context.videoNodes ? { videoNodes: context.videoNodes } : {}),
      });
    case 'permission':
      return new PermissionDeniedError(device, {
        errno,
        ...(context.group === undefined ? {} : { group: context.group }),
      });
    case 'busy':
      return new DeviceBusyError(device);
    case 'gone':
      if (errno === 'ENODEV' || errno === 'ENXIO') {
        return new DeviceNotFoundError(device, {
          errno,
          ...(context.videoNodes ? { videoNodes: context.videoNodes } : {}),
        });
      }
      return new CaptureFailedError(
        device,
        'opening',
        `${errno}${context.text ? `: ${context.text}` : ''}`,
        errno,
      );
    default:
      return new CaptureFailedError(
        device,
        'opening',
        `${errno}${context.text ? `: ${context.text}` : ''}`,
        errno,
      );
  }
}

/**
 * The typed error for a read failure while streaming. Anything but EAGAIN/EINTR ends the stream:
 * the device is treated as lost and reopened.
 */
export function streamError(device: string, errno: string, text?: string): DeviceLostError {
  const cause =
    errno === 'EOF' ? 'the stream ended' : `${errno}${text === undefined || text === '' ? '' : `: ${text}`}`;
  return new DeviceLostError(device, cause, errno === 'EOF' ? undefined : errno);
}

/** Node's `err.code` of a failed fs call, or undefined. */
export function nodeErrorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    return typeof error.code === 'string' ? error.code : undefined;
  }
  return undefined;
}
