import { describe, expect, it } from '@jest/globals';

import { Pacer, type PacedFrame } from '../../src/congestion/pacer.js';

interface Sent {
  atMs: number;
  id: string;
}

function frame(
  id: string,
  packets: number,
  { keyframe = false, temporalLayer = 0, bytes = 1200 } = {},
): PacedFrame<string> {
  return {
    packets: Array.from({ length: packets }, (_, i) => `${id}.${i}`),
    packetBytes: Array.from({ length: packets }, () => bytes),
    keyframe,
    temporalLayer,
  };
}

function run(pacer: Pacer<string>, sent: Sent[], clock: { nowMs: number }, untilMs: number): void {
  for (; clock.nowMs <= untilMs; clock.nowMs += 5) pacer.process(clock.nowMs);
}

describe('Pacer', () => {
  it('spreads a keyframe over time at pacingFactor × the estimate instead of one burst', () => {
    const sent: Sent[] = [];
    const clock = { nowMs: 0 };
    const pacer = new Pacer<string>({
      rateBps: 500_000,
      send: (id) => sent.push({ atMs: clock.nowMs, id }),
      maxQueueMs: 2000,
    });
    pacer.process(0);
    pacer.enqueue(frame('key', 40, { keyframe: true })); // 48 000 bytes
    run(pacer, sent, clock, 2000);
    expect(sent).toHaveLength(40);
    // 48 000 B at 2.5 × 500 kbit/s = 1.25 Mbit/s takes ~307 ms; never more than ~5 ms of it at once.
    const spanMs = sent.at(-1)!.atMs - sent[0]!.atMs;
    expect(spanMs).toBeGreaterThanOrEqual(250);
    expect(spanMs).toBeLessThanOrEqual(400);
    const perTick = new Map<number, number>();
    for (const s of sent) perTick.set(s.atMs, (perTick.get(s.atMs) ?? 0) + 1);
    expect(Math.max(...perTick.values())).toBeLessThanOrEqual(2);
    expect(sent.map((s) => s.id)).toEqual(Array.from({ length: 40 }, (_, i) => `key.${i}`));
  });

  it('keeps the queue bounded by dropping upper-layer frames first', () => {
    const sent: Sent[] = [];
    const clock = { nowMs: 0 };
    const pacer = new Pacer<string>({
      rateBps: 200_000,
      send: (id) => sent.push({ atMs: clock.nowMs, id }),
      maxQueueMs: 250,
    });
    // 10 frames of 3 packets (3 600 B = 144 ms each at 200 kbit/s), alternating layers, queued at once.
    for (let i = 0; i < 10; i++)
      pacer.enqueue(frame(`f${i}`, 3, { temporalLayer: i % 2, keyframe: i === 0 }));
    expect(pacer.queueMs).toBeLessThanOrEqual(250 + 144);
    run(pacer, sent, clock, 3000);
    const framesSent = new Set(sent.map((s) => s.id.split('.')[0]));
    // No TL1 frame survived the trim; the keyframe did.
    expect([...framesSent].every((id) => Number(id!.slice(1)) % 2 === 0)).toBe(true);
    expect(framesSent.has('f0')).toBe(true);
    expect(pacer.counters.framesDropped).toBeGreaterThan(0);
  });

  it('drops to the next keyframe when a base frame must go, and asks for one once', () => {
    const sent: Sent[] = [];
    const clock = { nowMs: 0 };
    let keyframeRequests = 0;
    const pacer = new Pacer<string>({
      rateBps: 100_000,
      send: (id) => sent.push({ atMs: clock.nowMs, id }),
      onKeyframeNeeded: () => (keyframeRequests += 1),
      maxQueueMs: 200,
    });
    pacer.enqueue(frame('k', 2, { keyframe: true })); // 192 ms at 100 kbit/s: not bounded itself
    pacer.enqueue(frame('d1', 3)); // 288 ms behind it, over the bound: d1 must go, the keyframe stays
    expect(keyframeRequests).toBe(1);
    pacer.enqueue(frame('d2', 1)); // after a dropped base frame: undecodable, dropped
    run(pacer, sent, clock, 1000);
    expect(sent.map((s) => s.id)).toEqual(['k.0', 'k.1']);
    pacer.enqueue(frame('k2', 1, { keyframe: true }));
    pacer.enqueue(frame('d3', 1));
    run(pacer, sent, clock, 2000);
    expect(sent.map((s) => s.id)).toEqual(['k.0', 'k.1', 'k2.0', 'd3.0']);
    expect(keyframeRequests).toBe(1);
  });

  it('breaks only the stream whose base frame it dropped (one pacer, two cameras)', () => {
    const sent: Sent[] = [];
    const clock = { nowMs: 0 };
    const needed: unknown[] = [];
    const pacer = new Pacer<string>({
      rateBps: 100_000,
      send: (id) => sent.push({ atMs: clock.nowMs, id }),
      onKeyframeNeeded: (stream) => needed.push(stream),
      maxQueueMs: 200,
    });
    pacer.enqueue({ ...frame('a-key', 2, { keyframe: true }), stream: 'a' });
    pacer.enqueue({ ...frame('a-d1', 3), stream: 'a' }); // over the bound: dropped, 'a' breaks
    expect(needed).toEqual(['a']);
    pacer.enqueue({ ...frame('b-key', 1, { keyframe: true }), stream: 'b' });
    pacer.enqueue({ ...frame('a-d2', 1), stream: 'a' }); // undecodable for 'a': dropped
    run(pacer, sent, clock, 3000);
    pacer.enqueue({ ...frame('b-d1', 1), stream: 'b' }); // 'b' never lost a frame: sent
    run(pacer, sent, clock, 4000);
    expect(sent.map((s) => s.id.split('.')[0])).toEqual(['a-key', 'a-key', 'b-key', 'b-d1']);
    expect(needed).toEqual(['a']);
  });

  it('does not count a keyframe against the queue bound, only what waits behind it', () => {
    const sent: Sent[] = [];
    const clock = { nowMs: 0 };
    let keyframeRequests = 0;
    const pacer = new Pacer<string>({
      rateBps: 1_000_000,
      send: (id) => sent.push({ atMs: clock.nowMs, id }),
      onKeyframeNeeded: () => (keyframeRequests += 1),
      maxQueueMs: 250,
    });
    pacer.enqueue(frame('key', 40, { keyframe: true })); // 384 ms at the estimate
    pacer.enqueue(frame('d1', 3)); // 29 ms
    run(pacer, sent, clock, 2000);
    expect(new Set(sent.map((s) => s.id.split('.')[0]))).toEqual(new Set(['key', 'd1']));
    expect(keyframeRequests).toBe(0);
  });

  it('banks no credit while idle', () => {
    const sent: Sent[] = [];
    const clock = { nowMs: 0 };
    const pacer = new Pacer<string>({
      rateBps: 1_000_000,
      send: (id) => sent.push({ atMs: clock.nowMs, id }),
    });
    run(pacer, sent, clock, 10_000);
    pacer.enqueue(frame('f', 20));
    pacer.process(clock.nowMs);
    // One 5 ms tick of 2.5 Mbit/s (1 562 B) after 10 s idle, not 10 s worth of credit.
    expect(sent.length).toBeLessThanOrEqual(2);
  });
});
