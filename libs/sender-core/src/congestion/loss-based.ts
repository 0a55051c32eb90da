/**
 * The loss-based bound (draft-ietf-rmcat-gcc-02 §6): over 10 % loss the rate shrinks by half the
 * loss fraction, under 2 % it may grow by 5 %, in between it holds. Delay catches a filling queue;
 * this catches links that drop instead of queueing (Wi-Fi retries exhausted, policers). The
 * bound never sits above 1.5× the delay-based rate, so it starts from a realistic value when loss
 * begins.
 */
import { clamp } from './rate-control.js';

/** Loss is judged over at least this many packets or this long, whichever comes later. */
const MIN_PACKETS = 20;
const MIN_INTERVAL_MS = 300;

export class LossBasedControl {
  #rateBps: number;
  #received = 0;
  #lost = 0;
  #windowStartMs: number | undefined;
  /** Loss fraction of the last judged window (0..1). */
  lossFraction = 0;

  constructor(
    startBps: number,
    readonly minBps: number,
    readonly maxBps: number,
  ) {
    this.#rateBps = startBps;
  }

  get rateBps(): number {
    return this.#rateBps;
  }

  /** A probe showed the link carries `bps`: without loss, the bound makes room for it. */
  raiseTo(bps: number): void {
    if (this.lossFraction < 0.02)
      this.#rateBps = clamp(Math.max(this.#rateBps, bps), this.minBps, this.maxBps);
  }

  /**
   * Counts one feedback's packets; every window of enough packets adjusts the bound. The bound
   * never sits far above the delay-based rate (`delayBasedBps`), so a later loss burst starts from
   * a realistic value.
   */
  update(received: number, lost: number, delayBasedBps: number, nowMs: number): number {
    this.#windowStartMs ??= nowMs;
    this.#received += received;
    this.#lost += lost;
    const total = this.#received + this.#lost;
    if (total >= MIN_PACKETS && nowMs - this.#windowStartMs >= MIN_INTERVAL_MS) {
      this.lossFraction = this.#lost / total;
      if (this.lossFraction > 0.1) {
        this.#rateBps = this.#rateBps * (1 - 0.5 * this.lossFraction);
      } else if (this.lossFraction < 0.02) {
        // A clean window lifts the bound back to the delay-based rate at least: without loss the
        // delay-based estimate alone decides (it probes upwards gently by itself).
        this.#rateBps = Math.max(this.#rateBps * 1.05 + 1_000, delayBasedBps);
      }
      this.#received = 0;
      this.#lost = 0;
      this.#windowStartMs = nowMs;
    }
    this.#rateBps = clamp(Math.min(this.#rateBps, 1.5 * delayBasedBps), this.minBps, this.maxBps);
    return this.#rateBps;
  }
}
