/**
 * Errors thrown by the encoder stage ({@link VideoEncoder} in `encoder.ts`). Every error has a
 * stable string `code` to switch on; `instanceof` works as well.
 */
import type { EncoderPreference, VideoCodec } from './encoder.js';

/** Stable codes of {@link EncoderError}s. */
export type EncoderErrorCode =
  /** No encoder implementation could be opened for the requested codec and preference. */
  | 'ERR_ENCODER_UNAVAILABLE'
  /** The encoder was closed. */
  | 'ERR_ENCODER_CLOSED'
  /** encode() was called while the previous encode() had not finished. */
  | 'ERR_ENCODER_BUSY'
  /** Invalid {@link VideoEncoderSettings} or setBitrate() argument. */
  | 'ERR_ENCODER_INVALID_SETTINGS'
  /** The frame passed to encode() does not match the encoder (size, data length, timestamp). */
  | 'ERR_ENCODER_INVALID_FRAME'
  /** FFmpeg reported an error while encoding; see `cause`. */
  | 'ERR_ENCODE_FAILED';

/** Base class of the encoder's errors. */
export class EncoderError extends Error {
  readonly code: EncoderErrorCode;

  constructor(code: EncoderErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One encoder implementation that was tried and why it could not be used. */
export interface EncoderAttempt {
  /** FFmpeg encoder name, e.g. `'h264_vaapi'`. */
  readonly implementation: string;
  /** Human-readable reason (FFmpeg error text, "not compiled in", ...). */
  readonly reason: string;
}

/**
 * No implementation of the requested codec could be opened: an explicitly requested hardware
 * encoder that is missing or fails to open and encode a test frame, a hardware preference for VP8
 * (there is no supported VP8 hardware path), or (unlikely) a missing software encoder.
 */
export class EncoderUnavailableError extends EncoderError {
  readonly codec: VideoCodec;
  readonly requested: EncoderPreference;
  readonly attempts: readonly EncoderAttempt[];

  constructor(
    codec: VideoCodec,
    requested: EncoderPreference,
    attempts: readonly EncoderAttempt[],
    detail?: string,
  ) {
    const tried = attempts.map((a) => `${a.implementation}: ${a.reason}`).join('; ');
    super(
      'ERR_ENCODER_UNAVAILABLE',
      `No usable ${codec} encoder for preference '${requested}'` +
        (detail ? `: ${detail}` : '') +
        (tried ? ` (tried ${tried})` : ''),
    );
    this.codec = codec;
    this.requested = requested;
    this.attempts = attempts;
  }
}

/** encode() after close(). Named like the DOM's `InvalidStateError`. */
export class EncoderClosedError extends EncoderError {
  constructor() {
    super('ERR_ENCODER_CLOSED', 'The encoder is closed');
    this.name = 'InvalidStateError';
  }
}

/**
 * encode() while a previous encode() is still running. Callers are expected to check
 * `encoder.busy` and drop the frame instead ("latest frame wins").
 */
export class EncoderBusyError extends EncoderError {
  constructor() {
    super('ERR_ENCODER_BUSY', 'The encoder is still encoding the previous frame; drop this frame or wait');
  }
}

/** Invalid encoder settings or setBitrate() argument. */
export class InvalidEncoderSettingsError extends EncoderError {
  constructor(message: string) {
    super('ERR_ENCODER_INVALID_SETTINGS', message);
  }
}

/** A frame that does not match the encoder's configuration. */
export class InvalidFrameError extends EncoderError {
  constructor(message: string) {
    super('ERR_ENCODER_INVALID_FRAME', message);
  }
}

/** FFmpeg failed while encoding; `cause` holds the FFmpegError. */
export class EncodeFailedError extends EncoderError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_ENCODE_FAILED', message, options);
  }
}
