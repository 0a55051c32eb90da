import type * as TypedEmitterModule from 'typed-emitter';

/**
 * One raw video frame: I420 (yuv420p) planes packed one after another (Y, then U, then V at half
 * width and height), with the moment it was captured.
 */
export interface RawVideoFrame {
  /** The I420 bytes. Valid until the source's next few frames; consumers copy what they keep. */
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** Capture time, milliseconds since the Unix epoch (wall clock, as `Date.now()`). */
  readonly timestampMs: number;
  /**
   * Capture time on `performance.now()`'s monotonic clock, ms: RTP timestamps derive from it.
   * Optional until every source fills it (the camera pipeline times frames without it on arrival).
   */
  readonly monotonicMs?: number;
  /** Frame number from the source, counting from 0 at start. */
  readonly sequence: number;
}

/** How a source is doing: `live` delivers frames, `lost` lost its device and is trying to recover. */
export type SourceStatus = 'idle' | 'live' | 'lost';

export type VideoSourceEvents = {
  frame: (frame: RawVideoFrame) => void;
  /** The status changed; `detail` says why (e.g. "device unplugged"). */
  status: (status: SourceStatus, detail?: string) => void;
};

/**
 * A camera or a generator. Sources push frames as they are captured and never queue: when a
 * consumer is slow, the consumer drops frames (latest frame wins).
 */
export interface VideoSource extends TypedEmitterModule.default<VideoSourceEvents> {
  /** What kind of source this is, e.g. `testpattern` or `v4l2`. */
  readonly kind: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly status: SourceStatus;
  /** Starts producing frames. Idempotent. */
  start(): Promise<void>;
  /** Stops producing frames and releases the device; `start()` may be called again. Idempotent. */
  stop(): Promise<void>;
}
