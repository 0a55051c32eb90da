import { TestPatternGenerator } from '@robocam/testpattern';
import type { RawVideoFrame } from '@robocam/types';

/**
 * What viewers see while a camera is lost: the test pattern with "LOST" and the seconds since the
 * loss on its label line (redrawn once a second), at the camera's size and rate, so the stream
 * keeps running, the encoder keeps its settings and the picture says what happened instead of
 * freezing on the last frame.
 */
export class LostCameraCard {
  readonly #camera: { readonly width: number; readonly height: number; readonly fps: number };
  readonly #label: string;
  readonly #onFrame: (frame: RawVideoFrame) => void;
  #generator: TestPatternGenerator | undefined;
  #generatorSecond = -1;
  #timer: NodeJS.Timeout | undefined;
  #lostAt = 0;
  #sequence = 0;

  /** `camera` is read at each start: a camera may settle its size only when it first opens. */
  constructor(
    camera: { readonly width: number; readonly height: number; readonly fps: number },
    label: string,
    onFrame: (frame: RawVideoFrame) => void,
  ) {
    this.#camera = camera;
    this.#label = label.toUpperCase();
    this.#onFrame = onFrame;
  }

  get showing(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#lostAt = Date.now();
    this.#timer = setInterval(
      () => {
        this.#emit();
      },
      1000 / Math.max(1, Math.min(this.#camera.fps, 30)),
    );
    this.#emit();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#generator = undefined;
    this.#generatorSecond = -1;
  }

  #emit(): void {
    const now = Date.now();
    const second = Math.floor((now - this.#lostAt) / 1000);
    if (this.#generator === undefined || second !== this.#generatorSecond) {
      // The label line is pre-rendered into the static background: a new one per second.
      this.#generator = new TestPatternGenerator({
        width: this.#camera.width,
        height: this.#camera.height,
        label: `LOST ${this.#label} ${second}S`,
        poolSize: 4,
      });
      this.#generatorSecond = second;
    }
    const frame = this.#generator.next({ timestampMs: now, counter: this.#sequence });
    this.#onFrame({
      data: frame.data,
      width: frame.width,
      height: frame.height,
      timestampMs: now,
      monotonicMs: frame.monotonicMs,
      sequence: this.#sequence,
    });
    this.#sequence += 1;
  }
}
