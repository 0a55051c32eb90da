/** One ping/pong exchange: local send time, remote time, local receive time (ms since epoch). */
export interface ClockSample {
  t0: number;
  t1: number;
  t2: number;
}

/** What one exchange tells about the remote clock. */
export interface ClockEstimate {
  /** Remote clock minus local clock, in ms: remoteTime ≈ localTime + offsetMs. */
  offsetMs: number;
  /** Round-trip time of the exchange, in ms. */
  rttMs: number;
}

/** NTP's estimate: the remote clock was read halfway through the round trip. */
export function estimateClock({ t0, t1, t2 }: ClockSample): ClockEstimate {
  return { offsetMs: t1 - (t0 + t2) / 2, rttMs: Math.max(0, t2 - t0) };
}

/**
 * Keeps the clock offset of a remote peer from repeated ping/pong samples. The sample with the
 * smallest round trip in the window bounds the error best (its error is at most rtt/2), so it wins
 * over an average that queuing delays would skew.
 */
export class ClockOffsetEstimator {
  readonly #window: ClockEstimate[] = [];

  constructor(
    /** How many recent samples to consider. Default 16. */
    private readonly windowSize = 16,
  ) {}

  /** Adds one exchange and returns the current best estimate. */
  add(sample: ClockSample): ClockEstimate {
    this.#window.push(estimateClock(sample));
    if (this.#window.length > this.windowSize) this.#window.shift();
    return this.best() as ClockEstimate;
  }

  /** The lowest-RTT estimate in the window, or undefined before the first sample. */
  best(): ClockEstimate | undefined {
    let best: ClockEstimate | undefined;
    for (const estimate of this.#window) {
      if (best === undefined || estimate.rttMs < best.rttMs) best = estimate;
    }
    return best;
  }

  /** Forgets all samples, e.g. after the remote peer restarted. */
  reset(): void {
    this.#window.length = 0;
  }
}
