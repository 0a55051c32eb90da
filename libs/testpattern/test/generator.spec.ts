import { describe, expect, it } from '@jest/globals';
import type { RawVideoFrame } from '@robocam/types';
import fc from 'fast-check';
import {
  FONT_CHARACTERS,
  MAX_HEIGHT,
  MAX_WIDTH,
  MIN_HEIGHT,
  MIN_WIDTH,
  TestPatternGenerator,
  assertPatternSize,
  decodeTimecode,
  decodeTimecodeFromLuma,
  expectedBarColors,
  i420Layout,
  isPatternSize,
  movingBoxRect,
  patternLayout,
  timecodeGeometry,
} from '../src/index.js';
import type { I420Frame, PatternLayout, Rect } from '../src/index.js';
import { glyphRows } from '../src/font.js';
import { i420ToRgba, yuvAt } from './helpers.js';

const SIZES: readonly [number, number][] = [
  [160, 120],
  [640, 480],
  [642, 482],
  [1280, 720],
  [1920, 1080],
  [3840, 2160],
  [3840, 120],
  [160, 2160],
];

const T0 = 1_700_000_000_123; // 2023-11-14T22:13:20.123Z

/** Reads a line of text drawn with the 5×7 font at a scale from the Y plane. */
function readText(frame: I420Frame, x: number, y: number, scale: number, chars: number): string {
  let text = '';
  for (let k = 0; k < chars; k++) {
    const rows: string[] = [];
    for (let row = 0; row < 7; row++) {
      let bits = '';
      for (let col = 0; col < 5; col++) {
        const px = x + (k * 6 + col) * scale + (scale >> 1);
        const py = y + row * scale + (scale >> 1);
        bits += frame.data[py * frame.width + px]! > 128 ? '#' : '.';
      }
      rows.push(bits);
    }
    const key = rows.join(' ');
    const match = Array.from(FONT_CHARACTERS).find((c) => glyphRows(c)!.join(' ') === key);
    text += match ?? '\u0000';
  }
  return text;
}

/** Left column of the (centred) label line with `chars` characters. */
function labelX(layout: PatternLayout, chars: number): number {
  const width = (chars * 6 - 1) * layout.textScale;
  return Math.max(layout.labelLine.x, 2 * Math.floor((layout.width - width) / 4));
}

