import { describe, expect, it } from '@jest/globals';
import { backoffDelay, ClockOffsetEstimator, estimateClock } from '../src/index.js';

describe('backoffDelay', () => {
  it('grows exponentially and is capped', () => {
    const noJitter = { initialDelayMs: 100, maxDelayMs: 2000, factor: 2, jitter: 0 };
    const delays = [0, 1, 2, 3, 4, 5, 10, 50].map((attempt) => backoffDelay(attempt, noJitter));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 2000, 2000, 2000]);
  });

  it('randomizes within [1 - jitter, 1] of the nominal delay', () => {
    const settings = { initialDelayMs: 1000, maxDelayMs: 1000, jitter: 0.5 };
    expect(backoffDelay(3, settings, () => 0)).toBe(1000);
    expect(backoffDelay(3, settings, () => 0.999999)).toBe(500);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(i, settings);
      expect(delay).toBeGreaterThanOrEqual(500);
      expect(delay).toBeLessThanOrEqual(1000);
    }
  });
});

describe('clock estimation', () => {
  it('computes offset and RTT the NTP way', () => {
    // Remote clock is 500 ms ahead; 20 ms each way.
    expect(estimateClock({ t0: 1000, t1: 1520, t2: 1040 })).toEqual({ offsetMs: 500, rttMs: 40 });
  });

  it('keeps the lowest-RTT sample of its window', () => {
    const estimator = new ClockOffsetEstimator(3);
    expect(estimator.best()).toBeUndefined();
    estimator.add({ t0: 0, t1: 600, t2: 200 }); // rtt 200, offset 500
    const best = estimator.add({ t0: 1000, t1: 1505, t2: 1010 }); // rtt 10, offset 500
    expect(best).toEqual({ offsetMs: 500, rttMs: 10 });
    estimator.add({ t0: 2000, t1: 2600, t2: 2100 });
    estimator.add({ t0: 3000, t1: 3600, t2: 3100 });
    estimator.add({ t0: 4000, t1: 4600, t2: 4100 }); // the rtt-10 sample has left the window
    expect(estimator.best()?.rttMs).toBe(100);
    estimator.reset();
    expect(estimator.best()).toBeUndefined();
  });
});
