import { describe, expect, it } from '@jest/globals';
import { ProbeController, ProbeRateMeter } from '../../src/congestion/probing.js';

/** A cluster of `packets` × `bytes` sent `sendGapMs` apart, arriving `arrivalGapMs` apart. */
function measure(packets: number, bytes: number, sendGapMs: number, arrivalGapMs: number, lost = 0) {
  const meter = new ProbeRateMeter();
  meter.expect(7, packets, 1000);
  for (let i = 0; i < packets; i++) meter.sent(7, bytes, 1000 + i * sendGapMs);
  expect(meter.takeFinished()).toEqual([]); // nothing reported yet
  for (let i = 0; i < packets; i++) meter.reported(7, bytes, i < lost ? undefined : 5000 + i * arrivalGapMs);
  return meter.takeFinished();
}

describe('ProbeRateMeter', () => {
  it('reads the sending rate when the link carried the cluster as sent', () => {
    // 10 × 1000 B every 8 ms = 1 Mbit/s; arrivals just as spaced.
    const [result] = measure(10, 1000, 8, 8);
    expect(result?.id).toBe(7);
    expect(result?.resultBps).toBeCloseTo(1_000_000, -3);
  });

  it('reads 95 % of the receiving rate when the link was narrower than the probe', () => {
    // Sent at 1 Mbit/s, arrived spread at 500 kbit/s.
    const [result] = measure(10, 1000, 8, 16);
    expect(result?.resultBps).toBeCloseTo(0.95 * 500_000, -3);
  });

  it('waits for the feedback of every packet of the cluster, and judges it once', () => {
    const meter = new ProbeRateMeter();
    meter.expect(3, 4, 0);
    meter.sent(3, 200, 0);
    meter.sent(3, 200, 2);
    meter.reported(3, 200, 10);
    meter.reported(3, 200, 12);
    expect(meter.takeFinished()).toEqual([]); // half of it: not yet
    meter.sent(3, 200, 4);
    meter.sent(3, 200, 6);
    meter.reported(3, 200, 14);
    meter.reported(3, 200, 16);
    const finished = meter.takeFinished();
    expect(finished).toHaveLength(1);
    expect(finished[0]?.resultBps).toBeCloseTo((600 * 8 * 1000) / 6, -2);
    meter.reported(3, 200, 18); // a stray late report changes nothing
    expect(meter.takeFinished()).toEqual([]);
  });

  it('gives no result when too many probe packets were lost', () => {
    const [result] = measure(10, 1000, 8, 8, 4);
    expect(result?.resultBps).toBeUndefined();
  });
});

describe('ProbeController', () => {
  const quiet = { maxBps: 3_000_000, lossFraction: 0, lastOveruseMs: undefined };

  it('probes at twice the estimate, spread over 80 ms, then waits for the result', () => {
    const controller = new ProbeController();
    const cluster = controller.next({ ...quiet, nowMs: 10_000, targetBps: 500_000 });
    expect(cluster).toMatchObject({ rateBps: 1_000_000, durationMs: 80 });
    const bytes = cluster!.packets * cluster!.packetBytes;
    expect((bytes * 8 * 1000) / cluster!.durationMs).toBeCloseTo(1_000_000, -4);
    expect(controller.next({ ...quiet, nowMs: 10_100, targetBps: 500_000 })).toBeUndefined();
  });

  it('probes again soon after a success, and backs off after failures (at most 4 s)', () => {
    const controller = new ProbeController();
    let now = 0;
    const probe = () => controller.next({ ...quiet, nowMs: now, targetBps: 500_000 });
    const first = probe()!;
    controller.onResult(first.id, 1_000_000, now);
    now += 500;
    const second = probe()!;
    expect(second).toBeDefined();
    const waits: number[] = [];
    let pending = second;
    for (let i = 0; i < 5; i++) {
      controller.onResult(pending.id, 400_000, now); // the link had no room
      const failedAt = now;
      let next = probe();
      while (next === undefined) {
        now += 100;
        next = probe();
      }
      waits.push(now - failedAt);
      pending = next;
    }
    expect(waits).toEqual([1000, 2000, 4000, 4000, 4000]);
  });

  it('does not probe at the ceiling, with loss, or right after an overuse', () => {
    const controller = new ProbeController();
    expect(controller.next({ ...quiet, nowMs: 5_000, targetBps: 2_900_000 })).toBeUndefined();
    expect(
      controller.next({ ...quiet, nowMs: 5_000, targetBps: 500_000, lossFraction: 0.05 }),
    ).toBeUndefined();
    expect(
      controller.next({ ...quiet, nowMs: 5_000, targetBps: 500_000, lastOveruseMs: 4_000 }),
    ).toBeUndefined();
    expect(
      controller.next({ ...quiet, nowMs: 5_000, targetBps: 500_000, lastOveruseMs: 3_000 }),
    ).toBeDefined();
  });
});
