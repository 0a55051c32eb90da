import { describe, expect, it } from '@jest/globals';
import { RetransmissionBudget } from '../../src/congestion/retransmissions.js';

const free = { rttMs: 40, rateBps: 2_000_000, pacerQueueMs: 0 };

describe('RetransmissionBudget', () => {
  it('retransmits what a NACK asks for on a link with room', () => {
    const budget = new RetransmissionBudget();
    expect(budget.filter([1, 2, 3], { ...free, nowMs: 0 })).toEqual([1, 2, 3]);
    expect(budget.allowed).toBe(3);
  });

  it('retransmits a packet at most once per round trip', () => {
    const budget = new RetransmissionBudget();
    expect(budget.filter([7], { ...free, nowMs: 0 })).toEqual([7]);
    expect(budget.filter([7], { ...free, nowMs: 20 })).toEqual([]); // asked again within the RTT
    expect(budget.filter([7], { ...free, nowMs: 60 })).toEqual([7]);
  });

  it('gives retransmissions at most 30 % of the estimate', () => {
    const budget = new RetransmissionBudget();
    // 400 kbit/s: 120 kbit/s for retransmissions = 12.5 packets of 1200 B a second.
    const narrow = { rttMs: 40, rateBps: 400_000, pacerQueueMs: 0 };
    let sent = 0;
    for (let ms = 0; ms < 2_000; ms += 20) {
      const ask = Array.from({ length: 10 }, (_, i) => (ms * 10 + i) & 0xffff);
      sent += budget.filter(ask, { ...narrow, nowMs: ms }).length;
    }
    expect(sent).toBeGreaterThanOrEqual(20);
    expect(sent).toBeLessThanOrEqual(30);
    expect(budget.denied).toBeGreaterThan(900);
  });

  it('retransmits nothing while the pacer holds a long queue', () => {
    const budget = new RetransmissionBudget();
    expect(budget.filter([1, 2], { ...free, nowMs: 0, pacerQueueMs: 200 })).toEqual([]);
    expect(budget.denied).toBe(2);
  });
});
