export { V4l2Camera, openCamera, type V4l2CameraEvents, type V4l2CameraSettings } from './v4l2-camera.js';
export { listDevices, getDeviceInfo, type DiscoverySettings } from './device-discovery.js';
export {
  CaptureError,
  CaptureFailedError,
  DeviceBusyError,
  DeviceLostError,
  DeviceNotFoundError,
  InvalidSettingsError,
  InvalidStateError,
  NotACaptureDeviceError,
  PermissionDeniedError,
  UnsupportedModeError,
  isRecoverableError,
  type CaptureErrorCode,
} from './errors.js';
export {
  negotiateMode,
  outputSizeFor,
  chooseFps,
  describeFormats,
  type ModeRequest,
  type PlannedMode,
} from './mode-negotiation.js';
export { buildInputOptions, type V4l2InputOptions } from './ffmpeg-options.js';
export { parseV4l2CtlFormats, parseV4l2CtlInfo, type V4l2CtlInfo } from './v4l2-ctl.js';
export { DropOldestQueue } from './drop-oldest-queue.js';
export { FramePool } from './frame-pool.js';
export { Backoff, type BackoffSettings } from './backoff.js';
export { TimestampMapper, monotonicNowUs, type TimestampClock } from './timestamp-mapper.js';
export type { CaptureBackend, CaptureStream, CapturedPacket, OpenedMode } from './capture-backend.js';
export type { TypedEventEmitter, EventMap } from './typed-emitter.js';
export type {
  CameraStatus,
  CaptureFormat,
  CaptureMode,
  DiscoveryMethod,
  V4l2Bus,
  V4l2CameraStats,
  V4l2DeviceInfo,
  V4l2FormatInfo,
  V4l2Frame,
  V4l2FrameSize,
  V4l2SizeRange,
} from './types.js';
