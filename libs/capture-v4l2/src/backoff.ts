/**
 * Delays between reopen attempts: `initialMs`, then multiplied by `factor` up to `maxMs`
 * (250, 500, 1000, 2000, 4000, 5000, 5000… by default).
 */
export interface BackoffSettings {
  /** First delay. Default 250 ms. */
  initialMs?: number;
  /** Longest delay. Default 5000 ms. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  #attempts = 0;

  constructor({ initialMs = 250, maxMs = 5000, factor = 2 }: BackoffSettings = {}) {
    if (!(initialMs > 0) || !(maxMs >= initialMs) || !(factor >= 1)) {
      throw new RangeError(`invalid backoff: initialMs ${initialMs}, maxMs ${maxMs}, factor ${factor}`);
    }
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.factor = factor;
  }

  /** Attempts since the last reset. */
  get attempts(): number {
    return this.#attempts;
  }

  /** The delay before the next attempt; counts the attempt. */
  next(): number {
    const delay = Math.min(this.maxMs, this.initialMs * this.factor ** this.#attempts);
    this.#attempts += 1;
    return delay;
  }

  /** Starts over at `initialMs` (after a success). */
  reset(): void {
    this.#attempts = 0;
  }
}
