import { COLOR_BARS } from './color-bars.js';
import type { BarColor, BarName } from './color-bars.js';
import type { Rgb, Yuv } from './bt601.js';
import { GLYPH_ADVANCE } from './font.js';
import { assertPatternSize } from './i420.js';
import { timecodeGeometry } from './timecode.js';
import type { TimecodeGeometry } from './timecode.js';

/** An axis-aligned rectangle in pixels (x, y of the top-left corner; all pattern rects are even). */
export interface Rect {
  /** Left column. */
  readonly x: number;
  /** Top row. */
  readonly y: number;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
}

/** Where a line of text goes. */
export interface TextLine {
  /** Left column of the first glyph (for the label line: the leftmost column, text is centred). */
  readonly x: number;
  /** Top row of the glyphs. */
  readonly y: number;
  /** Number of characters the line holds. */
  readonly chars: number;
}

/** Size and speed of the moving box. */
export interface MovingBox {
  /** Box width in pixels. */
  readonly width: number;
  /** Box height in pixels. */
  readonly height: number;
  /** Top row of the box (it moves only horizontally). */
  readonly y: number;
  /** Horizontal movement per frame counter step, in pixels. */
  readonly step: number;
}

/**
 * Geometry of the test pattern for one size. Top to bottom: timecode strip, colour bars (an upper
 * "sample band" that nothing is ever drawn over, then the motion track of the moving box),
 * castellations, text band (label line and clock line), PLUGE band. All boundaries are even so that
 * chroma (half resolution) never straddles two regions.
 */
export interface PatternLayout {
  /** Picture width. */
  readonly width: number;
  /** Picture height. */
  readonly height: number;
  /** Timecode strip geometry (spec v1). */
  readonly timecode: TimecodeGeometry;
  /** The timecode band: full width, `timecode.stripHeight` rows at the top. */
  readonly strip: Rect;
  /** All of the colour bars (sample band plus motion track). */
  readonly bars: Rect;
  /** The 8 x boundaries of the 7 bars, from 0 to width (bar i covers [barEdges[i], barEdges[i+1])). */
  readonly barEdges: readonly number[];
  /** Upper part of the bars, never covered by the moving box or text: where bar colours are sampled. */
  readonly sampleBand: Rect;
  /** Lower part of the bars where the moving box travels. */
  readonly motionTrack: Rect;
  /** The moving box. */
  readonly box: MovingBox;
  /** The reverse-bar castellations under the bars. */
  readonly castellations: Rect;
  /** Black band holding the label line and the clock line. */
  readonly textBand: Rect;
  /** Integer scale of the 5×7 font (1 font pixel = scale × scale pixels). */
  readonly textScale: number;
  /** Static line: label and picture size. */
  readonly labelLine: TextLine;
  /** Dynamic line: frame counter and UTC clock, `NNNNNNNN HH:MM:SS.mmmZ`. */
  readonly clockLine: TextLine;
  /** Bottom band: −I, 100% white, +Q, black, PLUGE (−4%, 0, +4%), black. */
  readonly pluge: Rect;
}

/** Characters of the clock line: 8-digit frame counter, space, HH:MM:SS.mmm and 'Z'. */
export const CLOCK_LINE_CHARS = 22;

function even(value: number): number {
  return 2 * Math.floor(value / 2);
}

/** x of a position given in bar widths (0..7), rounded to an even column. */
function barUnits(units: number, width: number): number {
  return 2 * Math.round((units * width) / 14);
}

/**
 * Computes the pattern geometry for a supported size.
 *
 * @throws RangeError if the size is not supported (see {@link assertPatternSize}).
 */
export function patternLayout(width: number, height: number): PatternLayout {
  assertPatternSize(width, height);
  const timecode = timecodeGeometry(width, height);
  const stripHeight = timecode.stripHeight;
  const textScale = Math.max(
    1,
    Math.min(Math.floor(height / 160), Math.floor((width - 4) / (CLOCK_LINE_CHARS * GLYPH_ADVANCE))),
  );
  const s = textScale;
  const plugeHeight = even(height * 0.1);
  const textHeight = 22 * s; // 2s padding, 7s label, 3s gap, 7s clock, 3s padding
  const castHeight = even(height * 0.07);
  const castY = height - plugeHeight - textHeight - castHeight;
  const barsHeight = castY - stripHeight;
  const trackHeight = even(barsHeight * 0.3);
  const trackY = castY - trackHeight;
  const boxMargin = even(trackHeight / 8);
  const boxHeight = trackHeight - 2 * boxMargin;
  const boxWidth = Math.min(boxHeight, even(width / 8));
  const textY = castY + castHeight;
  const maxChars = Math.floor((width - 2 * s) / (GLYPH_ADVANCE * s));
  const clockWidth = CLOCK_LINE_CHARS * GLYPH_ADVANCE * s;
  const barEdges: number[] = [];
  for (let i = 0; i <= 7; i++) barEdges.push(barUnits(i, width));
  return {
    width,
    height,
    timecode,
    strip: { x: 0, y: 0, width, height: stripHeight },
    bars: { x: 0, y: stripHeight, width, height: barsHeight },
    barEdges,
    sampleBand: { x: 0, y: stripHeight, width, height: trackY - stripHeight },
    motionTrack: { x: 0, y: trackY, width, height: trackHeight },
    box: { width: boxWidth, height: boxHeight, y: trackY + boxMargin, step: Math.max(2, even(width / 96)) },
    castellations: { x: 0, y: castY, width, height: castHeight },
    textBand: { x: 0, y: textY, width, height: textHeight },
    textScale,
    labelLine: { x: s, y: textY + 2 * s, chars: maxChars },
    clockLine: { x: even((width - clockWidth) / 2), y: textY + 12 * s, chars: CLOCK_LINE_CHARS },
    pluge: { x: 0, y: textY + textHeight, width, height: plugeHeight },
  };
}

