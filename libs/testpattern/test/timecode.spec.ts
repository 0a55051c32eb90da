import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  TIMECODE_MAX_TIMESTAMP,
  TIMECODE_VERSION,
  TestPatternGenerator,
  decodeTimecode,
  decodeTimecodeBits,
  decodeTimecodeFromLuma,
  drawTimecode,
  encodeTimecodeBits,
  i420Layout,
  readTimecode,
  readTimecodeFromLuma,
  timecodeChecksum,
  timecodeGeometry,
} from '../src/index.js';
import { blurAndNoise, blurAndNoisePlane, grayFrame, i420ToRgba, paintCell, resizeRgba } from './helpers.js';

const SIZES: readonly [number, number][] = [
  [160, 120],
  [320, 240],
  [640, 480],
  [642, 482],
  [1000, 562],
  [1280, 720],
  [1920, 1080],
  [3840, 2160],
];

const timestampArb = fc
  .integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
  .map((n) => n % TIMECODE_MAX_TIMESTAMP);
const realisticTimeArb = fc.integer({ min: 1_500_000_000_000, max: 4_000_000_000_000 });
const counterArb = fc.nat({ max: 1_000_000 });
const evenArb = (min: number, max: number) => fc.integer({ min: min / 2, max: max / 2 }).map((n) => n * 2);

/** Frame buffers reused per size (allocation of 4K frames in every run would dominate the test). */
const frames = new Map<string, ReturnType<typeof grayFrame>>();
function frameFor(width: number, height: number) {
  const key = `${width}x${height}`;
  let frame = frames.get(key);
  if (!frame) {
    frame = grayFrame(width, height);
    frames.set(key, frame);
  }
  return frame;
}

describe('timecodeGeometry', () => {
  it('follows spec v1: floor(H/24) rounded down to even, floor(W/64)', () => {
    expect(TIMECODE_VERSION).toBe(1);
    expect(timecodeGeometry(160, 120)).toEqual({ stripHeight: 4, cellWidth: 2, stripWidth: 128 });
    expect(timecodeGeometry(640, 480)).toEqual({ stripHeight: 20, cellWidth: 10, stripWidth: 640 });
    expect(timecodeGeometry(642, 482)).toEqual({ stripHeight: 20, cellWidth: 10, stripWidth: 640 });
    expect(timecodeGeometry(1280, 720)).toEqual({ stripHeight: 30, cellWidth: 20, stripWidth: 1280 });
    expect(timecodeGeometry(1920, 1080)).toEqual({ stripHeight: 44, cellWidth: 30, stripWidth: 1920 });
    expect(timecodeGeometry(3840, 2160)).toEqual({ stripHeight: 90, cellWidth: 60, stripWidth: 3840 });
    expect(timecodeGeometry(10, 10)).toEqual({ stripHeight: 0, cellWidth: 0, stripWidth: 0 });
  });
});

