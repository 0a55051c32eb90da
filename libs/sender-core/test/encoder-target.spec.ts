import { describe, expect, it } from '@jest/globals';
import { EncoderBudget } from '../src/encoder-budget.js';
import { MAX_DRAG, MEDIA_SHARE, sharedEncoderTarget } from '../src/encoder-target.js';

const base = { ceilingBps: 2_500_000, floorBps: 150_000, baseLayerShare: 0.6 };

describe('sharedEncoderTarget', () => {
  it('keeps the configured rate while no viewer has an estimate', () => {
    expect(sharedEncoderTarget({ ...base, viewersBps: [] })).toBe(2_500_000);
  });

  it('follows a single viewer down, leaving room for overhead, and never goes above the ceiling', () => {
    expect(sharedEncoderTarget({ ...base, viewersBps: [1_000_000] })).toBeCloseTo(MEDIA_SHARE * 1_000_000);
    expect(sharedEncoderTarget({ ...base, viewersBps: [9_000_000] })).toBe(2_500_000);
  });

  it('lets a slow viewer pull the target down only until its base layer fits its link', () => {
    // 500 kbit/s and a free viewer: the base layer (60 %) of the target fits the slow link.
    const target = sharedEncoderTarget({ ...base, viewersBps: [500_000, 5_000_000] });
    expect(target * base.baseLayerShare).toBeLessThanOrEqual(MEDIA_SHARE * 500_000 + 1);
    expect(target).toBeGreaterThan(500_000); // the free viewer still gets more than the slow one
  });

  it('does not let a very slow viewer drag the others below MAX_DRAG of their rate', () => {
    const target = sharedEncoderTarget({ ...base, viewersBps: [120_000, 2_800_000] });
    expect(target).toBeCloseTo(MAX_DRAG * 2_500_000);
  });

  it('follows the slowest H.264 viewer (no layers) within the same bound, and never below the floor', () => {
    const h264 = { ...base, baseLayerShare: 1 };
    expect(sharedEncoderTarget({ ...h264, viewersBps: [1_000_000, 3_000_000] })).toBeCloseTo(
      MEDIA_SHARE * 1_000_000,
    );
    expect(sharedEncoderTarget({ ...h264, viewersBps: [50_000] })).toBe(150_000);
  });
});

describe('EncoderBudget', () => {
  /** 10 s at 30 fps of an encoder making `bytesPerFrame`; returns the frames encoded. */
  function run(budget: EncoderBudget, bytesPerFrame: (n: number) => number, targetBps: number): number {
    let encoded = 0;
    for (let n = 0; n < 300; n++) {
      const nowMs = (n * 1000) / 30;
      if (budget.shouldSkip(nowMs, targetBps)) continue;
      budget.onEncoded(bytesPerFrame(n), nowMs, targetBps);
      encoded += 1;
    }
    return encoded;
  }

  it('skips nothing while the encoder meets its target, keyframes included', () => {
    const budget = new EncoderBudget();
    // 400 kbit/s at 30 fps, a keyframe of 5 average frames every 2 s, paid back by rate control
    // over the next 8 frames (at half size), as libvpx does.
    const average = 400_000 / 8 / 30;
    const size = (n: number): number => (n % 60 === 0 ? 5 * average : n % 60 <= 8 ? average / 2 : average);
    expect(run(budget, size, 400_000)).toBe(300);
    expect(budget.skipped).toBe(0);
  });

  it('halves the frame rate of an encoder that makes twice its target', () => {
    const budget = new EncoderBudget();
    const encoded = run(budget, () => (2 * 400_000) / 8 / 30, 400_000);
    // The bits that leave match the target within one frame per second.
    expect(encoded).toBeGreaterThanOrEqual(140);
    expect(encoded).toBeLessThanOrEqual(165);
  });

  it('never skips more than maxConsecutiveSkips frames in a row', () => {
    const budget = new EncoderBudget(250, 3);
    const encoded = run(budget, () => (20 * 400_000) / 8 / 30, 400_000);
    expect(encoded).toBe(75); // every fourth frame
  });
});
