/**
 * Errors of @robocam/capture-v4l2. Each is a `RobocamError` (from `@robocam/types`) with a stable
 * kebab-case `code`, the `device` it concerns and a message that says what to do about it. Calling
 * a closed camera throws `@robocam/types`' `InvalidStateError` (`invalid-state`).
 */
import { RobocamError } from '@robocam/types';

/** Machine-readable error codes, one per error class. */
export type CaptureErrorCode =
  | 'device-not-found'
  | 'permission-denied'
  | 'device-busy'
  | 'unsupported-mode'
  | 'not-a-capture-device'
  | 'device-lost'
  | 'invalid-settings'
  | 'capture-failed';

/** Base class of the device errors this library throws. */
export class CaptureError extends RobocamError {
  declare readonly code: CaptureErrorCode;
  /** The device node concerned, when there is one. */
  readonly device: string | undefined;
  /** The system error behind it, e.g. `EBUSY`, when there is one. */
  readonly errno: string | undefined;

  constructor(code: CaptureErrorCode, message: string, device?: string, errno?: string) {
    super(code, message);
    this.device = device;
    this.errno = errno;
  }
}

/** The device node does not exist (ENOENT), or exists without a driver behind it (ENODEV/ENXIO). */
export class DeviceNotFoundError extends CaptureError {
  constructor(
    device: string,
    { errno = 'ENOENT', videoNodes = [] }: { errno?: string; videoNodes?: readonly string[] } = {},
  ) {
    // ENODEV/ENXIO come from opening a node that exists, so listing it as "present" would read as a
    // contradiction: say what is wrong with it, and list only the other nodes.
    const nodeExists = errno === 'ENODEV' || errno === 'ENXIO';
    const others = videoNodes.filter((node) => node !== device && !node.startsWith(`${device} `));
    const present = nodeExists
      ? others.length === 0
        ? 'no other /dev/video* nodes are present'
        : `other video nodes present: ${others.join(', ')}`
      : videoNodes.length === 0
        ? 'no /dev/video* nodes are present'
        : `video nodes present: ${videoNodes.join(', ')}`;
    const what = nodeExists
      ? 'the node exists but no device answers behind it (unplugged, or its driver is not ready yet)'
      : 'check that it is plugged in and powered';
    super(
      'device-not-found',
      `camera ${device} not found (${errno}): ${what} (\`ls -l /dev/video*\`; prefer a stable path from /dev/v4l/by-id/), and in a container pass it with --device ${device}; ${present}`,
      device,
      errno,
    );
  }
}

/** The process may not open the device (EACCES/EPERM). */
export class PermissionDeniedError extends CaptureError {
  /** Name (or number) of the group owning the device node, usually `video`. */
  readonly group: string;

  constructor(
    device: string,
    { errno = 'EACCES', group = 'video' }: { errno?: string; group?: string } = {},
  ) {
    super(
      'permission-denied',
      `permission denied opening ${device} (${errno}): the device belongs to group "${group}"; add the user to the ${group} group: sudo usermod -aG ${group} $USER (then log in again), or run the container with --group-add ${group}`,
      device,
      errno,
    );
    this.group = group;
  }
}

/** Another process is capturing from the device (EBUSY). */
export class DeviceBusyError extends CaptureError {
  constructor(device: string) {
    super(
      'device-busy',
      `camera ${device} is busy (EBUSY): another process or camera object is capturing from it; find it with \`fuser -v ${device}\` (or \`lsof ${device}\`) and stop it, or use another camera`,
      device,
      'EBUSY',
    );
  }
}

/** The device cannot capture the requested format or size. */
export class UnsupportedModeError extends CaptureError {
  /** What was asked, e.g. `mjpeg 1280x720@30`. */
  readonly requested: string;
  /** The modes the device offers, one line per format, e.g. `yuyv422: 640x480@30, 1280x720@10`. */
  readonly supported: readonly string[];

  constructor(device: string, requested: string, reason: string, supported: readonly string[]) {
    const shown = supported.slice(0, 8);
    const more =
      supported.length > shown.length ? `; and ${supported.length - shown.length} more formats` : '';
    const list = shown.length === 0 ? 'no capturable formats' : `${shown.join('; ')}${more}`;
    super(
      'unsupported-mode',
      `${device} cannot capture ${requested}: ${reason}. Supported modes: ${list}. Ask for one of those, or use format "auto"`,
      device,
    );
    this.requested = requested;
    this.supported = supported;
  }
}

/** The node exists but is not a video capture node (e.g. a UVC metadata node). */
export class NotACaptureDeviceError extends CaptureError {
  constructor(device: string, captureNodes: readonly string[] = []) {
    const nodes = captureNodes.length === 0 ? 'none found' : captureNodes.join(', ');
    super(
      'not-a-capture-device',
      `${device} is not a video capture node (no video capture formats: UVC cameras and vivid add a metadata node next to each capture node); capture nodes: ${nodes}`,
      device,
    );
  }
}

/** The device failed while streaming: unplugged, reset, or a fatal driver error. */
export class DeviceLostError extends CaptureError {
  constructor(device: string, cause: string, errno?: string) {
    super(
      'device-lost',
      `camera ${device} was lost while streaming (${cause}): unplugged, reset or failing; reopening automatically`,
      device,
      errno,
    );
  }
}

/** A settings value is out of range or unknown. */
export class InvalidSettingsError extends CaptureError {
  constructor(message: string) {
    super('invalid-settings', message);
  }
}

/**
 * Whether retrying later can help: the device may appear (not found), be released (busy), get its
 * permissions fixed, or come back (lost). Unsupported modes and wrong nodes need a config change.
 */
export function isRecoverableError(error: unknown): boolean {
  if (
    error instanceof DeviceNotFoundError ||
    error instanceof PermissionDeniedError ||
    error instanceof DeviceBusyError ||
    error instanceof DeviceLostError
  ) {
    return true;
  }
  return error instanceof CaptureFailedError && error.errno !== 'EINVAL';
}

/** Anything else FFmpeg or the kernel reported. */
export class CaptureFailedError extends CaptureError {
  constructor(device: string, operation: string, detail: string, errno?: string) {
    super('capture-failed', `${operation} ${device} failed: ${detail}`, device, errno);
  }
}
