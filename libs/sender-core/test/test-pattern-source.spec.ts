import { afterEach, describe, expect, it } from '@jest/globals';
import { decodeTimecodeFromLuma, i420Layout } from '@robocam/testpattern';
import { ConfigurationError, TestPatternSource, type RawVideoFrame } from '../src/index.js';

const sources: TestPatternSource[] = [];
function source(...args: ConstructorParameters<typeof TestPatternSource>) {
  const s = new TestPatternSource(...args);
  sources.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
});

describe('TestPatternSource', () => {
  it('stamps each frame with both capture times: wall clock and performance.now()', async () => {
    const s = source({ width: 320, height: 240, fps: 30 });
    const frames: RawVideoFrame[] = [];
    s.on('frame', (f: RawVideoFrame) => frames.push({ ...f }));
    const startedMono = performance.now();
    const startedWall = Date.now();
    await s.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await s.stop();
    expect(frames.length).toBeGreaterThan(1);
    for (const [index, f] of frames.entries()) {
      expect(f.monotonicMs).toBeGreaterThanOrEqual(startedMono);
      expect(f.monotonicMs).toBeLessThanOrEqual(performance.now());
      expect(f.timestampMs).toBeGreaterThanOrEqual(startedWall);
      if (index > 0) expect(f.monotonicMs).toBeGreaterThan(frames[index - 1]!.monotonicMs);
    }
  });

  it('delivers I420 frames, never faster than its rate, with capture timestamps in the strip', async () => {
    const s = source({ width: 320, height: 240, fps: 50 });
    const frames: { sequence: number; timestampMs: number; strip: number | undefined; at: number }[] = [];
    const statuses: string[] = [];
    s.on('status', (status) => statuses.push(status));
    s.on('frame', (f: RawVideoFrame) => {
      expect(f.data.length).toBe(i420Layout(320, 240).byteLength);
      const strip = decodeTimecodeFromLuma(f.data.subarray(0, 320 * 240), 320, 240);
      frames.push({
        sequence: f.sequence,
        timestampMs: f.timestampMs,
        strip: strip?.timestampMs,
        at: performance.now(),
      });
    });
    const startedAt = performance.now();
    const startedWall = Date.now();
    await s.start();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await s.stop();
    const elapsedMs = performance.now() - startedAt;
    expect(statuses).toEqual(['live', 'idle']);
    // A loaded machine delivers fewer (slots are skipped, not queued), never more than the rate.
    console.log(`test pattern at 50 fps: ${frames.length} frames in ${Math.round(elapsedMs)} ms`);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.length).toBeLessThanOrEqual(Math.ceil((elapsedMs * 50) / 1000) + 1);
    expect(frames.map((f) => f.sequence)).toEqual(frames.map((_f, i) => i));
    for (const f of frames) {
      expect(f.strip).toBe(f.timestampMs);
      // Wall-clock capture times from within this test, however slowly the machine ran it.
      expect(f.timestampMs).toBeGreaterThanOrEqual(startedWall);
      expect(f.timestampMs).toBeLessThanOrEqual(Date.now());
    }
  });

  it('skips the slots it missed instead of bursting them out late', async () => {
    const s = source({ width: 160, height: 120, fps: 100 });
    const arrivals: number[] = [];
    s.on('frame', () => arrivals.push(performance.now()));
    await s.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const blockedUntil = performance.now() + 200;
    while (performance.now() < blockedUntil) {
      // A stalled event loop: 20 frame slots pass.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    await s.stop();
    const afterStall = arrivals.filter((t) => t >= blockedUntil);
    // No burst: after the stall, frames keep their 10 ms spacing rather than arriving back to back.
    const backToBack = afterStall.slice(1).filter((t, i) => t - afterStall[i]! < 2).length;
    expect(backToBack).toBeLessThanOrEqual(1);
    expect(s.framesSkipped).toBeGreaterThanOrEqual(15);
  });

  it('stops producing on stop() and can start again', async () => {
    const s = source({ width: 160, height: 120, fps: 30 });
    let count = 0;
    s.on('frame', () => (count += 1));
    await s.start();
    await new Promise((resolve) => setTimeout(resolve, 150));
    await s.stop();
    const stoppedAt = count;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(count).toBe(stoppedAt);
    await s.start();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(count).toBeGreaterThan(stoppedAt);
  });

  it('draws the busy pattern when asked, strip included', async () => {
    const bars = source({ width: 320, height: 240, fps: 30 });
    const busy = source({ width: 320, height: 240, fps: 30, pattern: 'busy' });
    const first = (s: TestPatternSource) =>
      new Promise<RawVideoFrame>((resolve) => {
        s.once('frame', (f: RawVideoFrame) => {
          resolve({ ...f, data: f.data.slice() });
        });
      });
    const [barsFrame, busyFrame] = await Promise.all([first(bars), first(busy), bars.start(), busy.start()]);
    for (const f of [barsFrame, busyFrame]) {
      expect(decodeTimecodeFromLuma(f.data, 320, 240)?.timestampMs).toBe(f.timestampMs);
    }
    // Same strip and text, a different picture around them.
    expect(Buffer.compare(barsFrame.data, busyFrame.data)).not.toBe(0);
  });

  it.each([
    [{ pattern: 'noisy' as 'busy' }, /pattern must be one of bars, busy/],
    [{ fps: 0 }, /fps/],
    [{ fps: 500 }, /fps/],
    [{ width: 161, height: 120 }, /size 161x120/],
    [{ width: 8000, height: 4000 }, /size 8000x4000/],
  ])('rejects %j', (settings, message) => {
    expect(() => new TestPatternSource(settings)).toThrow(ConfigurationError);
    expect(() => new TestPatternSource(settings)).toThrow(message);
  });
});
