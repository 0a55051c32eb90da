/** Reading the timecode strip (format: timecode.ts) back from decoded pictures, RGBA or luma. */
import { rgbLuma } from './bt601.js';
import {
  LUMA_THRESHOLD,
  RGBA_THRESHOLD,
  TIMECODE_CELLS,
  decodeTimecodeBits,
  timecodeGeometry,
  type TimecodeDecodeOptions,
  type TimecodeGeometry,
  type TimecodeReadResult,
  type TimecodeValue,
} from './timecode.js';

type LumaAt = (x: number, y: number) => number;

interface Geometry {
  readonly cellWidth: number;
  readonly stripHeight: number;
}

const MAX_SAMPLES_PER_AXIS = 8;

/** Inclusive pixel range whose centres lie within [centre − half, centre + half], clamped. */
function sampleRange(centre: number, half: number, limit: number): readonly [number, number] {
  const from = Math.max(0, Math.ceil(centre - half - 0.5));
  const to = Math.min(limit - 1, Math.floor(centre + half - 0.5));
  return [from, Math.max(from, to)];
}

function readCells(
  lumaAt: LumaAt,
  width: number,
  rows: number,
  geometry: Geometry,
  threshold: number,
): TimecodeReadResult {
  const { cellWidth, stripHeight } = geometry;
  const [y0, y1] = sampleRange(stripHeight / 2, Math.max(0.5, stripHeight / 4), rows);
  const yStep = Math.max(1, Math.floor((y1 - y0 + 1) / MAX_SAMPLES_PER_AXIS));
  const halfX = Math.max(0.5, cellWidth / 4);
  const bits = new Uint8Array(TIMECODE_CELLS);
  for (let cell = 0; cell < TIMECODE_CELLS; cell++) {
    const [x0, x1] = sampleRange((cell + 0.5) * cellWidth, halfX, width);
    const xStep = Math.max(1, Math.floor((x1 - x0 + 1) / MAX_SAMPLES_PER_AXIS));
    let sum = 0;
    let count = 0;
    for (let y = y0; y <= y1; y += yStep) {
      for (let x = x0; x <= x1; x += xStep) {
        sum += lumaAt(x, y);
        count++;
      }
    }
    bits[cell] = sum / count >= threshold ? 1 : 0;
  }
  return decodeTimecodeBits(bits);
}

/** Measures the strip: right edge of the (always white) last cell, and the band's bottom under it. */
function measureGeometry(
  lumaAt: LumaAt,
  width: number,
  rows: number,
  formula: TimecodeGeometry,
  threshold: number,
): Geometry | null {
  const probeY = Math.min(rows - 1, Math.floor(formula.stripHeight * 0.4));
  let edge = -1;
  for (let x = width - 1; x >= 0; x--) {
    if (lumaAt(x, probeY) >= threshold) {
      edge = x + 1;
      break;
    }
  }
  if (edge < TIMECODE_CELLS) return null;
  const cellWidth = edge / TIMECODE_CELLS;
  const probeX = Math.min(width - 1, Math.floor((TIMECODE_CELLS - 0.5) * cellWidth));
  let bottom = 0;
  while (bottom < rows && lumaAt(probeX, bottom) >= threshold) bottom++;
  if (bottom < 2) return null;
  return { cellWidth, stripHeight: bottom };
}

function readStrip(
  lumaAt: LumaAt,
  width: number,
  height: number,
  rows: number,
  threshold: number,
  search: boolean,
): TimecodeReadResult {
  const formula = timecodeGeometry(width, height);
  if (formula.cellWidth < 1 || formula.stripHeight < 2) return { ok: false, reason: 'too-small' };
  const result = readCells(lumaAt, width, rows, formula, threshold);
  if (!search) return result;
  const measured = measureGeometry(lumaAt, width, rows, formula, threshold);
  if (measured === null) return result;
  // A strip-width mismatch above a quarter cell would shift the last cells' sample areas out of them.
  const tolerance = Math.max(2, formula.cellWidth / 4);
  if (Math.abs(TIMECODE_CELLS * measured.cellWidth - formula.stripWidth) <= tolerance) return result;
  const remeasured = readCells(lumaAt, width, rows, measured, threshold);
  return remeasured.ok ? remeasured : result;
}

