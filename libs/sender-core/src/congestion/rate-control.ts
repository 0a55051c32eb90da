/**
 * AIMD rate control of the delay-based estimate (draft-ietf-rmcat-gcc-02 §5.5, libwebrtc's
 * `AimdRateControl`): on overuse the rate drops to 85 % of what actually got through; while the
 * link is not congested it grows by 8 % a second, or, once close to a capacity that was hit
 * before, by about one packet per response time, so it probes gently where it knows the ceiling.
 */
import type { BandwidthUsage } from './delay-based.js';

const BETA = 0.85;
const MULTIPLICATIVE_GAIN_PER_S = 0.08;
/** Never grow to more than 1.5× the rate that got through plus this much (bps). */
const ACKED_HEADROOM_BPS = 10_000;
/** Typical packet for the additive step (bytes). */
const PACKET_BYTES = 1_200;
/** Within this many standard deviations of the last capacity the increase turns additive. */
const CAPACITY_DEVIATIONS = 3;

export type RateControlState = 'hold' | 'increase' | 'decrease';

export class AimdRateControl {
  #rateBps: number;
  #state: RateControlState = 'increase';
  #lastUpdateMs: number | undefined;
  #lastDecreaseMs: number | undefined;
  /** Running estimate of the link capacity (bps) and its variance, from rates at overuse. */
  #capacityBps: number | undefined;
  #capacityVariance = 0.4;

  constructor(
    startBps: number,
    readonly minBps: number,
    readonly maxBps: number,
  ) {
    this.#rateBps = clamp(startBps, minBps, maxBps);
  }

  get rateBps(): number {
    return this.#rateBps;
  }

  get state(): RateControlState {
    return this.#state;
  }

  /**
   * Sets the rate from a measurement the link answered directly (a probe result): the link has
   * shown it carries this much, so the old capacity ceiling is forgotten.
   */
  setEstimate(bps: number, nowMs: number): void {
    this.#rateBps = clamp(bps, this.minBps, this.maxBps);
    this.#capacityBps = undefined;
    this.#lastUpdateMs = nowMs;
  }

  /**
   * Applies one detector output. `ackedBps` is the throughput measured from feedback (undefined
   * before there is enough of it), `rttMs` the latest round-trip time.
   */
  update(usage: BandwidthUsage, ackedBps: number | undefined, rttMs: number, nowMs: number): number {
    const dtMs = Math.min(nowMs - (this.#lastUpdateMs ?? nowMs), 1_000);
    this.#lastUpdateMs = nowMs;
    // State machine: overuse → decrease; underuse (queues draining) → hold; normal → increase.
    if (usage === 'overusing') this.#state = 'decrease';
    else if (usage === 'underusing') this.#state = 'hold';
    else if (this.#state !== 'increase') this.#state = 'increase';

    if (this.#state === 'increase') {
      let next: number;
      if (this.#nearCapacity(ackedBps)) {
        const responseTimeMs = rttMs + 100;
        const additiveBpsPerS = Math.max(1_000, (PACKET_BYTES * 8 * 1_000) / responseTimeMs);
        next = this.#rateBps + (additiveBpsPerS * dtMs) / 1_000;
      } else {
        next = this.#rateBps * (1 + MULTIPLICATIVE_GAIN_PER_S) ** (dtMs / 1_000);
      }
      // Don't run far ahead of what the link has shown it carries; a rate already above that
      // bound (the start rate, say) is kept rather than raised or cut.
      const boundBps = ackedBps === undefined ? Infinity : 1.5 * ackedBps + ACKED_HEADROOM_BPS;
      if (this.#rateBps < boundBps) this.#rateBps = Math.min(next, boundBps);
    } else if (this.#state === 'decrease') {
      // One cut per round trip: the queue needs that long to show the effect of the last one.
      const since = nowMs - (this.#lastDecreaseMs ?? -Infinity);
      if (since >= Math.max(rttMs, 100)) {
        const basis = ackedBps ?? this.#rateBps;
        const decreased = BETA * basis;
        this.#rateBps = Math.min(this.#rateBps, decreased);
        this.#updateCapacity(basis);
        this.#lastDecreaseMs = nowMs;
      }
      this.#state = 'hold';
    }
    this.#rateBps = clamp(this.#rateBps, this.minBps, this.maxBps);
    return this.#rateBps;
  }

  #nearCapacity(ackedBps: number | undefined): boolean {
    if (this.#capacityBps === undefined || ackedBps === undefined) return false;
    const deviation = Math.sqrt(this.#capacityVariance * this.#capacityBps);
    if (ackedBps > this.#capacityBps + CAPACITY_DEVIATIONS * deviation) {
      // The link got wider than we thought: forget the old ceiling and probe multiplicatively.
      this.#capacityBps = undefined;
      return false;
    }
    return true;
  }

  #updateCapacity(sampleBps: number): void {
    const kbps = sampleBps / 1000;
    if (this.#capacityBps === undefined) {
      this.#capacityBps = sampleBps;
      return;
    }
    const mean = this.#capacityBps / 1000;
    const alpha = 0.05;
    const next = (1 - alpha) * mean + alpha * kbps;
    const error = kbps - next;
    this.#capacityVariance = clamp(
      (1 - alpha) * this.#capacityVariance + (alpha * error * error) / Math.max(next, 1),
      0.4,
      2.5,
    );
    this.#capacityBps = next * 1000;
  }
}

/** Throughput that reached the receiver, from arrival times over a sliding window. */
export class AckedBitrate {
  readonly #samples: { arrivalMs: number; bytes: number }[] = [];
  #bytesInWindow = 0;

  /** `windowMs`: averaging window. Default 500 ms, long enough to span a few frames at 30 fps. */
  constructor(readonly windowMs = 500) {}

  add(arrivalMs: number, bytes: number): void {
    this.#samples.push({ arrivalMs, bytes });
    this.#bytesInWindow += bytes;
    for (
      let oldest = this.#samples[0];
      oldest !== undefined && arrivalMs - oldest.arrivalMs > this.windowMs;
      oldest = this.#samples[0]
    ) {
      this.#bytesInWindow -= oldest.bytes;
      this.#samples.shift();
    }
  }

  /** Bits per second over the window, undefined until the window has filled once. */
  get bps(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (first === undefined || last === undefined || first === last) return undefined;
    const spanMs = last.arrivalMs - first.arrivalMs;
    if (spanMs < this.windowMs / 2) return undefined;
    return (this.#bytesInWindow * 8 * 1000) / Math.max(spanMs, 1);
  }
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
