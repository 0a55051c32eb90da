/**
 * Maps the driver's capture timestamps to wall-clock milliseconds.
 *
 * V4L2 stamps buffers with CLOCK_MONOTONIC (a few drivers, e.g. uvcvideo with `clock=realtime`,
 * use CLOCK_REALTIME). The mapping is done per frame at read time: `wall = Date.now() - age`, with
 * `age = monotonicNow - timestamp`, so NTP steps of the wall clock apply at once and no offset can
 * drift. `process.hrtime` reads CLOCK_MONOTONIC on Linux (libuv's uv_hrtime), the kernel's clock.
 */

/** Which clock the driver's timestamps were found to be on. */
export type TimestampClock = 'monotonic' | 'realtime' | 'arrival';

/** A timestamp further back than this is not believed (the frame would be stale or the clock wrong). */
const MAX_AGE_MS = 10_000;
/** A timestamp this far in the future is not believed either. */
const MAX_LEAD_MS = 1_000;

/** CLOCK_MONOTONIC now, in microseconds. */
export function monotonicNowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function plausible(ageMs: number): boolean {
  return ageMs >= -MAX_LEAD_MS && ageMs <= MAX_AGE_MS;
}

export class TimestampMapper {
  #clock: TimestampClock | undefined;

  /** The clock decided from the first timestamped frame; undefined before. */
  get clock(): TimestampClock | undefined {
    return this.#clock;
  }

  /** Forgets the clock (a new device may use another). */
  reset(): void {
    this.#clock = undefined;
  }

  /**
   * Wall-clock capture time, in ms since the epoch, of a frame stamped `timestampUs` by the driver
   * (undefined when it has no timestamp) and read at `monotonicNowUs` / `wallNowMs`. Capture times
   * in the future (vivid stamps frames up to one interval ahead) are clamped to the read time.
   */
  map(timestampUs: number | undefined, monotonicNowUs: number, wallNowMs: number): number {
    if (timestampUs === undefined || !Number.isFinite(timestampUs)) return wallNowMs;
    const monotonicAge = (monotonicNowUs - timestampUs) / 1000;
    const realtimeAge = wallNowMs - timestampUs / 1000;
    if (this.#clock === undefined) {
      this.#clock = plausible(monotonicAge) ? 'monotonic' : plausible(realtimeAge) ? 'realtime' : 'arrival';
    }
    if (this.#clock === 'arrival') return wallNowMs;
    const age = this.#clock === 'monotonic' ? monotonicAge : realtimeAge;
    if (!plausible(age)) return wallNowMs;
    return wallNowMs - Math.max(0, age);
  }
}