/** Rows of a `width` × `height` picture present in a buffer, checked to cover the strip. */
function rowsAvailable(
  length: number,
  stride: number,
  rowBytes: number,
  width: number,
  height: number,
): number {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new RangeError(
      `width and height must be positive integers, got ${String(width)}x${String(height)}`,
    );
  }
  const rows = length < rowBytes ? 0 : Math.min(height, Math.floor((length - rowBytes) / stride) + 1);
  const needed = Math.max(1, timecodeGeometry(width, height).stripHeight);
  if (rows < needed) {
    throw new RangeError(
      `Pixel buffer of ${length} bytes holds ${rows} rows of a ${width}x${height} picture, ` +
        `the timecode strip needs at least ${needed}`,
    );
  }
  return rows;
}

/**
 * Reads the timecode strip from RGBA pixels as `CanvasRenderingContext2D.getImageData()` returns
 * them (4 bytes per pixel, rows of `width` pixels). The picture may have been encoded and decoded:
 * each cell is classified by the mean full-range luma of its central area against a threshold.
 *
 * `rgba` may hold only the top rows of the picture (at least the strip, e.g.
 * `getImageData(0, 0, width, timecodeGeometry(width, height).stripHeight)`) to save readback work;
 * `height` is still the height of the whole picture, which the geometry is computed from.
 *
 * @throws RangeError if width/height are not positive integers or `rgba` holds too few rows.
 */
export function readTimecode(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  options: TimecodeDecodeOptions = {},
): TimecodeReadResult {
  const rows = rowsAvailable(rgba.length, width * 4, width * 4, width, height);
  const lumaAt: LumaAt = (x, y) => {
    const i = (y * width + x) * 4;
    return rgbLuma(rgba[i] ?? 0, rgba[i + 1] ?? 0, rgba[i + 2] ?? 0);
  };
  return readStrip(lumaAt, width, height, rows, options.threshold ?? RGBA_THRESHOLD, options.search ?? true);
}

/**
 * Like {@link readTimecode} but reads 8-bit luma directly, e.g. the Y plane of an I420 frame (a
 * whole I420 buffer works too: its Y plane comes first). Threshold default: 126.
 *
 * @param stride bytes per row of `y`, default `width`.
 */
export function readTimecodeFromLuma(
  y: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  stride: number = width,
  options: TimecodeDecodeOptions = {},
): TimecodeReadResult {
  if (!Number.isSafeInteger(stride) || stride < width) {
    throw new RangeError(`stride must be an integer >= width (${width}), got ${String(stride)}`);
  }
  const rows = rowsAvailable(y.length, stride, width, width, height);
  const lumaAt: LumaAt = (x, row) => y[row * stride + x] ?? 0;
  return readStrip(lumaAt, width, height, rows, options.threshold ?? LUMA_THRESHOLD, options.search ?? true);
}

/**
 * Decodes the timecode strip from RGBA canvas pixels (see {@link readTimecode}); returns null when
 * markers or checksum do not match (no strip, or a corrupted one).
 */
export function decodeTimecode(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  options?: TimecodeDecodeOptions,
): TimecodeValue | null {
  const result = readTimecode(rgba, width, height, options);
  return result.ok ? { timestampMs: result.timestampMs, counter: result.counter } : null;
}

/**
 * Decodes the timecode strip from a luma (Y) plane (see {@link readTimecodeFromLuma}); returns null
 * when markers or checksum do not match.
 */
export function decodeTimecodeFromLuma(
  y: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  stride: number = width,
  options?: TimecodeDecodeOptions,
): TimecodeValue | null {
  const result = readTimecodeFromLuma(y, width, height, stride, options);
  return result.ok ? { timestampMs: result.timestampMs, counter: result.counter } : null;
}