describe('timecode bits', () => {
  it('lays out markers, timestamp MSB first, counter and checksum', () => {
    const t = 0xabcdef012345;
    const bits = encodeTimecodeBits({ timestampMs: t, counter: 0x1a5 }); // counter mod 256 = 0xa5
    expect(Array.from(bits.subarray(0, 2))).toEqual([1, 0]);
    expect(Array.from(bits.subarray(62))).toEqual([0, 1]);
    expect(bits.subarray(2, 50).join('')).toBe(t.toString(2).padStart(48, '0'));
    expect(bits.subarray(50, 58).join('')).toBe((0xa5).toString(2).padStart(8, '0'));
    const nibbles = [0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0xa, 0x5];
    const checksum = nibbles.reduce((a, b) => a ^ b, 0);
    expect(timecodeChecksum(t, 0xa5)).toBe(checksum);
    expect(bits.subarray(58, 62).join('')).toBe(checksum.toString(2).padStart(4, '0'));
    expect(decodeTimecodeBits(bits)).toEqual({ ok: true, timestampMs: t, counter: 0xa5 });
  });

  it('round-trips any 48-bit timestamp and counter', () => {
    fc.assert(
      fc.property(timestampArb, counterArb, (timestampMs, counter) => {
        const bits = encodeTimecodeBits({ timestampMs, counter });
        expect(decodeTimecodeBits(bits)).toEqual({ ok: true, timestampMs, counter: counter % 256 });
      }),
      { numRuns: 500 },
    );
    for (const timestampMs of [0, 1, 2 ** 24 - 1, 2 ** 24, 2 ** 32, 2 ** 48 - 1]) {
      const bits = encodeTimecodeBits({ timestampMs, counter: 255 });
      expect(decodeTimecodeBits(bits)).toEqual({ ok: true, timestampMs, counter: 255 });
    }
  });

  it('rejects every single flipped bit', () => {
    const bits = encodeTimecodeBits({ timestampMs: 1_712_345_678_901, counter: 77 });
    for (let i = 0; i < 64; i++) {
      const corrupted = Uint8Array.from(bits);
      corrupted[i] = corrupted[i]! ^ 1;
      const result = decodeTimecodeBits(corrupted);
      expect(result.ok).toBe(false);
      const reason = i < 2 ? 'start-marker' : i >= 62 ? 'end-marker' : 'checksum';
      expect(result).toEqual({ ok: false, reason });
    }
  });

  it('rejects invalid values', () => {
    expect(() => encodeTimecodeBits({ timestampMs: -1, counter: 0 })).toThrow(RangeError);
    expect(() => encodeTimecodeBits({ timestampMs: 2 ** 48, counter: 0 })).toThrow(/2\^48/);
    expect(() => encodeTimecodeBits({ timestampMs: Number.NaN, counter: 0 })).toThrow(RangeError);
    expect(() => encodeTimecodeBits({ timestampMs: 0, counter: -1 })).toThrow(/counter/);
    expect(() => encodeTimecodeBits({ timestampMs: 0, counter: 1.5 })).toThrow(/counter/);
    // fractional milliseconds are floored
    expect(decodeTimecodeBits(encodeTimecodeBits({ timestampMs: 12.9, counter: 1 }))).toMatchObject({
      timestampMs: 12,
    });
  });
});

describe('drawTimecode', () => {
  it('draws white/black cells, a black remainder and neutral chroma only in the top band', () => {
    const { data, width, height } = grayFrame(642, 482);
    drawTimecode({ data, width, height }, { timestampMs: 1_700_000_000_123, counter: 42 });
    const l = i420Layout(width, height);
    const bits = encodeTimecodeBits({ timestampMs: 1_700_000_000_123, counter: 42 });
    const { stripHeight, cellWidth } = timecodeGeometry(width, height);
    for (let y = 0; y < stripHeight; y++) {
      for (let x = 0; x < width; x++) {
        const cell = Math.floor(x / cellWidth);
        const expected = cell < 64 && bits[cell] === 1 ? 235 : 16;
        if (data[y * width + x] !== expected) throw new Error(`luma at ${x},${y}`);
      }
    }
    expect(data[stripHeight * width]).toBe(128); // first row under the strip untouched
    for (let y = 0; y < stripHeight / 2; y++) {
      for (let x = 0; x < l.uvWidth; x++) {
        expect(data[l.uOffset + y * l.uvWidth + x]).toBe(128);
        expect(data[l.vOffset + y * l.uvWidth + x]).toBe(128);
      }
    }
  });

  it('draws into separate planes with strides', () => {
    const width = 640;
    const height = 360;
    const yStride = 704;
    const uvStride = 352;
    const y = new Uint8Array(yStride * height).fill(50);
    const u = new Uint8Array(uvStride * (height / 2)).fill(60);
    const v = new Uint8Array(uvStride * (height / 2)).fill(70);
    drawTimecode(
      { width, height, y, u, v, yStride, uStride: uvStride, vStride: uvStride },
      { timestampMs: 123_456_789, counter: 9 },
    );
    expect(decodeTimecodeFromLuma(y, width, height, yStride)).toEqual({
      timestampMs: 123_456_789,
      counter: 9,
    });
    expect(y[width]).toBe(50); // padding untouched
    expect(u[0]).toBe(128);
    expect(u[width / 2]).toBe(60);
    expect(v[(15 / 2) * uvStride - 1]).toBe(70);
  });

  it('rejects pictures too small for a strip and short buffers', () => {
    const value = { timestampMs: 0, counter: 0 };
    expect(() => drawTimecode(grayFrame(62, 120), value)).toThrow(/too small/);
    expect(() => drawTimecode(grayFrame(160, 46), value)).toThrow(/too small/);
    expect(() => drawTimecode({ data: new Uint8Array(100), width: 160, height: 120 }, value)).toThrow(
      RangeError,
    );
    expect(() => drawTimecode(grayFrame(160, 120), { timestampMs: -5, counter: 0 })).toThrow(RangeError);
  });
});

