import { describe, expect, it } from '@jest/globals';
import { TimestampMapper, monotonicNowUs } from '../src/timestamp-mapper.js';

const WALL = 1_700_000_000_000; // ms since the epoch
const MONO = 5_000_000_000; // µs since boot

describe('TimestampMapper', () => {
  it('maps CLOCK_MONOTONIC timestamps by their age at read time', () => {
    const mapper = new TimestampMapper();
    expect(mapper.map(MONO - 12_000, MONO, WALL)).toBe(WALL - 12);
    expect(mapper.clock).toBe('monotonic');
    expect(mapper.map(MONO + 40_000 - 33_000, MONO + 40_000, WALL + 40)).toBe(WALL + 7);
  });

  it('clamps capture times in the future to the read time (vivid stamps ahead)', () => {
    const mapper = new TimestampMapper();
    expect(mapper.map(MONO + 34_000, MONO, WALL)).toBe(WALL);
    expect(mapper.clock).toBe('monotonic');
  });

  it('recognizes CLOCK_REALTIME timestamps', () => {
    const mapper = new TimestampMapper();
    expect(mapper.map((WALL - 20) * 1000, MONO, WALL)).toBe(WALL - 20);
    expect(mapper.clock).toBe('realtime');
  });

  it('falls back to the read time for unusable or missing timestamps', () => {
    const mapper = new TimestampMapper();
    expect(mapper.map(123, MONO, WALL)).toBe(WALL);
    expect(mapper.clock).toBe('arrival');
    expect(new TimestampMapper().map(undefined, MONO, WALL)).toBe(WALL);
    expect(new TimestampMapper().map(Number.NaN, MONO, WALL)).toBe(WALL);
  });

  it('does not believe a single implausible timestamp once the clock is known', () => {
    const mapper = new TimestampMapper();
    mapper.map(MONO - 10_000, MONO, WALL);
    expect(mapper.map(MONO - 60_000_000, MONO, WALL)).toBe(WALL); // a minute old: read time instead
    expect(mapper.clock).toBe('monotonic');
  });

  it('reset forgets the clock', () => {
    const mapper = new TimestampMapper();
    mapper.map(MONO, MONO, WALL);
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
