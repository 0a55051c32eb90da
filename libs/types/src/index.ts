/**
 * @robocam/types — the vocabulary every robocam package shares, in one dependency-free package
 * that runs in Node and in browsers: the raw video frame, codecs and camera status, the logger
 * interface, the error base with its `code`, retry backoff and the close lifecycle.
 */
export { i420ByteLength } from './frame.js';
export type { RawVideoFrame } from './frame.js';
export { CAMERA_STATUSES, RTP_VIDEO_CLOCK_RATE_HZ, VIDEO_CODECS } from './media.js';
export type { CameraStatus, VideoCodec } from './media.js';
export { childLogger, silentLogger } from './logger.js';
export type { Logger } from './logger.js';
export { InvalidStateError, RobocamError, TimeoutError, errorMessage } from './errors.js';
export { Backoff, backoffDelay } from './backoff.js';
export type { BackoffSettings } from './backoff.js';
export { CloseOnce } from './lifecycle.js';
export type { CloseInfo, CloseOrigin, Closable } from './lifecycle.js';