describe('draw → decode round trip', () => {
  it.each(SIZES)('%ix%i via RGBA and via luma', (width, height) => {
    const frame = frameFor(width, height);
    const { stripHeight } = timecodeGeometry(width, height);
    fc.assert(
      fc.property(timestampArb, counterArb, (timestampMs, counter) => {
        drawTimecode(frame, { timestampMs, counter });
        const expected = { timestampMs, counter: counter % 256 };
        expect(decodeTimecodeFromLuma(frame.data, width, height)).toEqual(expected);
        const rgba = i420ToRgba(frame.data, width, height, stripHeight);
        expect(decodeTimecode(rgba, width, height)).toEqual(expected);
      }),
      { numRuns: width > 2000 ? 10 : 40 },
    );
  });

  it('round-trips random sizes and times (property)', () => {
    fc.assert(
      fc.property(
        evenArb(160, 3840),
        evenArb(120, 2160),
        realisticTimeArb,
        counterArb,
        (width, height, timestampMs, counter) => {
          const frame = grayFrame(width, height);
          drawTimecode(frame, { timestampMs, counter });
          const expected = { timestampMs, counter: counter % 256 };
          expect(decodeTimecodeFromLuma(frame.data, width, height)).toEqual(expected);
          const rows = timecodeGeometry(width, height).stripHeight;
          expect(decodeTimecode(i420ToRgba(frame.data, width, height, rows), width, height)).toEqual(
            expected,
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('decodes a whole generated frame (full-height RGBA)', () => {
    const gen = new TestPatternGenerator({ width: 640, height: 480, poolSize: 1 });
    const frame = gen.next({ timestampMs: 1_723_456_789_012, counter: 1000 });
    const rgba = i420ToRgba(frame.data, 640, 480);
    expect(decodeTimecode(rgba, 640, 480)).toEqual({ timestampMs: 1_723_456_789_012, counter: 1000 % 256 });
    expect(readTimecode(rgba, 640, 480)).toEqual({ ok: true, timestampMs: 1_723_456_789_012, counter: 232 });
  });

  it.each(SIZES)('%ix%i survives mild blur and noise', (width, height) => {
    const frame = frameFor(width, height);
    const rows = timecodeGeometry(width, height).stripHeight;
    fc.assert(
      fc.property(realisticTimeArb, counterArb, fc.nat(1000), (timestampMs, counter, seed) => {
        drawTimecode(frame, { timestampMs, counter });
        const expected = { timestampMs, counter: counter % 256 };
        const radius = width >= 640 ? 2 : 0; // a 2-pixel cell cannot survive a 5-pixel blur
        const rgba = blurAndNoise(i420ToRgba(frame.data, width, height, rows), width, rows, radius, 24, seed);
        expect(decodeTimecode(rgba, width, height)).toEqual(expected);
        const luma = blurAndNoisePlane(frame.data, width, rows, width, radius, 24, seed);
        expect(decodeTimecodeFromLuma(luma, width, height)).toEqual(expected);
      }),
      { numRuns: 20 },
    );
  });

  it.each([
    [1280, 720, 640, 360],
    [1920, 1080, 960, 540],
    [642, 482, 321, 241],
    [3840, 2160, 1280, 720],
  ])('decodes %ix%i shown at %ix%i (formula geometry)', (width, height, dw, dh) => {
    const frame = frameFor(width, height);
    const timestampMs = 1_765_432_109_876;
    drawTimecode(frame, { timestampMs, counter: 200 });
    const rows = timecodeGeometry(width, height).stripHeight + 4;
    const small = resizeRgba(i420ToRgba(frame.data, width, height, rows), width, height, rows, dw, dh);
    expect(decodeTimecode(small.rgba, dw, dh, { search: false })).toEqual({ timestampMs, counter: 200 });
    const blurred = blurAndNoise(small.rgba, dw, small.rows, 1, 16, 7);
    expect(decodeTimecode(blurred, dw, dh)).toEqual({ timestampMs, counter: 200 });
  });

  it.each([
    [1000, 562, 500, 281],
    [1280, 720, 854, 480],
    [1280, 720, 1000, 562],
    [1920, 1080, 1366, 768],
    [640, 480, 480, 360],
    [700, 400, 560, 320],
  ])('decodes %ix%i shown at %ix%i (measured geometry)', (width, height, dw, dh) => {
    // floor(W/64) does not scale with the picture here: the formula geometry alone would sample the
    // wrong cells (and sometimes pass the checksum with a wrong value); the default search measures
    // the strip instead.
    const gen = new TestPatternGenerator({ width, height, poolSize: 1 });
    const rows = Math.ceil(height / 6);
    for (let i = 0; i < 30; i++) {
      const timestampMs = 1_765_432_109_876 + i * 33_367;
      const frame = gen.next({ timestampMs, counter: i * 7 });
      const small = resizeRgba(i420ToRgba(frame.data, width, height, rows), width, height, rows, dw, dh);
      expect(decodeTimecode(small.rgba, dw, dh)).toEqual({ timestampMs, counter: i * 7 });
    }
  });

  it('accepts RGBA holding only the strip rows, and rejects fewer rows', () => {
    const frame = frameFor(1280, 720);
    drawTimecode(frame, { timestampMs: 5, counter: 6 });
    const rgba = i420ToRgba(frame.data, 1280, 720, 30);
    expect(decodeTimecode(rgba, 1280, 720)).toEqual({ timestampMs: 5, counter: 6 });
    expect(() => decodeTimecode(rgba.subarray(0, 1280 * 4 * 29), 1280, 720)).toThrow(/needs at least 30/);
    expect(() => decodeTimecodeFromLuma(frame.data, 1280, 720, 1000)).toThrow(/stride/);
    expect(() => decodeTimecode(rgba, 0, 720)).toThrow(RangeError);
  });
});

describe('corrupted strips are rejected', () => {
  const width = 1280;
  const height = 720;
  const value = { timestampMs: 1_734_000_000_000, counter: 17 };
  const bits = encodeTimecodeBits(value);

  function corrupt(cells: readonly number[]) {
    const frame = grayFrame(width, height);
    drawTimecode(frame, value);
    for (const cell of cells) paintCell(frame.data, width, height, cell, bits[cell] ? 16 : 235);
    const rgba = i420ToRgba(frame.data, width, height, 30);
    return { luma: readTimecodeFromLuma(frame.data, width, height), rgba: readTimecode(rgba, width, height) };
  }

  it('flipped data bit → checksum', () => {
    for (const cell of [2, 25, 26, 49, 50, 57, 58, 61]) {
      const { luma, rgba } = corrupt([cell]);
      expect(luma).toEqual({ ok: false, reason: 'checksum' });
      expect(rgba).toEqual({ ok: false, reason: 'checksum' });
    }
  });

  it('broken start or end marker', () => {
    expect(corrupt([0]).luma).toEqual({ ok: false, reason: 'start-marker' });
    expect(corrupt([1]).rgba).toEqual({ ok: false, reason: 'start-marker' });
    expect(corrupt([62]).luma).toEqual({ ok: false, reason: 'end-marker' });
    expect(corrupt([63]).rgba).toEqual({ ok: false, reason: 'end-marker' });
  });

  it('null from decodeTimecode / decodeTimecodeFromLuma, no strip at all', () => {
    const frame = grayFrame(width, height);
    expect(decodeTimecodeFromLuma(frame.data, width, height)).toBeNull();
    expect(decodeTimecode(i420ToRgba(frame.data, width, height, 30), width, height)).toBeNull();
    const black = new Uint8ClampedArray(width * 30 * 4);
    expect(readTimecode(black, width, height)).toEqual({ ok: false, reason: 'start-marker' });
    expect(readTimecode(new Uint8ClampedArray(60 * 40 * 4), 60, 40)).toEqual({
      ok: false,
      reason: 'too-small',
    });
  });

  it('a strip of a different frame size does not decode with wrong geometry', () => {
    // 1280-wide strip read as if the picture were 1344 wide (cells 21 px instead of 20)
    const frame = grayFrame(1344, 720);
    const inner = grayFrame(width, height);
    drawTimecode(inner, value);
    for (let y = 0; y < 30; y++) frame.data.set(inner.data.subarray(y * width, (y + 1) * width), y * 1344);
    expect(readTimecodeFromLuma(frame.data, 1344, 720, 1344, { search: false }).ok).toBe(false);
  });
});
