import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  COLOR_BARS,
  PATTERN_COLORS,
  barAt,
  expectedBarColors,
  patternLayout,
  rgbLuma,
  rgbToYuv601,
  yuvToRgb601,
} from '../src/index.js';

describe('BT.601 colour bars', () => {
  it('match the reference 75% bar values (limited range)', () => {
    expect(COLOR_BARS.map((b) => [b.name, b.yuv.y, b.yuv.u, b.yuv.v])).toEqual([
      ['white', 180, 128, 128],
      ['yellow', 162, 44, 142],
      ['cyan', 131, 156, 44],
      ['green', 112, 72, 58],
      ['magenta', 84, 184, 198],
      ['red', 65, 100, 212],
      ['blue', 35, 212, 114],
    ]);
    COLOR_BARS.forEach((b, i) => expect(b.index).toBe(i));
  });

  it('have RGB close to 75% (191) / 0', () => {
    for (const bar of COLOR_BARS) {
      for (const c of [bar.rgb.r, bar.rgb.g, bar.rgb.b]) {
        expect(Math.min(Math.abs(c - 191), Math.abs(c))).toBeLessThanOrEqual(2);
      }
    }
    expect(COLOR_BARS.find((b) => b.name === 'yellow')!.rgb).toEqual({ r: 192, g: 192, b: 1 });
  });

  it('other pattern colours', () => {
    expect(PATTERN_COLORS.black.yuv).toEqual({ y: 16, u: 128, v: 128 });
    expect(PATTERN_COLORS.white.yuv).toEqual({ y: 235, u: 128, v: 128 });
    expect(PATTERN_COLORS.plugeLow.yuv.y).toBe(7);
    expect(PATTERN_COLORS.plugeHigh.yuv.y).toBe(25);
    expect(PATTERN_COLORS.minusI.yuv).toEqual({ y: 16, u: 156, v: 97 });
    expect(PATTERN_COLORS.plusQ.yuv).toEqual({ y: 16, u: 171, v: 148 });
  });

  it('rgbToYuv601 and yuvToRgb601 invert each other within rounding', () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(255), fc.nat(255), (r, g, b) => {
        const yuv = rgbToYuv601(r / 255, g / 255, b / 255);
        expect(yuv.y).toBeGreaterThanOrEqual(16);
        expect(yuv.y).toBeLessThanOrEqual(235);
        const back = yuvToRgb601(yuv.y, yuv.u, yuv.v);
        expect(Math.abs(back.r - r)).toBeLessThanOrEqual(3);
        expect(Math.abs(back.g - g)).toBeLessThanOrEqual(3);
        expect(Math.abs(back.b - b)).toBeLessThanOrEqual(3);
      }),
    );
    expect(yuvToRgb601(16, 128, 128)).toEqual({ r: 0, g: 0, b: 0 });
    expect(yuvToRgb601(235, 128, 128)).toEqual({ r: 255, g: 255, b: 255 });
    expect(rgbLuma(255, 255, 255)).toBeCloseTo(255);
  });
});

describe('bar geometry', () => {
  it('barAt agrees with the layout and the sample points', () => {
    for (const [w, h] of [
      [160, 120],
      [642, 482],
      [1920, 1080],
    ] as const) {
      const { barEdges } = patternLayout(w, h);
      for (let x = 0; x < w; x++) {
        const i = barAt(x, w);
        expect(x >= barEdges[i]! && x < barEdges[i + 1]!).toBe(true);
      }
      for (const p of expectedBarColors(w, h)) expect(barAt(p.x, w)).toBe(p.bar.index);
    }
    expect(() => barAt(-1, 640)).toThrow(RangeError);
    expect(() => barAt(640, 640)).toThrow(RangeError);
  });

  it('sample points for 1280x720', () => {
    const points = expectedBarColors(1280, 720);
    expect(points[0]).toMatchObject({ name: 'white', x: 91, y: 198, yuv: { y: 180, u: 128, v: 128 } });
    expect(points[6]).toMatchObject({ name: 'blue', x: 1189, rgb: COLOR_BARS[6]!.rgb });
  });
});
