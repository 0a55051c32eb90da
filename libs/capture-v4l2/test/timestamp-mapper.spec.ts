import { describe, expect, it } from '@jest/globals';
import { TimestampMapper, monotonicNowUs } from '../src/timestamp-mapper.js';

const WALL = 1_700_000_000_000; // ms since the epoch
const MONO = 5_000_000_000; // µs since boot
const PERF = 80_000; // ms on performance.now()'s timeline

/** The wall-clock capture time, checking that the monotonic one is the same age. */
function wall(
  mapper: TimestampMapper,
  timestampUs: number | undefined,
  monotonicNowUs: number,
  wallNowMs: number,
) {
  const readPerf = PERF + (wallNowMs - WALL);
  const { timestampMs, monotonicMs } = mapper.map(timestampUs, {
    monotonicNowUs,
    wallNowMs,
    performanceNowMs: readPerf,
  });
  expect(wallNowMs - timestampMs).toBeCloseTo(readPerf - monotonicMs, 9);
  return timestampMs;
}

describe('TimestampMapper', () => {
  it('maps CLOCK_MONOTONIC timestamps by their age at read time', () => {
    const mapper = new TimestampMapper();
    expect(wall(mapper, MONO - 12_000, MONO, WALL)).toBe(WALL - 12);
    expect(mapper.clock).toBe('monotonic');
    expect(wall(mapper, MONO + 40_000 - 33_000, MONO + 40_000, WALL + 40)).toBe(WALL + 7);
  });

  it('clamps capture times in the future to the read time (vivid stamps ahead)', () => {
    const mapper = new TimestampMapper();
    expect(wall(mapper, MONO + 34_000, MONO, WALL)).toBe(WALL);
    expect(mapper.clock).toBe('monotonic');
  });

  it('recognizes CLOCK_REALTIME timestamps', () => {
    const mapper = new TimestampMapper();
    expect(wall(mapper, (WALL - 20) * 1000, MONO, WALL)).toBe(WALL - 20);
    expect(mapper.clock).toBe('realtime');
  });

  it('falls back to the read time for unusable or missing timestamps', () => {
    const mapper = new TimestampMapper();
    expect(wall(mapper, 123, MONO, WALL)).toBe(WALL);
    expect(mapper.clock).toBe('arrival');
    expect(wall(new TimestampMapper(), undefined, MONO, WALL)).toBe(WALL);
    expect(wall(new TimestampMapper(), Number.NaN, MONO, WALL)).toBe(WALL);
  });

  it('does not believe a single implausible timestamp once the clock is known', () => {
    const mapper = new TimestampMapper();
    wall(mapper, MONO - 10_000, MONO, WALL);
    expect(wall(mapper, MONO - 60_000_000, MONO, WALL)).toBe(WALL); // a minute old: read time instead
    expect(mapper.clock).toBe('monotonic');
  });

  it('gives the capture time on performance.now()’s timeline, unmoved by a wall-clock step', () => {
    const mapper = new TimestampMapper();
    const read = { monotonicNowUs: MONO, wallNowMs: WALL, performanceNowMs: PERF };
    expect(mapper.map(MONO - 12_000, read)).toEqual({ timestampMs: WALL - 12, monotonicMs: PERF - 12 });
    // NTP steps the wall clock back 5 minutes 40 ms later: only timestampMs follows it.
    const stepped = {
      monotonicNowUs: MONO + 40_000,
      wallNowMs: WALL + 40 - 300_000,
      performanceNowMs: PERF + 40,
    };
    expect(mapper.map(MONO + 40_000 - 33_000, stepped)).toEqual({
      timestampMs: WALL + 7 - 300_000,
      monotonicMs: PERF + 7,
    });
  });

  it('reset forgets the clock', () => {
    const mapper = new TimestampMapper();
    wall(mapper, MONO, MONO, WALL);
    mapper.reset();
    expect(mapper.clock).toBeUndefined();
  });

  it('monotonicNowUs follows process.hrtime in µs', () => {
    const before = Number(process.hrtime.bigint() / 1000n);
    const now = monotonicNowUs();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now - before).toBeLessThan(1_000_000);
  });
});
