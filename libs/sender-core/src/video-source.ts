import type { CameraStatus, RawVideoFrame } from '@robocam/types';
import type * as TypedEmitterModule from 'typed-emitter';

export type VideoSourceEvents = {
  /** A captured frame; `data` is the source's buffer, valid for a few frames: copy what you keep. */
  frame: (frame: RawVideoFrame) => void;
  /** The status changed; `detail` says why (e.g. "device unplugged"). */
  status: (status: CameraStatus, detail?: string) => void;
};

/**
 * A camera or a generator. Sources push frames as they are captured and never queue: when a
 * consumer is slow, the consumer drops frames (latest frame wins). Every frame carries both
 * capture times of {@link RawVideoFrame}: `timestampMs` (wall clock) and `monotonicMs`
 * (`performance.now()`'s timeline).
 */
export interface VideoSource extends TypedEmitterModule.default<VideoSourceEvents> {
  /** What kind of source this is, e.g. `testpattern` or `v4l2`. */
  readonly kind: string;
  /** Width of the frames, in pixels. */
  readonly width: number;
  /** Height of the frames, in pixels. */
  readonly height: number;
  /** Frames per second. */
  readonly fps: number;
  /** `idle` stopped, `live` delivering frames, `lost` lost its device and trying to recover. */
  readonly status: CameraStatus;
  /** Starts producing frames. Idempotent. */
  start(): Promise<void>;
  /** Stops producing frames and releases the device; `start()` may be called again. Idempotent. */
  stop(): Promise<void>;
}
