import { describe, expect, it } from '@jest/globals';
import { i420ByteLength, type RawVideoFrame } from '@robocam/types';
import {
  MIN_SWITCH_INTERVAL_MS,
  ResolutionTier,
  UPSCALE_AFTER_MS,
  halveI420,
  scaleI420,
} from '../src/resolution-tier.js';

function frame(
  width: number,
  height: number,
  fill: (plane: number, x: number, y: number) => number,
): RawVideoFrame {
  const data = new Uint8Array(i420ByteLength(width, height));
  let offset = 0;
  [
    [width, height],
    [width / 2, height / 2],
    [width / 2, height / 2],
  ].forEach(([w, h], plane) => {
    for (let y = 0; y < h!; y++) for (let x = 0; x < w!; x++) data[offset++] = fill(plane, x, y);
  });
  return { data, width, height, timestampMs: 1, monotonicMs: 2, sequence: 3 };
}

describe('halveI420', () => {
  it('averages each 2×2 block of every plane (rounding) and keeps the timing fields', () => {
    const input = frame(8, 4, (plane, x, y) => plane * 50 + x + 10 * y);
    const out = halveI420(input, new Uint8Array(i420ByteLength(4, 2)));
    expect(out).toMatchObject({ width: 4, height: 2, timestampMs: 1, monotonicMs: 2, sequence: 3 });
    // Luma (0,0): mean of 0, 1, 10, 11 = 5.5 → 6.
    expect(out.data[0]).toBe(6);
    // Luma (3,1): x 6–7, y 2–3 → (26 + 27 + 36 + 37) / 4 = 31.5 → 32.
    expect(out.data[1 * 4 + 3]).toBe(32);
    // U (0,0) of a 4×2 chroma plane → one sample: (50 + 51 + 60 + 61) / 4 = 55.5 → 56.
    expect(out.data[8]).toBe(56);
    // V likewise, 50 higher.
    expect(out.data[10]).toBe(106);
    expect(out.data.length).toBe(i420ByteLength(4, 2));
  });

  it('quarters a frame by halving twice, reusing its buffers', () => {
    const buffers = {};
    const input = frame(16, 16, () => 77);
    const first = scaleI420(input, 4, buffers);
    expect(first).toMatchObject({ width: 4, height: 4 });
    expect([...first.data].every((v) => v === 77)).toBe(true);
    const again = scaleI420(input, 4, buffers);
    expect(again.data.buffer).toBe(first.data.buffer);
    expect(scaleI420(input, 1, buffers)).toBe(input);
  });
});

describe('ResolutionTier', () => {
  const ceiling = 2_500_000;

  it('goes down a step below 40 % and 15 % of the configured rate, at most once per interval', () => {
    const tier = new ResolutionTier();
    expect(tier.decide(2_000_000, ceiling, 0)).toBe(1);
    expect(tier.decide(900_000, ceiling, 1_000)).toBe(2);
    // Far lower at once: still one step per interval.
    expect(tier.decide(300_000, ceiling, 1_500)).toBe(2);
    expect(tier.decide(300_000, ceiling, 1_000 + MIN_SWITCH_INTERVAL_MS)).toBe(4);
  });

  it('goes back up only after the target stayed above the threshold, and never past maxScale', () => {
    const tier = new ResolutionTier();
    tier.decide(900_000, ceiling, 0);
    expect(tier.scale).toBe(2);
    let now = MIN_SWITCH_INTERVAL_MS;
    // A moment above 60 % (a probe) is not enough.
    expect(tier.decide(1_600_000, ceiling, now)).toBe(2);
    expect(tier.decide(1_000_000, ceiling, (now += 500))).toBe(2);
    expect(tier.decide(1_600_000, ceiling, (now += 500))).toBe(2);
    expect(tier.decide(1_600_000, ceiling, now + UPSCALE_AFTER_MS)).toBe(1);
    const small = new ResolutionTier();
    expect(small.decide(100_000, ceiling, 0, 1)).toBe(1);
  });

  it('knows which sizes can be divided into even sizes', () => {
    expect(ResolutionTier.maxScale(1280, 720)).toBe(4);
    expect(ResolutionTier.maxScale(640, 480)).toBe(4);
    expect(ResolutionTier.maxScale(320, 180)).toBe(2);
    expect(ResolutionTier.maxScale(160, 90)).toBe(1);
  });
});
