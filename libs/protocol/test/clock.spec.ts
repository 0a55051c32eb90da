import { describe, expect, it } from '@jest/globals';
import { ClockOffsetEstimator, estimateClock } from '../src/index.js';

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
