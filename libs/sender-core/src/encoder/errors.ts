/**
 * Errors of the encoder stage. Each extends `RobocamError` with a stable kebab-case `code` to switch
 * on. This file imports nothing from the rest of the encoder, so every other encoder file may
 * import it.
 */
import { InvalidStateError, RobocamError, type VideoCodec } from '@robocam/types';

/** One encoder implementation that was tried and why it could not be used. */
export interface EncoderAttempt {
  /** FFmpeg encoder name, e.g. `'h264_vaapi'`. */
  readonly implementation: string;
  /** Human-readable reason (FFmpeg error text, "not compiled in", ...). */
  readonly reason: string;
}

/**
 * `encoder-unavailable`: no implementation of the requested codec could be opened: an explicitly
 * requested hardware encoder that is missing or fails to open and encode a test frame, a hardware
 * preference for VP8 (there is no supported VP8 hardware path), or (unlikely) a missing software
 * encoder.
 */
export class EncoderUnavailableError extends RobocamError {
  /** The codec asked for. */
  readonly codec: VideoCodec;
  /** The `EncoderPreference` asked for (`'auto'`, `'software'`, `'vaapi'`, ...). */
  readonly requested: string;
  /** Every implementation tried, with the reason it was not usable. */
  readonly attempts: readonly EncoderAttempt[];

  constructor(codec: VideoCodec, requested: string, attempts: readonly EncoderAttempt[], detail?: string) {
    const tried = attempts.map((a) => `${a.implementation}: ${a.reason}`).join('; ');
    super(
      'encoder-unavailable',
      `No usable ${codec} encoder for preference '${requested}'` +
        (detail ? `: ${detail}` : '') +
        (tried ? ` (tried ${tried})` : ''),
    );
    this.codec = codec;
    this.requested = requested;
    this.attempts = attempts;
  }
}

/**
 * `encoder-closed`: encode() after close(). An `InvalidStateError` (calling a closed object), with
 * its own code.
 */
export class EncoderClosedError extends InvalidStateError {
  override readonly code = 'encoder-closed';

  constructor() {
    super('The encoder is closed');
  }
}

/**
 * `encoder-busy`: encode() while a previous encode() is still running. Callers are expected to
 * check `encoder.busy` and drop the frame instead ("latest frame wins").
 */
export class EncoderBusyError extends RobocamError {
  constructor() {
    super('encoder-busy', 'The encoder is still encoding the previous frame; drop this frame or wait');
  }
}

/** `invalid-encoder-settings`: invalid encoder settings, keyframe settings or bitrate. */
export class InvalidEncoderSettingsError extends RobocamError {
  constructor(message: string) {
    super('invalid-encoder-settings', message);
  }
}

/** `invalid-frame`: a frame that does not match the encoder (size, data length, timestamps). */
export class InvalidFrameError extends RobocamError {
  constructor(message: string) {
    super('invalid-frame', message);
  }
}

/** `encode-failed`: FFmpeg failed while encoding; `cause` holds the FFmpeg error. */
export class EncodeFailedError extends RobocamError {
  constructor(message: string, options?: ErrorOptions) {
    super('encode-failed', message, options);
  }
}
