/**
 * Frame skipping when the encoder cannot get down to its target. Congestion control lowers the
 * target, but below some rate an encoder stops following: libvpx at 1280x720 on the camera-like
 * test pattern makes ~740 kbit/s at its coarsest quantizer whatever target it is given (300 and
 * 400 kbit/s gave identical output; 2 temporal layers ~800), so on a 400 kbit/s link every frame
 * it makes is too many bits. The only thing left is fewer frames: a leaky bucket drains at the
 * target rate, every encoded frame fills it, and while it holds more than `maxDebtMs` of the
 * target the next input frame is not encoded (libwebrtc's media optimization drops frames the
 * same way). An encoder that meets its target never lets the bucket fill that far, so nothing is
 * skipped on a good link; a keyframe's burst (≤ 167 ms of the target, see implementations.ts)
 * stays below the default.
 */
export class EncoderBudget {
  #debtBits = 0;
  #lastMs: number | undefined;
  #consecutiveSkips = 0;
  /** Frames skipped so far. */
  skipped = 0;

  /**
   * @param maxDebtMs encoded bits beyond the target allowed before frames are skipped, as ms of
   *   the target. Default 250 (the pacer's queue bound: more would queue or be dropped there).
   * @param maxConsecutiveSkips at most this many frames in a row are skipped (a 30 fps camera
   *   still shows ~7 fps when the encoder overshoots 4×). Default 3.
   */
  constructor(
    readonly maxDebtMs = 250,
    readonly maxConsecutiveSkips = 3,
  ) {}

  /** Whether to skip the frame at hand rather than encode it. */
  shouldSkip(nowMs: number, targetBps: number): boolean {
    this.#drain(nowMs, targetBps);
    if (
      this.#debtBits <= (targetBps * this.maxDebtMs) / 1000 ||
      this.#consecutiveSkips >= this.maxConsecutiveSkips
    ) {
      this.#consecutiveSkips = 0;
      return false;
    }
    this.#consecutiveSkips += 1;
    this.skipped += 1;
    return true;
  }

  /** Counts an encoded frame's bytes. */
  onEncoded(bytes: number, nowMs: number, targetBps: number): void {
    this.#drain(nowMs, targetBps);
    // Capped: a keyframe made at a high target, or a target that just fell 4×, must not make the
    // next seconds skip frames to pay back bits that are long gone (measured with Chromium behind
    // tbf: uncapped debt kept the camera at 4 fps for 8 s after a squeeze began).
    this.#debtBits = Math.min(this.#debtBits + bytes * 8, (2 * targetBps * this.maxDebtMs) / 1000);
  }

  /** Forget the debt (a new encoder, a new target ceiling). */
  reset(): void {
    this.#debtBits = 0;
    this.#lastMs = undefined;
    this.#consecutiveSkips = 0;
  }

  #drain(nowMs: number, targetBps: number): void {
    const elapsedMs = nowMs - (this.#lastMs ?? nowMs);
    this.#lastMs = nowMs;
    this.#debtBits = Math.max(0, this.#debtBits - (targetBps * Math.max(0, elapsedMs)) / 1000);
  }
}
