import { EventEmitter } from 'node:events';
import { TestPatternGenerator, type TestPatternKind } from '@robocam/testpattern';
import { errorMessage, type CameraStatus } from '@robocam/types';
import type * as TypedEmitterModule from 'typed-emitter';
import { ConfigurationError } from './errors.js';
import type { VideoSource, VideoSourceEvents } from './video-source.js';

export interface TestPatternSourceSettings {
  /** Frame width, even, 160–3840. Default 1280. */
  width?: number;
  /** Frame height, even, 120–2160. Default 720. */
  height?: number;
  /** Frames per second, 1–120. Default 30. */
  fps?: number;
  /** Text drawn on the pattern, e.g. the camera name. Default none. */
  label?: string;
  /**
   * `'bars'`: colour bars, barely moving (encoders use a fraction of their target bitrate);
   * `'busy'`: a panning, noisy camera-like scene (encoders spend about what a real camera costs;
   * ~0.5–1 ms per 720p frame). Both carry the clock and the timecode strip. Default `'bars'`.
   */
  pattern?: TestPatternKind;
}

/**
 * Color bars with motion (or, with `pattern: 'busy'`, a camera-like panning noisy scene), a clock
 * and the timecode strip, paced by a monotonic clock. When the
 * process falls behind (a GC pause, a busy core) it skips the missed frames instead of bursting
 * them out late: a live source never queues.
 */
export class TestPatternSource
  extends (EventEmitter as new () => TypedEmitterModule.default<VideoSourceEvents>)
  implements VideoSource
{
  readonly kind = 'testpattern';
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly #generator: TestPatternGenerator;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #nextDueAt = 0;
  #sequence = 0;
  #status: CameraStatus = 'idle';
  /** Frames skipped because the clock had already passed their slot. */
  framesSkipped = 0;

  constructor({
    width = 1280,
    height = 720,
    fps = 30,
    label,
    pattern = 'bars',
  }: TestPatternSourceSettings = {}) {
    super();
    if (!Number.isFinite(fps) || fps < 1 || fps > 120) {
      throw new ConfigurationError(`test pattern fps must be between 1 and 120, got ${fps}`);
    }
    try {
      // Frames stay in the encoder for at most one encode; 4 buffers leave ample headroom.
      this.#generator = new TestPatternGenerator({
        width,
        height,
        poolSize: 4,
        pattern,
        ...(label === undefined ? {} : { label }),
      });
    } catch (error) {
      throw new ConfigurationError(
        `invalid test pattern (${width}x${height}, ${pattern}): ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
    this.width = width;
    this.height = height;
    this.fps = fps;
    this.#intervalMs = 1000 / fps;
  }

  get status(): CameraStatus {
    return this.#status;
  }

  start(): Promise<void> {
    if (this.#timer !== undefined) return Promise.resolve();
    this.#nextDueAt = performance.now();
    this.#setStatus('live');
    this.#schedule();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#setStatus('idle');
    return Promise.resolve();
  }

  #schedule(): void {
    const delay = Math.max(0, this.#nextDueAt - performance.now());
    this.#timer = setTimeout(() => {
      this.#tick();
    }, delay);
  }

  #tick(): void {
    const now = performance.now();
    const late = now - this.#nextDueAt;
    if (late >= this.#intervalMs) {
      const missed = Math.floor(late / this.#intervalMs);
      this.framesSkipped += missed;
      this.#nextDueAt += missed * this.#intervalMs;
    }
    // Both clocks of the frame are read at generation: `now` is its monotonic capture time.
    const frame = this.#generator.next({
      timestampMs: Date.now(),
      counter: this.#sequence,
      monotonicMs: now,
    });
    this.#nextDueAt += this.#intervalMs;
    this.emit('frame', {
      data: frame.data,
      width: frame.width,
      height: frame.height,
      timestampMs: frame.timestampMs,
      monotonicMs: frame.monotonicMs,
      sequence: this.#sequence,
    });
    this.#sequence += 1;
    if (this.#timer !== undefined) this.#schedule();
  }

  #setStatus(status: CameraStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.emit('status', status);
  }
}
