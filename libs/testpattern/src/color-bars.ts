import { rgbToYuv601, yuvToRgb601 } from './bt601.js';
import type { Rgb, Yuv } from './bt601.js';

/** Names of the seven SMPTE-style 75% colour bars, left to right. */
export type BarName = 'white' | 'yellow' | 'cyan' | 'green' | 'magenta' | 'red' | 'blue';

/** One colour of the pattern: its BT.601 limited-range Y'CbCr value and the RGB a display shows. */
export interface PatternColor {
  /** Human-readable name. */
  readonly name: string;
  /** 8-bit limited-range BT.601 value written into the I420 planes. */
  readonly yuv: Yuv;
  /**
   * Full-range RGB a correct BT.601 limited-range decoder produces from `yuv` (computed from the
   * rounded Y/U/V, so it can differ by ±1–2 from the ideal 75% = 191).
   */
  readonly rgb: Rgb;
}

/** One of the seven colour bars. */
export interface BarColor extends PatternColor {
  /** Bar name. */
  readonly name: BarName;
  /** Position from the left, 0..6. */
  readonly index: number;
}

function color(name: string, r: number, g: number, b: number): PatternColor {
  const yuv = rgbToYuv601(r, g, b);
  return { name, yuv, rgb: yuvToRgb601(yuv.y, yuv.u, yuv.v) };
}

function bar(index: number, name: BarName, r: number, g: number, b: number): BarColor {
  return { ...color(name, r, g, b), name, index };
}

/** Intensity of the colour bars: 75% amplitude, 100% saturation (EIA/SMPTE "75% bars"). */
export const BAR_AMPLITUDE = 0.75;

const A = BAR_AMPLITUDE;

/**
 * The seven 75% colour bars, left to right, computed from the BT.601 formulas (see
 * {@link rgbToYuv601}) for R'G'B' components of 0 or 0.75:
 *
 * | bar     | Y   | U (Cb) | V (Cr) |
 * | ------- | --- | ------ | ------ |
 * | white   | 180 | 128    | 128    |
 * | yellow  | 162 | 44     | 142    |
 * | cyan    | 131 | 156    | 44     |
 * | green   | 112 | 72     | 58     |
 * | magenta | 84  | 184    | 198    |
 * | red     | 65  | 100    | 212    |
 * | blue    | 35  | 212    | 114    |
 */
export const COLOR_BARS: readonly BarColor[] = [
  bar(0, 'white', A, A, A),
  bar(1, 'yellow', A, A, 0),
  bar(2, 'cyan', 0, A, A),
  bar(3, 'green', 0, A, 0),
  bar(4, 'magenta', A, 0, A),
  bar(5, 'red', A, 0, 0),
  bar(6, 'blue', 0, 0, A),
];

/**
 * The other colours of the pattern (castellations, PLUGE band, text, timecode strip, moving box).
 * −I and +Q are the classic YIQ chips at 20% amplitude with zero luma (they are outside the RGB
 * gamut, which is intended); PLUGE steps are ±4% of the 16..235 range around black.
 */
export const PATTERN_COLORS = {
  /** Reference black, Y 16. Also the "0" cells of the timecode strip and the text background. */
  black: color('black', 0, 0, 0),
  /** 100% white, Y 235. Also the "1" cells of the timecode strip, the text and the moving box. */
  white: color('white 100%', 1, 1, 1),
  /** PLUGE "blacker than black" step, −4%: Y 7. */
  plugeLow: color('pluge -4%', -0.04, -0.04, -0.04),
  /** PLUGE "lighter than black" step, +4%: Y 25. */
  plugeHigh: color('pluge +4%', 0.04, 0.04, 0.04),
  /** 75% gray (same as the white bar), Y 180. */
  gray: color('gray 75%', A, A, A),
  /** 75% blue (castellations). */
  blue: color('blue 75%', 0, 0, A),
  /** 75% magenta (castellations). */
  magenta: color('magenta 75%', A, 0, A),
  /** 75% cyan (castellations). */
  cyan: color('cyan 75%', 0, A, A),
  /** −I chip (YIQ I = −0.2, Y' = 0): Y 16, U 156, V 97. */
  minusI: color('-I', -0.2 * 0.956, 0.2 * 0.272, 0.2 * 1.106),
  /** +Q chip (YIQ Q = +0.2, Y' = 0): Y 16, U 171, V 148. */
  plusQ: color('+Q', 0.2 * 0.621, -0.2 * 0.647, 0.2 * 1.703),
} as const satisfies Record<string, PatternColor>;
