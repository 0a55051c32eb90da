/**
 * One raw video frame as every robocam stage passes it on: I420 (yuv420p) planes packed one after
 * another (Y at `width × height`, then U and V at half width and half height, rounded up), with
 * the moment it was captured on two clocks.
 *
 * Producers: `@robocam/testpattern`'s generator, `@robocam/capture-v4l2`'s cameras, the sender's
 * sources. Consumers: the sender's encoder.
 */
export interface RawVideoFrame {
  /**
   * The I420 bytes, `width * height * 3 / 2` for even sizes. Usually owned by the producer's
   * buffer pool and overwritten a few frames later: copy what you keep.
   */
  readonly data: Uint8Array;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /**
   * Capture time on the wall clock, milliseconds since the Unix epoch (as `Date.now()`). For what
   * must agree with other machines: the timecode strip, RTCP sender reports, latency readouts.
   * It jumps when NTP steps the clock, so never derive media timing (RTP timestamps) from it.
   */
  readonly timestampMs: number;
  /**
   * Capture time on this process's monotonic clock, milliseconds on `performance.now()`'s
   * timeline. Never jumps: media timing (RTP timestamps, frame intervals) derives from it.
   */
  readonly monotonicMs: number;
  /** Frame number from the producer, counting from 0 at its start. */
  readonly sequence: number;
}

/** Bytes of a tightly packed I420 frame of this size (chroma planes rounded up for odd sizes). */
export function i420ByteLength(width: number, height: number): number {
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}
