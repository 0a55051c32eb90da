/**
 * A ring of preallocated I420 buffers. Conversion writes into {@link current}; {@link commit}
 * moves on once the frame was emitted. Frame N's buffer is written again for frame N + size, so a
 * consumer may keep a frame's bytes while `size - 1` further frames are emitted.
 */
export class FramePool {
  readonly width: number;
  readonly height: number;
  /** Bytes per frame: `width * height * 3 / 2`. */
  readonly frameBytes: number;
  readonly #buffers: Uint8Array[];
  #next = 0;

  constructor(width: number, height: number, size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`pool size must be an integer ≥ 1, got ${size}`);
    if (width % 2 !== 0 || height % 2 !== 0)
      throw new RangeError(`I420 needs even sizes, got ${width}x${height}`);
    this.width = width;
    this.height = height;
    this.frameBytes = (width * height * 3) / 2;
    this.#buffers = Array.from({ length: size }, () => new Uint8Array(this.frameBytes));
  }

  get size(): number {
    return this.#buffers.length;
  }

  /** The buffer the next frame is written into (the same until {@link commit}). */
  current(): Uint8Array {
    return this.#buffers[this.#next] as Uint8Array;
  }

  /** Marks the current buffer as handed out; the next frame uses the following one. */
  commit(): void {
    this.#next = (this.#next + 1) % this.#buffers.length;
  }
}
