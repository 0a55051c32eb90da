import { describe, expect, it } from '@jest/globals';
import { Backoff } from '../src/backoff.js';

describe('Backoff', () => {
  it('grows from 250 ms to 5 s by default', () => {
    const backoff = new Backoff();
    expect(Array.from({ length: 8 }, () => backoff.next())).toEqual([
      250, 500, 1000, 2000, 4000, 5000, 5000, 5000,
    ]);
    expect(backoff.attempts).toBe(8);
  });

  it('starts over after reset', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 300, factor: 3 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 300, 300]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it('rejects nonsense', () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 500, maxMs: 100 })).toThrow(RangeError);
  });
});
