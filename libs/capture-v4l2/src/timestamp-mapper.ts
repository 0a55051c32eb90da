/**
 * Maps the driver's capture timestamps to the two clocks of a `RawVideoFrame`: wall-clock
 * milliseconds (`timestampMs`) and milliseconds on `performance.now()`'s timeline (`monotonicMs`).
 *
 * V4L2 stamps buffers with CLOCK_MONOTONIC (a few drivers, e.g. uvcvideo with `clock=realtime`,
 * use CLOCK_REALTIME). The mapping is done per frame at read time: the frame's age is
 * `age = monotonicNow - timestamp`, then `wall = Date.now() - age` and
 * `monotonic = performance.now() - age`, so NTP steps of the wall clock apply at once to
 * `timestampMs`, never touch `monotonicMs`, and no offset can drift. `process.hrtime` reads
 * CLOCK_MONOTONIC on Linux (libuv's uv_hrtime), the kernel's clock.
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

/** The three clocks read together when a frame is read. */
export interface ReadTime {
  /** CLOCK_MONOTONIC, in µs ({@link monotonicNowUs}). */
  readonly monotonicNowUs: number;
  /** The wall clock, ms since the epoch (`Date.now()`). */
  readonly wallNowMs: number;
  /** `performance.now()`, in ms. */
  readonly performanceNowMs: number;
}

/** A frame's capture time on the wall clock and on `performance.now()`'s timeline, in ms. */
export interface CaptureTime {
  readonly timestampMs: number;
  readonly monotonicMs: number;
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
   * Capture time of a frame stamped `timestampUs` by the driver (undefined when it has no
   * timestamp) and read at `now`. Capture times in the future (vivid stamps frames up to one
   * interval ahead) are clamped to the read time; unusable timestamps give the read time.
   */
  map(timestampUs: number | undefined, now: ReadTime): CaptureTime {
    const ageMs = this.#ageMs(timestampUs, now);
    return { timestampMs: now.wallNowMs - ageMs, monotonicMs: now.performanceNowMs - ageMs };
  }

  /** How long before the read the frame was captured, ≥ 0 (0 when the timestamp is unusable). */
  #ageMs(timestampUs: number | undefined, { monotonicNowUs, wallNowMs }: ReadTime): number {
    if (timestampUs === undefined || !Number.isFinite(timestampUs)) return 0;
    const monotonicAge = (monotonicNowUs - timestampUs) / 1000;
    const realtimeAge = wallNowMs - timestampUs / 1000;
    if (this.#clock === undefined) {
      this.#clock = plausible(monotonicAge) ? 'monotonic' : plausible(realtimeAge) ? 'realtime' : 'arrival';
    }
    if (this.#clock === 'arrival') return 0;
    const age = this.#clock === 'monotonic' ? monotonicAge : realtimeAge;
    if (!plausible(age)) return 0;
    return Math.max(0, age);
  }
}
