/** How reconnect delays grow. Every field has a default suited to a LAN/robot link. */
export interface BackoffSettings {
  /** First delay after a drop, in ms. Default 250. */
  initialDelayMs?: number;
  /** Ceiling of the delay, in ms. Default 10 000. */
  maxDelayMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /**
   * Fraction of the delay that is randomized (0 = none, 1 = "full jitter"). Default 0.5, so a
   * signaling restart is not met by every robot and browser reconnecting in the same millisecond.
   */
  jitter?: number;
}

/**
 * The delay before reconnect attempt `attempt` (0-based): exponential growth capped at
 * `maxDelayMs`, then reduced by up to `jitter` × itself.
 */
export function backoffDelay(
  attempt: number,
  { initialDelayMs = 250, maxDelayMs = 10_000, factor = 2, jitter = 0.5 }: BackoffSettings = {},
  random: () => number = Math.random,
): number {
  const exponential = initialDelayMs * Math.pow(factor, Math.max(0, attempt));
  const capped = Math.min(maxDelayMs, exponential);
  return Math.round(capped * (1 - Math.min(1, Math.max(0, jitter)) * random()));
}
