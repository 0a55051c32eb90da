/**
 * Retry delays, the one implementation robocam uses for every reconnect and reopen: exponential
 * growth from `initialDelayMs` by `factor` up to `maxDelayMs`, minus up to `jitter` × itself at
 * random, so a restarted server is not met by every robot and browser in the same millisecond.
 */
export interface BackoffSettings {
  /** First delay, in ms. Default 250. */
  initialDelayMs?: number;
  /** Longest delay, in ms. Default 10 000. */
  maxDelayMs?: number;
  /** Growth per failed attempt, ≥ 1. Default 2. */
  factor?: number;
  /** Fraction of each delay that is randomized: 0 none, 1 "full jitter". Default 0.5. */
  jitter?: number;
}

/**
 * The delay before retry `attempt` (0-based), in ms. `random` is injectable for deterministic
 * tests. Throws `RangeError` for settings that cannot work (non-positive delays, factor < 1).
 */
export function backoffDelay(
  attempt: number,
  settings: BackoffSettings = {},
  random: () => number = Math.random,
): number {
  const { initialDelayMs, maxDelayMs, factor, jitter } = resolveBackoff(settings);
  const exponential = initialDelayMs * factor ** Math.max(0, attempt);
  const capped = Math.min(maxDelayMs, exponential);
  return Math.round(capped * (1 - jitter * random()));
}

/** A counter of failed attempts that hands out {@link backoffDelay}s; `reset()` after a success. */
export class Backoff {
  readonly settings: Readonly<Required<BackoffSettings>>;
  readonly #random: () => number;
  #attempts = 0;

  constructor(settings: BackoffSettings = {}, random: () => number = Math.random) {
    this.settings = resolveBackoff(settings);
    this.#random = random;
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.#attempts;
  }

  /** The delay before the next attempt, in ms; counts the attempt. */
  next(): number {
    const delay = backoffDelay(this.#attempts, this.settings, this.#random);
    this.#attempts += 1;
    return delay;
  }

  /** Starts over at `initialDelayMs` (after a success). */
  reset(): void {
    this.#attempts = 0;
  }
}

function resolveBackoff({
  initialDelayMs = 250,
  maxDelayMs = 10_000,
  factor = 2,
  jitter = 0.5,
}: BackoffSettings): Required<BackoffSettings> {
  if (
    !(initialDelayMs > 0) ||
    !(maxDelayMs >= initialDelayMs) ||
    !(factor >= 1) ||
    !(jitter >= 0 && jitter <= 1)
  ) {
    throw new RangeError(
      `invalid backoff: initialDelayMs ${initialDelayMs}, maxDelayMs ${maxDelayMs}, factor ${factor}, jitter ${jitter}`,
    );
  }
  return { initialDelayMs, maxDelayMs, factor, jitter };
}
