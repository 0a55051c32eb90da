import { describe, expect, it } from '@jest/globals';
import { KeyframeScheduler } from '../src/keyframe-scheduler.js';

function scheduler(minIntervalMs = 300) {
  let now = 1000;
  const s = new KeyframeScheduler({ minIntervalMs, now: () => now });
  return { s, advance: (ms: number) => (now += ms) };
}

describe('KeyframeScheduler', () => {
  it('gives nothing until asked', () => {
    const { s } = scheduler();
    expect(s.takeForFrame()).toBeUndefined();
  });

  it('coalesces a burst of requests into one keyframe', () => {
    const { s } = scheduler();
    for (let i = 0; i < 10; i++) s.request('pli');
    expect(s.takeForFrame()).toBe('pli');
    s.keyframeProduced('pli');
    expect(s.takeForFrame()).toBeUndefined();
    expect(s.coalesced).toBe(9);
    expect(s.produced.pli).toBe(1);
  });

  it('defers PLI/FIR within the minimum interval, then serves them', () => {
    const { s, advance } = scheduler(300);
    s.request('pli');
    expect(s.takeForFrame()).toBe('pli');
    s.keyframeProduced('pli');
    advance(100);
    s.request('fir');
    expect(s.takeForFrame()).toBeUndefined();
    advance(199);
    expect(s.takeForFrame()).toBeUndefined();
    advance(1);
    expect(s.takeForFrame()).toBe('fir');
  });

  it('counts an unrequested keyframe as periodic and spaces PLIs from it', () => {
    const { s, advance } = scheduler(300);
    s.keyframeProduced();
    expect(s.produced.periodic).toBe(1);
    s.request('pli');
    expect(s.takeForFrame()).toBeUndefined();
    advance(300);
    expect(s.takeForFrame()).toBe('pli');
  });

  it('never defers a joining viewer, and a join upgrades a deferred PLI', () => {
    const { s, advance } = scheduler(300);
    s.keyframeProduced('first');
    advance(10);
    s.request('join');
    expect(s.takeForFrame()).toBe('join');
    s.keyframeProduced('join');
    s.request('pli');
    expect(s.takeForFrame()).toBeUndefined();
    s.request('join');
    expect(s.takeForFrame()).toBe('join');
  });

  it('forgets its history on reset', () => {
    const { s } = scheduler(300);
    s.keyframeProduced('pli');
    s.request('pli');
    s.reset();
    expect(s.takeForFrame()).toBeUndefined();
    s.request('pli');
    expect(s.takeForFrame()).toBe('pli');
  });
});