/**
 * Left column of the moving box for a frame counter: it moves `box.step` pixels right per frame
 * and wraps around, so consecutive frames always differ.
 */
export function movingBoxX(layout: PatternLayout, counter: number): number {
  const span = layout.width - layout.box.width;
  return ((counter % span) * layout.box.step) % span;
}

/** The moving box's rectangle for a frame counter. */
export function movingBoxRect(layout: PatternLayout, counter: number): Rect {
  const { box } = layout;
  return { x: movingBoxX(layout, counter), y: box.y, width: box.width, height: box.height };
}

/** Horizontal extents of the PLUGE band chips, in bar widths: [start, end, colour key]. */
export const PLUGE_CHIPS = [
  [0, 1.25, 'minusI'],
  [1.25, 2.5, 'white'],
  [2.5, 3.75, 'plusQ'],
  [3.75, 5, 'black'],
  [5, 5 + 1 / 3, 'plugeLow'],
  [5 + 1 / 3, 5 + 2 / 3, 'black'],
  [5 + 2 / 3, 6, 'plugeHigh'],
  [6, 7, 'black'],
] as const;

/** Column of a PLUGE chip boundary given in bar widths (even). @internal */
export function plugeEdge(units: number, width: number): number {
  return barUnits(units, width);
}

/**
 * Index (0..6) of the colour bar covering column x of a picture of the given width (bar i covers
 * [2·round(i·W/14), 2·round((i+1)·W/14))).
 *
 * @throws RangeError if x is outside 0..width−1.
 */
export function barAt(x: number, width: number): number {
  if (!(x >= 0 && x < width)) throw new RangeError(`x must be in [0, ${width}), got ${String(x)}`);
  for (let i = 1; i <= 7; i++) if (x < barUnits(i, width)) return i - 1;
  return 6;
}

/** A point to check a colour bar at, with the values expected there. */
export interface BarSamplePoint {
  /** The bar. */
  readonly bar: BarColor;
  /** Bar name (same as bar.name). */
  readonly name: BarName;
  /** Column of the point (centre of the bar). */
  readonly x: number;
  /** Row of the point (centre of the sample band). */
  readonly y: number;
  /**
   * Every pixel within this distance of (x, y) horizontally and vertically belongs to the same bar
   * and to the sample band, so an e2e test can average a (2·radius + 1)² area.
   */
  readonly radius: number;
  /** Expected BT.601 limited-range Y'CbCr. */
  readonly yuv: Yuv;
  /** Expected full-range RGB after BT.601 limited-range decoding (as a browser canvas shows it). */
  readonly rgb: Rgb;
}

/**
 * Sample points of the seven bars for a picture size: centre of each bar, vertically in the middle
 * of the sample band (below the timecode strip, above the moving box, away from all text), with the
 * expected Y/U/V and RGB values.
 *
 * @throws RangeError if the size is not supported.
 */
export function expectedBarColors(width: number, height: number): BarSamplePoint[] {
  const layout = patternLayout(width, height);
  const { sampleBand, barEdges } = layout;
  let minBarWidth = width;
  for (let i = 0; i < 7; i++)
    minBarWidth = Math.min(minBarWidth, (barEdges[i + 1] ?? 0) - (barEdges[i] ?? 0));
  const radius = Math.max(0, Math.min(Math.floor(sampleBand.height / 4), Math.floor(minBarWidth / 4)));
  const y = sampleBand.y + Math.floor(sampleBand.height / 2);
  return COLOR_BARS.map((bar) => ({
    bar,
    name: bar.name,
    x: Math.floor(((barEdges[bar.index] ?? 0) + (barEdges[bar.index + 1] ?? 0)) / 2),
    y,
    radius,
    yuv: bar.yuv,
    rgb: bar.rgb,
  }));
}