function intersects(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function rowsEqual(a: Uint8Array, b: Uint8Array, width: number, from: number, to: number): boolean {
  for (let i = from * width; i < to * width; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('sizes', () => {
  it.each([
    [161, 120],
    [160, 121],
    [158, 120],
    [160, 118],
    [3842, 2160],
    [3840, 2162],
    [0, 0],
    [1280.5, 720],
    [Number.NaN, 720],
    [-640, 480],
  ])('rejects %dx%d with a RangeError naming the limits', (width, height) => {
    expect(isPatternSize(width, height)).toBe(false);
    expect(() => new TestPatternGenerator({ width, height })).toThrow(RangeError);
    expect(() => new TestPatternGenerator({ width, height })).toThrow(
      `must be even integers with ${MIN_WIDTH} <= width <= ${MAX_WIDTH} and ${MIN_HEIGHT} <= height <= ${MAX_HEIGHT}`,
    );
    expect(() => expectedBarColors(width, height)).toThrow(RangeError);
  });

  it('accepts the limits', () => {
    for (const [w, h] of [
      [160, 120],
      [3840, 2160],
      [160, 2160],
      [3840, 120],
    ] as const) {
      expect(() => assertPatternSize(w, h)).not.toThrow();
    }
  });

  it('rejects a bad pool size', () => {
    for (const poolSize of [0, -1, 1.5, 65, Number.NaN]) {
      expect(() => new TestPatternGenerator({ width: 320, height: 240, poolSize })).toThrow(/poolSize/);
    }
  });

  it('computes I420 plane offsets', () => {
    expect(i420Layout(1280, 720)).toEqual({
      width: 1280,
      height: 720,
      ySize: 921_600,
      uvWidth: 640,
      uvHeight: 360,
      uSize: 230_400,
      uOffset: 921_600,
      vOffset: 1_152_000,
      byteLength: 1_382_400,
    });
    expect(i420Layout(3, 3)).toMatchObject({ uvWidth: 2, uvHeight: 2, byteLength: 17 });
    expect(() => i420Layout(0, 10)).toThrow(RangeError);
  });
});

describe('frames and pool', () => {
  it('returns I420 frames with counter and timestamp', () => {
    const gen = new TestPatternGenerator({ width: 320, height: 240 });
    expect(gen.poolSize).toBe(4);
    const before = Date.now();
    const f0 = gen.next();
    expect(f0).toMatchObject({ width: 320, height: 240, counter: 0 });
    expect(f0.data).toBeInstanceOf(Uint8Array);
    expect(f0.data.length).toBe(320 * 240 * 1.5);
    expect(f0.timestampMs).toBeGreaterThanOrEqual(before);
    expect(f0.timestampMs).toBeLessThanOrEqual(Date.now());
    expect(Number.isInteger(f0.timestampMs)).toBe(true);
    expect(decodeTimecodeFromLuma(f0.data, 320, 240)).toEqual({ timestampMs: f0.timestampMs, counter: 0 });
    expect(gen.next({ timestampMs: 5.7 })).toMatchObject({ counter: 1, timestampMs: 5 });
    expect(gen.next({ counter: 1000 }).counter).toBe(1000);
    expect(gen.next().counter).toBe(1001);
    expect(gen.nextCounter).toBe(1002);
  });

  it('is a RawVideoFrame: sequence is the counter, monotonicMs on performance.now()’s timeline', () => {
    const gen = new TestPatternGenerator({ width: 320, height: 240 });
    const before = performance.now();
    const frame: RawVideoFrame = gen.next({ counter: 7 });
    expect(frame.sequence).toBe(7);
    expect(frame.monotonicMs).toBeGreaterThanOrEqual(before);
    expect(frame.monotonicMs).toBeLessThanOrEqual(performance.now());
    expect(gen.next({ monotonicMs: 1234.5 })).toMatchObject({ sequence: 8, monotonicMs: 1234.5 });
  });

  it('reuses the same buffers and frame objects round-robin (no new buffers after warm-up)', () => {
    const gen = new TestPatternGenerator({ width: 320, height: 240, poolSize: 3 });
    const frames = Array.from({ length: 12 }, (_, i) => gen.next({ timestampMs: T0 + i }));
    const datas = frames.map((f) => f.data);
    expect(new Set(datas).size).toBe(3);
    expect(new Set(datas.map((d) => d.buffer)).size).toBe(3);
    for (let i = 3; i < 12; i++) {
      expect(datas[i]).toBe(datas[i % 3]);
      expect(frames[i]).toBe(frames[i % 3]);
    }
    // the frame objects are reused as well: the last one written wins
    expect(frames[0]!.counter).toBe(9);
    const single = new TestPatternGenerator({ width: 160, height: 120, poolSize: 1 });
    expect(single.next().data).toBe(single.next().data);
  });

  it('is deterministic and renderInto matches next()', () => {
    const a = new TestPatternGenerator({ width: 640, height: 480, label: 'cam' });
    const b = new TestPatternGenerator({ width: 640, height: 480, label: 'cam' });
    const fa = a.next({ timestampMs: T0, counter: 77 });
    const fb = b.next({ timestampMs: T0, counter: 77 });
    expect(Buffer.compare(fa.data, fb.data)).toBe(0);
    const own = new Uint8Array(a.planes.byteLength);
    a.renderInto(own, T0, 77);
    expect(Buffer.compare(own, fa.data)).toBe(0);
    expect(a.nextCounter).toBe(78);
    expect(() => a.renderInto(new Uint8Array(10), T0, 1)).toThrow(RangeError);
  });

  it('rejects invalid timestamps and counters', () => {
    const gen = new TestPatternGenerator({ width: 160, height: 120 });
    expect(() => gen.next({ timestampMs: -1 })).toThrow(RangeError);
    expect(() => gen.next({ timestampMs: 2 ** 48 })).toThrow(RangeError);
    expect(() => gen.next({ timestampMs: Number.NaN })).toThrow(RangeError);
    expect(() => gen.next({ counter: -1 })).toThrow(RangeError);
    expect(() => gen.next({ counter: 0.5 })).toThrow(RangeError);
    expect(() => gen.renderInto(new Uint8Array(gen.planes.byteLength), 0, -3)).toThrow(RangeError);
  });
});

describe('colour bars', () => {
  it.each(SIZES)('%ix%i: exact Y/U/V around every sample point, RGB within ±2', (width, height) => {
    const gen = new TestPatternGenerator({ width, height, label: 'bars' });
    const points = expectedBarColors(width, height);
    expect(points.map((p) => p.name)).toEqual(['white', 'yellow', 'cyan', 'green', 'magenta', 'red', 'blue']);
    const layout = gen.layout;
    // the moving box goes everywhere over time; check a few frames including the wrap-around
    for (const counter of [0, 1, 50, 1000, 12_345]) {
      const frame = gen.next({ timestampMs: T0 + counter * 33, counter });
      const rgba = i420ToRgba(frame.data, width, height);
      for (const p of points) {
        expect(p.radius).toBeGreaterThanOrEqual(1);
        for (let dy = -p.radius; dy <= p.radius; dy++) {
          for (let dx = -p.radius; dx <= p.radius; dx++) {
            const [y, u, v] = yuvAt(frame.data, width, height, p.x + dx, p.y + dy);
            if (y !== p.yuv.y || u !== p.yuv.u || v !== p.yuv.v) {
              throw new Error(`${p.name} at ${p.x + dx},${p.y + dy}: ${y},${u},${v}`);
            }
          }
        }
        const o = (p.y * width + p.x) * 4;
        expect(Math.abs(rgba[o]! - p.rgb.r)).toBeLessThanOrEqual(2);
        expect(Math.abs(rgba[o + 1]! - p.rgb.g)).toBeLessThanOrEqual(2);
        expect(Math.abs(rgba[o + 2]! - p.rgb.b)).toBeLessThanOrEqual(2);
      }
      expect(decodeTimecode(rgba, width, height)).toEqual({
        timestampMs: T0 + counter * 33,
        counter: counter % 256,
      });
    }
    expect(layout.barEdges).toHaveLength(8);
  });

  it('has PLUGE and castellations below the bars', () => {
    const gen = new TestPatternGenerator({ width: 1280, height: 720 });
    const frame = gen.next({ timestampMs: T0 });
    const { castellations, pluge, barEdges } = gen.layout;
    const castY = castellations.y + castellations.height / 2;
    const centre = (i: number) => (barEdges[i]! + barEdges[i + 1]!) / 2;
    expect(yuvAt(frame.data, 1280, 720, centre(0), castY)).toEqual([35, 212, 114]); // blue
    expect(yuvAt(frame.data, 1280, 720, centre(1), castY)).toEqual([16, 128, 128]);
    expect(yuvAt(frame.data, 1280, 720, centre(6), castY)).toEqual([180, 128, 128]);
    const py = pluge.y + pluge.height / 2;
    const bar = 1280 / 7;
    expect(yuvAt(frame.data, 1280, 720, Math.round(bar * 1.8), py)).toEqual([235, 128, 128]);
    expect(yuvAt(frame.data, 1280, 720, Math.round(bar * 5.15), py)).toEqual([7, 128, 128]);
    expect(yuvAt(frame.data, 1280, 720, Math.round(bar * 5.5), py)).toEqual([16, 128, 128]);
    expect(yuvAt(frame.data, 1280, 720, Math.round(bar * 5.85), py)).toEqual([25, 128, 128]);
  });
});

describe('moving box', () => {
  it.each(SIZES)('%ix%i: moves every frame and only the box, clock and strip change', (width, height) => {
    const gen = new TestPatternGenerator({ width, height, poolSize: 2 });
    const { layout } = gen;
    const { sampleBand, castellations, pluge, motionTrack, strip } = layout;
    for (const counter of [0, 1, 2, 17, 9_999]) {
      const a = gen.next({ timestampMs: T0, counter });
      const b = gen.next({ timestampMs: T0, counter: counter + 1 });
      const ra = movingBoxRect(layout, counter);
      const rb = movingBoxRect(layout, counter + 1);
      expect(ra.x).not.toBe(rb.x);
      // box pixels: white border (Y 235, neutral chroma) at its left edge
      expect(yuvAt(a.data, width, height, ra.x, ra.y)).toEqual([235, 128, 128]);
      expect(yuvAt(b.data, width, height, rb.x, rb.y)).toEqual([235, 128, 128]);
      // the pixels in the box region differ between the frames
      let differing = 0;
      for (let y = motionTrack.y; y < motionTrack.y + motionTrack.height; y++) {
        for (let x = Math.min(ra.x, rb.x); x < Math.max(ra.x + ra.width, rb.x + rb.width); x++) {
          if (a.data[y * width + x] !== b.data[y * width + x]) differing++;
        }
      }
      expect(differing).toBeGreaterThan(0);
      // static regions identical (the strip differs by counter/checksum only)
      expect(rowsEqual(a.data, b.data, width, sampleBand.y, sampleBand.y + sampleBand.height)).toBe(true);
      expect(rowsEqual(a.data, b.data, width, castellations.y, castellations.y + castellations.height)).toBe(
        true,
      );
      expect(rowsEqual(a.data, b.data, width, pluge.y, pluge.y + pluge.height)).toBe(true);
      expect(rowsEqual(a.data, b.data, width, strip.y, strip.y + strip.height)).toBe(false);
    }
  });

  it('wraps around within the picture', () => {
    const layout = patternLayout(640, 480);
    const span = 640 - layout.box.width;
    for (let c = 0; c < 1000; c++) {
      const r = movingBoxRect(layout, c);
      expect(r.x).toBeGreaterThanOrEqual(0);
      expect(r.x + r.width).toBeLessThanOrEqual(640);
      expect(r.x % 2).toBe(0);
      expect(r.x).toBe((c * layout.box.step) % span);
    }
  });
});

describe('text', () => {
  it.each(SIZES)(
    '%ix%i: clock line reads NNNNNNNN HH:MM:SS.mmmZ, label line label and size',
    (width, height) => {
      const gen = new TestPatternGenerator({ width, height, label: 'front-cam #1' });
      const frame = gen.next({ timestampMs: T0, counter: 1234 });
      const { clockLine, labelLine, textScale: s } = gen.layout;
      expect(readText(frame, clockLine.x, clockLine.y, s, 22)).toBe('00001234 22:13:20.123Z');
      const label = `FRONT-CAM #1 ${width}X${height}`;
      if (label.length <= labelLine.chars) {
        expect(readText(frame, labelX(gen.layout, label.length), labelLine.y, s, label.length)).toBe(label);
      }
      const next = gen.next({ timestampMs: Date.UTC(2030, 0, 1, 23, 59, 59, 999), counter: 123_456_789 });
      expect(readText(next, clockLine.x, clockLine.y, s, 22)).toBe('23456789 23:59:59.999Z');
    },
  );

  it('truncates a long label, keeps the size, draws unknown characters as ?', () => {
    const gen = new TestPatternGenerator({ width: 160, height: 120, label: 'a very long camera name ~' });
    const frame = gen.next({ timestampMs: T0 });
    const { labelLine, textScale } = gen.layout;
    const chars = labelLine.chars;
    const text = readText(frame, labelX(gen.layout, chars), labelLine.y, textScale, chars);
    expect(text).toBe('A VERY LONG CAMERA 160X120');
    const unknown = new TestPatternGenerator({ width: 640, height: 480, label: '~' });
    const line = '? 640X480';
    const x = labelX(unknown.layout, line.length);
    expect(
      readText(unknown.next(), x, unknown.layout.labelLine.y, unknown.layout.textScale, line.length),
    ).toBe(line);
  });
});

describe('layout', () => {
  function checkLayout(layout: PatternLayout): void {
    const { width, height, strip, sampleBand, motionTrack, castellations, textBand, pluge, box } = layout;
    // bands stack from top to bottom without gaps
    const bands = [strip, sampleBand, motionTrack, castellations, textBand, pluge];
    let y = 0;
    for (const band of bands) {
      expect(band.y).toBe(y);
      expect(band.height).toBeGreaterThan(0);
      expect(band.height % 2).toBe(0);
      expect(band.x).toBe(0);
      expect(band.width).toBe(width);
      y += band.height;
    }
    expect(y).toBe(height);
    expect(strip.height).toBe(timecodeGeometry(width, height).stripHeight);
    expect(layout.barEdges[0]).toBe(0);
    expect(layout.barEdges[7]).toBe(width);
    for (const e of layout.barEdges) expect(e % 2).toBe(0);
    // box inside the motion track
    expect(box.y).toBeGreaterThanOrEqual(motionTrack.y);
    expect(box.y + box.height).toBeLessThanOrEqual(motionTrack.y + motionTrack.height);
    expect(box.width).toBeLessThan(width);
    expect(box.step).toBeGreaterThan(0);
    // text lines inside the text band
    const s = layout.textScale;
    const clock: Rect = { x: layout.clockLine.x, y: layout.clockLine.y, width: 22 * 6 * s, height: 7 * s };
    const label: Rect = {
      x: layout.labelLine.x,
      y: layout.labelLine.y,
      width: layout.labelLine.chars * 6 * s,
      height: 7 * s,
    };
    for (const r of [clock, label]) {
      expect(r.x).toBeGreaterThanOrEqual(0);
      expect(r.x + r.width).toBeLessThanOrEqual(width);
      expect(r.y).toBeGreaterThanOrEqual(textBand.y);
      expect(r.y + r.height).toBeLessThanOrEqual(textBand.y + textBand.height);
    }
    expect(layout.labelLine.chars).toBeGreaterThanOrEqual(`${width}X${height}`.length);
    // sample areas: inside their bar and the sample band, clear of strip, box, text
    for (const p of expectedBarColors(width, height)) {
      const area: Rect = {
        x: p.x - p.radius,
        y: p.y - p.radius,
        width: 2 * p.radius + 1,
        height: 2 * p.radius + 1,
      };
      expect(p.radius).toBeGreaterThanOrEqual(1);
      expect(area.x).toBeGreaterThanOrEqual(layout.barEdges[p.bar.index]!);
      expect(area.x + area.width).toBeLessThanOrEqual(layout.barEdges[p.bar.index + 1]!);
      expect(area.y).toBeGreaterThanOrEqual(sampleBand.y);
      expect(area.y + area.height).toBeLessThanOrEqual(sampleBand.y + sampleBand.height);
      for (const other of [strip, motionTrack, textBand, clock, label])
        expect(intersects(area, other)).toBe(false);
    }
  }

  it.each(SIZES)('%ix%i is consistent', (width, height) => checkLayout(patternLayout(width, height)));

  it('is consistent for every supported size (property)', () => {
    const even = (min: number, max: number) => fc.integer({ min: min / 2, max: max / 2 }).map((n) => n * 2);
    fc.assert(
      fc.property(even(MIN_WIDTH, MAX_WIDTH), even(MIN_HEIGHT, MAX_HEIGHT), (w, h) =>
        checkLayout(patternLayout(w, h)),
      ),
      { numRuns: 300 },
    );
  });
});
