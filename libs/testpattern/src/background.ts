import type { Yuv } from './bt601.js';
import { COLOR_BARS, PATTERN_COLORS } from './color-bars.js';
import { drawGlyphs, textToGlyphCodes, textWidth } from './font.js';
import type { I420Layout } from './i420.js';
import { PLUGE_CHIPS, plugeEdge } from './pattern-layout.js';
import type { PatternLayout } from './pattern-layout.js';

/**
 * Fills a rectangle with even coordinates and size in a tightly packed I420 buffer. Allocates
 * nothing.
 *
 * @internal
 */
export function fillRect(
  data: Uint8Array,
  planes: I420Layout,
  x: number,
  y: number,
  width: number,
  height: number,
  color: Yuv,
): void {
  const stride = planes.width;
  for (let row = y; row < y + height; row++) {
    data.fill(color.y, row * stride + x, row * stride + x + width);
  }
  const uvStride = planes.uvWidth;
  const cx = x >> 1;
  const cw = width >> 1;
  for (let row = y >> 1; row < (y + height) >> 1; row++) {
    const u = planes.uOffset + row * uvStride + cx;
    const v = planes.vOffset + row * uvStride + cx;
    data.fill(color.u, u, u + cw);
    data.fill(color.v, v, v + cw);
  }
}

/** The static text of the label line: label (truncated to fit) and the picture size. */
export function labelText(label: string, layout: PatternLayout): string {
  const size = `${layout.width}X${layout.height}`;
  const room = layout.labelLine.chars - size.length - 1;
  const trimmed = label.trim();
  if (trimmed === '' || room < 1) return size.slice(0, layout.labelLine.chars);
  return `${trimmed.slice(0, room)} ${size}`;
}

/**
 * Renders everything static: strip band (black, neutral chroma), bars, castellations, text band
 * with the label line, PLUGE band.
 *
 * @internal
 */
export function renderBackground(
  data: Uint8Array,
  planes: I420Layout,
  layout: PatternLayout,
  label: string,
): void {
  const { width, strip, bars, castellations, textBand, pluge, barEdges } = layout;
  const castellationColors = [
    PATTERN_COLORS.blue,
    PATTERN_COLORS.black,
    PATTERN_COLORS.magenta,
    PATTERN_COLORS.black,
    PATTERN_COLORS.cyan,
    PATTERN_COLORS.black,
    PATTERN_COLORS.gray,
  ];
  fillRect(data, planes, 0, strip.y, width, strip.height, PATTERN_COLORS.black.yuv);
  for (let i = 0; i < 7; i++) {
    const x0 = barEdges[i] ?? 0;
    const x1 = barEdges[i + 1] ?? 0;
    const barColor = COLOR_BARS[i];
    const castColor = castellationColors[i];
    if (barColor === undefined || castColor === undefined) continue;
    fillRect(data, planes, x0, bars.y, x1 - x0, bars.height, barColor.yuv);
    fillRect(data, planes, x0, castellations.y, x1 - x0, castellations.height, castColor.yuv);
  }
  fillRect(data, planes, 0, textBand.y, width, textBand.height, PATTERN_COLORS.black.yuv);
  for (const [from, to, key] of PLUGE_CHIPS) {
    const x0 = plugeEdge(from, width);
    const x1 = plugeEdge(to, width);
    fillRect(data, planes, x0, pluge.y, x1 - x0, pluge.height, PATTERN_COLORS[key].yuv);
  }
  const codes = textToGlyphCodes(labelText(label, layout));
  const { labelLine, textScale } = layout;
  const x = Math.max(labelLine.x, 2 * Math.floor((width - textWidth(codes.length, textScale)) / 4));
  drawGlyphs(data, 0, width, codes, x, labelLine.y, textScale, PATTERN_COLORS.white.yuv.y);
}
