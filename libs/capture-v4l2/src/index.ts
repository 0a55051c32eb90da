/**
 * @robocam/capture-v4l2 — V4L2 camera capture through node-av: discover cameras, open one at the
 * closest mode it offers, receive I420 frames with capture timestamps, survive unplugging.
 */
export { V4l2Camera, openCamera, type V4l2CameraEvents, type V4l2CameraSettings } from './v4l2-camera.js';
export { listDevices, getDeviceInfo, type DiscoverySettings } from './device-discovery.js';
export {
  CaptureError,
  CaptureFailedError,
  DeviceBusyError,
  DeviceLostError,
  DeviceNotFoundError,
  InvalidSettingsError,
  NotACaptureDeviceError,
  PermissionDeniedError,
  UnsupportedModeError,
  isRecoverableError,
  type CaptureErrorCode,
} from './errors.js';
export type { CaptureBackend, CaptureStream, CapturedPacket, OpenedMode } from './capture-backend.js';
export type { TypedEventEmitter, EventMap } from './typed-emitter.js';
// The shared vocabulary this package speaks, re-exported for convenience.
export { InvalidStateError } from '@robocam/types';
export type { CameraStatus, Logger, RawVideoFrame } from '@robocam/types';
export type {
  CaptureFormat,
  CaptureMode,
  DiscoveryMethod,
  V4l2Bus,
  V4l2CameraStats,
  V4l2DeviceInfo,
  V4l2FormatInfo,
  V4l2FrameSize,
  V4l2SizeRange,
} from './types.js';
