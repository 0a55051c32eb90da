import { describe, expect, it } from '@jest/globals';
import {
  TEST_PATTERN_KINDS,
  TestPatternGenerator,
  decodeTimecode,
  decodeTimecodeFromLuma,
  timecodeGeometry,
} from '../src/index.js';
import type { I420Frame, TestPatternKind } from '../src/index.js';
import { i420ToRgba } from './helpers.js';

const T0 = 1_700_000_000_123;
/** Sizes of both luma paths: widths a multiple of 4 (4 pixels per add) and not (642). */
const SIZES: readonly [number, number][] = [
  [160, 120],
  [640, 480],
  [642, 482],
  [1280, 720],
];

/** Fraction of 16×16 luma blocks (whole blocks only) whose bytes differ between two frames. */
function changedBlockFraction(a: I420Frame, b: I420Frame): number {
  const { width, height } = a;
  let changed = 0;
  let total = 0;
  for (let by = 0; by + 16 <= height; by += 16) {
    for (let bx = 0; bx + 16 <= width; bx += 16) {
      total++;
      let differs = false;
      for (let y = by; y < by + 16 && !differs; y++) {
        for (let x = bx; x < bx + 16; x++) {
          if (a.data[y * width + x] !== b.data[y * width + x]) {
            differs = true;
            break;
          }
        }
      }
      if (differs) changed++;
    }
  }
  return changed / total;
}

/** Copies of frames `counter` and `counter + 1` (the pool reuses buffers). */
function twoFrames(
  pattern: TestPatternKind,
  width: number,
  height: number,
  counter: number,
): [I420Frame, I420Frame] {
  const gen = new TestPatternGenerator({ width, height, pattern });
  const copy = (f: I420Frame): I420Frame => ({ ...f, data: f.data.slice() });
  const a = copy(gen.next({ timestampMs: T0, counter }));
  const b = copy(gen.next({ timestampMs: T0 + 33, counter: counter + 1 }));
  return [a, b];
}

describe('busy pattern', () => {
  it('is a pattern next to the default bars', () => {
    expect(TEST_PATTERN_KINDS).toEqual(['bars', 'busy']);
    expect(new TestPatternGenerator({ width: 320, height: 240 }).pattern).toBe('bars');
    expect(new TestPatternGenerator({ width: 320, height: 240, pattern: 'busy' }).pattern).toBe('busy');
    expect(
      () => new TestPatternGenerator({ width: 320, height: 240, pattern: 'noisy' as TestPatternKind }),
    ).toThrow(RangeError);
  });

  it.each(SIZES)('keeps the timecode strip decodable at %ix%i (Y plane and RGBA)', (width, height) => {
    const gen = new TestPatternGenerator({ width, height, pattern: 'busy' });
    const { stripHeight } = timecodeGeometry(width, height);
    for (let i = 0; i < 40; i++) {
      const timestampMs = T0 + i * 33_337;
      const counter = 1000 + i * 7;
      const frame = gen.next({ timestampMs, counter });
      const expected = { timestampMs, counter: counter % 256 };
      expect(decodeTimecodeFromLuma(frame.data, width, height)).toEqual(expected);
      const rgba = i420ToRgba(frame.data, width, height).subarray(0, width * stripHeight * 4);
      expect(decodeTimecode(rgba, width, height)).toEqual(expected);
    }
  });

  it.each(SIZES)('changes most of the picture from one frame to the next at %ix%i', (width, height) => {
    for (const counter of [0, 59, 120, 1_000_001]) {
      const [a, b] = twoFrames('busy', width, height, counter);
      // all but the strip and the text band (≈ 15–25 % of the blocks, more at small sizes)
      expect(changedBlockFraction(a, b)).toBeGreaterThan(0.7);
    }
  });

  it('changes far more of the picture than the bars do', () => {
    const [barsA, barsB] = twoFrames('bars', 1280, 720, 10);
    const [busyA, busyB] = twoFrames('busy', 1280, 720, 10);
    const bars = changedBlockFraction(barsA, barsB);
    expect(bars).toBeLessThan(0.3);
    expect(changedBlockFraction(busyA, busyB)).toBeGreaterThan(0.3 + bars);
  });

  it.each(SIZES)('renders the same bytes for the same counter at %ix%i', (width, height) => {
    const first = new TestPatternGenerator({ width, height, pattern: 'busy' });
    const second = new TestPatternGenerator({ width, height, pattern: 'busy', poolSize: 1 });
    for (const counter of [0, 1, 77, 2 ** 40]) {
      const a = first.next({ timestampMs: T0, counter, monotonicMs: 0 }).data.slice();
      second.next({ timestampMs: T0 + 1, counter: counter + 5, monotonicMs: 0 });
      const b = second.next({ timestampMs: T0, counter, monotonicMs: 0 }).data;
      expect(Buffer.compare(a, b)).toBe(0);
      // renderInto with an unaligned buffer takes the byte-wise path and must agree.
      const unaligned = new Uint8Array(first.planes.byteLength + 1).subarray(1);
      first.renderInto(unaligned, T0, counter);
      expect(Buffer.compare(a, unaligned)).toBe(0);
    }
  });

  it('draws the label and clock lines exactly as the bars pattern does', () => {
    const bars = new TestPatternGenerator({ width: 1280, height: 720, label: 'cam' });
    const busy = new TestPatternGenerator({ width: 1280, height: 720, label: 'cam', pattern: 'busy' });
    const { textBand } = busy.layout;
    const from = textBand.y * 1280;
    const to = (textBand.y + textBand.height) * 1280;
    for (const counter of [3, 12_345_678]) {
      const a = bars.next({ timestampMs: T0 + counter, counter }).data.subarray(from, to);
      const b = busy.next({ timestampMs: T0 + counter, counter }).data.subarray(from, to);
      expect(Buffer.compare(a, b)).toBe(0);
      expect(new Set(b).size).toBeGreaterThan(1); // the text is there, not just the band
    }
  });

  it('keeps luma and chroma in limited range', () => {
    const gen = new TestPatternGenerator({ width: 640, height: 480, pattern: 'busy' });
    for (let counter = 0; counter < 300; counter += 13) {
      const { data } = gen.next({ timestampMs: T0, counter });
      let min = 255;
      let max = 0;
      for (const v of data) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      expect(min).toBeGreaterThanOrEqual(16);
      expect(max).toBeLessThanOrEqual(240);
    }
  });
});
