/** Why a keyframe was produced. */
export type KeyframeReason = 'first' | 'join' | 'pli' | 'fir' | 'periodic';

export interface KeyframeSchedulerSettings {
  /**
   * Minimum time between keyframes forced by PLI/FIR, in ms. Default 300: a lossy link makes every
   * viewer send PLIs, and a keyframe per PLI would flood the link with the largest frames there are.
   */
  minIntervalMs?: number;
  /** Monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
}

/**
 * Decides which encoded frame must be a keyframe. Requests are coalesced: many requests before the
 * next frame make one keyframe, and PLI/FIR requests within `minIntervalMs` of the last keyframe
 * are deferred to the first frame after it. A joining viewer is never deferred: it sees nothing
 * until it gets a keyframe.
 */
export class KeyframeScheduler {
  readonly #minIntervalMs: number;
  readonly #now: () => number;
  #pending: KeyframeReason | undefined;
  #notBefore = 0;
  #lastKeyframeAt = Number.NEGATIVE_INFINITY;
  /** Keyframes produced, by reason. */
  readonly produced: Record<KeyframeReason, number> = { first: 0, join: 0, pli: 0, fir: 0, periodic: 0 };
  /** Requests absorbed by an already pending keyframe. */
  coalesced = 0;

  constructor({ minIntervalMs = 300, now = () => performance.now() }: KeyframeSchedulerSettings = {}) {
    this.#minIntervalMs = minIntervalMs;
    this.#now = now;
  }

  /** Asks for a keyframe. */
  request(reason: KeyframeReason): void {
    if (this.#pending !== undefined) {
      this.coalesced += 1;
      // A join upgrades a deferred PLI to "now".
      if (reason === 'join' || reason === 'first') {
        this.#pending = reason;
        this.#notBefore = 0;
      }
      return;
    }
    this.#pending = reason;
    this.#notBefore = reason === 'pli' || reason === 'fir' ? this.#lastKeyframeAt + this.#minIntervalMs : 0;
  }

  /** Called before encoding a frame: the reason if this frame must be a keyframe, else undefined. */
  takeForFrame(): KeyframeReason | undefined {
    if (this.#pending === undefined || this.#now() < this.#notBefore) return undefined;
    const reason = this.#pending;
    this.#pending = undefined;
    return reason;
  }

  /** Called for every keyframe the encoder produced, forced (`reason`) or on its own schedule. */
  keyframeProduced(reason: KeyframeReason = 'periodic'): void {
    this.#lastKeyframeAt = this.#now();
    this.produced[reason] += 1;
  }

  /** Forgets history, e.g. when the encoder restarts (its first frame is a keyframe anyway). */
  reset(): void {
    this.#pending = undefined;
    this.#notBefore = 0;
    this.#lastKeyframeAt = Number.NEGATIVE_INFINITY;
  }
}
