/**
 * Machine-readable timecode strip, spec v1.
 *
 * The strip is the top band of the frame: `stripHeight = floor(H / 24)` rounded down to an even
 * number of rows; 64 cells side by side from x = 0, each `floor(W / 64)` pixels wide; a cell is white
 * (Y 235) for 1 and black (Y 16) for 0; chroma is neutral (128) under the whole band and the band
 * right of the last cell is black. Cells:
 *
 * - 0–1: start marker [1, 0]
 * - 2–49: capture time, 48-bit unsigned integer of milliseconds since the Unix epoch, MSB first
 * - 50–57: frame counter modulo 256, MSB first
 * - 58–61: checksum = XOR of the twelve 4-bit nibbles of the timestamp and the two nibbles of the
 *   counter, MSB first
 * - 62–63: end marker [0, 1]
 *
 * 48-bit values do not fit JavaScript's 32-bit bit operators, so the timestamp is handled as two
 * 24-bit halves (`hi = floor(t / 2^24)`, `lo = t − hi · 2^24`); no BigInt is needed.
 */
import { rgbLuma } from './bt601.js';
import { i420Layout } from './i420.js';
import type { I420Image, I420Planes } from './i420.js';

/** Version of the timecode strip layout implemented here. */
export const TIMECODE_VERSION = 1;
/** Number of cells (bits) in the strip. */
export const TIMECODE_CELLS = 64;
/** Exclusive upper bound of the timestamp: 2^48 ms (about year 10889). */
export const TIMECODE_MAX_TIMESTAMP = 2 ** 48;
/** Luma of a "1" cell (limited-range white). */
export const TIMECODE_ONE_LUMA = 235;
/** Luma of a "0" cell (limited-range black). */
export const TIMECODE_ZERO_LUMA = 16;

const TWO_24 = 2 ** 24;

/** Size of the timecode strip for a frame (or a displayed picture) of a given size. */
export interface TimecodeGeometry {
  /** Rows of the strip band: floor(height / 24) rounded down to an even number. */
  readonly stripHeight: number;
  /** Width of one cell: floor(width / 64). */
  readonly cellWidth: number;
  /** Width covered by the 64 cells: 64 × cellWidth (the rest of the band is black). */
  readonly stripWidth: number;
}

/** The data carried by the strip. */
export interface TimecodeValue {
  /** Capture time in integer milliseconds since the Unix epoch (0 ≤ t < 2^48). */
  readonly timestampMs: number;
  /** Frame counter. When drawing, any non-negative integer (stored modulo 256); decoded: 0..255. */
  readonly counter: number;
}

/** Why a strip could not be decoded. */
export type TimecodeFailureReason =
  /** The picture is too small to hold a strip (cell width < 1 pixel or strip height < 2 rows). */
  | 'too-small'
  /** Cells 0–1 are not [1, 0]. */
  | 'start-marker'
  /** Cells 62–63 are not [0, 1]. */
  | 'end-marker'
  /** The checksum cells do not match the data cells. */
  | 'checksum';

/** Result of {@link readTimecode}: the decoded value, or why decoding failed. */
export type TimecodeReadResult =
  | { readonly ok: true; readonly timestampMs: number; readonly counter: number }
  | { readonly ok: false; readonly reason: TimecodeFailureReason };

/** Options of the decoders. */
export interface TimecodeDecodeOptions {
  /**
   * Luma threshold between a 0 and a 1 cell, on the mean luma of the cell's central area. Default:
   * 128 for RGBA input (full-range luma 0.299·R + 0.587·G + 0.114·B) and 126 for Y-plane input
   * (midway between limited-range 16 and 235).
   */
  readonly threshold?: number;
  /**
   * Also measure the strip geometry from the picture (right edge of the last white cell, bottom
   * of the strip) and use it when it disagrees with the formula geometry, which happens when the
   * picture was scaled by a factor that does not preserve floor(W / 64). Default: true.
   */
  readonly search?: boolean;
}

/** Default threshold for RGBA input (full-range luma). */
export const RGBA_THRESHOLD = 128;
/** Default threshold for Y-plane input (limited-range luma). */
export const LUMA_THRESHOLD = 126;

/**
 * Computes the strip geometry for a picture of width × height pixels (spec v1). Also valid for a
 * picture shown at a different size when width/64 and height/24 scale with it (e.g. exactly half
 * size); otherwise the decoders can measure the geometry (see {@link TimecodeDecodeOptions.search}).
 */
export function timecodeGeometry(width: number, height: number): TimecodeGeometry {
  const cellWidth = Math.max(0, Math.floor(width / TIMECODE_CELLS));
  const stripHeight = Math.max(0, 2 * Math.floor(Math.floor(height / 24) / 2));
  return { stripHeight, cellWidth, stripWidth: TIMECODE_CELLS * cellWidth };
}

function assertTimecodeValue(timestampMs: number, counter: number): void {
  if (!Number.isFinite(timestampMs) || timestampMs < 0 || timestampMs >= TIMECODE_MAX_TIMESTAMP) {
    throw new RangeError(
      `timestampMs must be a number of milliseconds in [0, 2^48), got ${String(timestampMs)}`,
    );
  }
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new RangeError(`counter must be a non-negative safe integer, got ${String(counter)}`);
  }
}

function nibbleXor24(value: number): number {
  return ((value >>> 20) ^ (value >>> 16) ^ (value >>> 12) ^ (value >>> 8) ^ (value >>> 4) ^ value) & 0xf;
}

/**
 * Computes the 4-bit checksum of spec v1: XOR of the twelve nibbles of the 48-bit timestamp and the
 * two nibbles of the 8-bit counter (`counter` is taken modulo 256; `timestampMs` must be an integer).
 */
export function timecodeChecksum(timestampMs: number, counter: number): number {
  const hi = Math.floor(timestampMs / TWO_24);
  const lo = timestampMs - hi * TWO_24;
  const c = counter % 256;
  return nibbleXor24(hi) ^ nibbleXor24(lo) ^ (c >>> 4) ^ (c & 0xf);
}

/** Writes the 64 cells for a timestamp given as 24-bit halves (plain small integers, see below). */
function writeBits(out: Uint8Array, hi: number, lo: number, counter: number): void {
  const c = counter % 256;
  out[0] = 1;
  out[1] = 0;
  for (let i = 0; i < 24; i++) {
    out[2 + i] = (hi >>> (23 - i)) & 1;
    out[26 + i] = (lo >>> (23 - i)) & 1;
  }
  for (let i = 0; i < 8; i++) out[50 + i] = (c >>> (7 - i)) & 1;
  const checksum = nibbleXor24(hi) ^ nibbleXor24(lo) ^ (c >>> 4) ^ (c & 0xf);
  for (let i = 0; i < 4; i++) out[58 + i] = (checksum >>> (3 - i)) & 1;
  out[62] = 0;
  out[63] = 1;
}

/**
 * Upper 24 bits of a 48-bit integer timestamp. The drawing code passes the timestamp as two 24-bit
 * halves: a millisecond timestamp (~1.7e12) is not a small integer for V8, and passing it between
 * non-inlined functions would allocate a heap number per frame.
 *
 * @internal
 */
export function timestampHi(timestampMs: number): number {
  return Math.floor(timestampMs / TWO_24);
}

/** Lower 24 bits of a 48-bit integer timestamp (see {@link timestampHi}). @internal */
export function timestampLo(timestampMs: number): number {
  return timestampMs % TWO_24;
}

/**
 * Returns the 64 cell values (0 or 1) of the strip for a value (timestamp floored to an integer,
 * counter taken modulo 256), written into `out` if given.
 *
 * @throws RangeError if the timestamp is outside [0, 2^48) or the counter is not a non-negative
 * integer, or if `out` is shorter than 64.
 */
export function encodeTimecodeBits(value: TimecodeValue, out = new Uint8Array(TIMECODE_CELLS)): Uint8Array {
  assertTimecodeValue(value.timestampMs, value.counter);
  if (out.length < TIMECODE_CELLS) throw new RangeError(`out must hold ${TIMECODE_CELLS} cells`);
  const t = Math.floor(value.timestampMs);
  writeBits(out, timestampHi(t), timestampLo(t), value.counter);
  return out;
}

/**
 * Parses 64 cell values (truthy = 1) into a timecode value, checking markers and checksum.
 */
export function decodeTimecodeBits(bits: ArrayLike<number>): TimecodeReadResult {
  if (bits.length < TIMECODE_CELLS) return { ok: false, reason: 'too-small' };
  const bit = (i: number): number => (bits[i] ? 1 : 0);
  if (bit(0) !== 1 || bit(1) !== 0) return { ok: false, reason: 'start-marker' };
  if (bit(62) !== 0 || bit(63) !== 1) return { ok: false, reason: 'end-marker' };
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 24; i++) {
    hi = (hi << 1) | bit(2 + i);
    lo = (lo << 1) | bit(26 + i);
  }
  let counter = 0;
  for (let i = 50; i < 58; i++) counter = (counter << 1) | bit(i);
  let checksum = 0;
  for (let i = 58; i < 62; i++) checksum = (checksum << 1) | bit(i);
  if (checksum !== (nibbleXor24(hi) ^ nibbleXor24(lo) ^ (counter >>> 4) ^ (counter & 0xf))) {
    return { ok: false, reason: 'checksum' };
  }
  return { ok: true, timestampMs: hi * TWO_24 + lo, counter };
}

// Scratch cells for drawing: drawing is synchronous, so one module-level array is enough and
// drawing a strip allocates nothing.
const scratchBits = new Uint8Array(TIMECODE_CELLS);

/**
 * Draws the strip into raw planes (no validation of the value; sizes must hold a strip). Internal
 * fast path shared by {@link drawTimecode} and the generator.
 *
 * @internal
 */
export function drawTimecodeRaw(
  data: Uint8Array,
  yOffset: number,
  yStride: number,
  uData: Uint8Array,
  uOffset: number,
  uStride: number,
  vData: Uint8Array,
  vOffset: number,
  vStride: number,
  width: number,
  height: number,
  timestampHi: number,
  timestampLo: number,
  counter: number,
): void {
  const cellWidth = Math.floor(width / TIMECODE_CELLS);
  const stripHeight = 2 * Math.floor(height / 48);
  writeBits(scratchBits, timestampHi, timestampLo, counter);
  // First row: runs of equal cells, then black up to the right edge.
  let runStart = 0;
  let runBit = scratchBits[0] ?? 0;
  for (let i = 1; i <= TIMECODE_CELLS; i++) {
    const b = i < TIMECODE_CELLS ? (scratchBits[i] ?? 0) : -1;
    if (b !== runBit) {
      data.fill(
        runBit === 1 ? TIMECODE_ONE_LUMA : TIMECODE_ZERO_LUMA,
        yOffset + runStart * cellWidth,
        yOffset + i * cellWidth,
      );
      runStart = i;
      runBit = b;
    }
  }
  data.fill(TIMECODE_ZERO_LUMA, yOffset + TIMECODE_CELLS * cellWidth, yOffset + width);
  for (let row = 1; row < stripHeight; row++) {
    data.copyWithin(yOffset + row * yStride, yOffset, yOffset + width);
  }
  const uvWidth = Math.ceil(width / 2);
  for (let row = 0; row < stripHeight / 2; row++) {
    uData.fill(128, uOffset + row * uStride, uOffset + row * uStride + uvWidth);
    vData.fill(128, vOffset + row * vStride, vOffset + row * vStride + uvWidth);
  }
}

function isImage(target: I420Image | I420Planes): target is I420Image {
  return 'data' in target;
}

/**
 * Draws the timecode strip (spec v1) into the top band of an I420 frame: luma cells plus neutral
 * chroma under the band. Allocates nothing.
 *
 * @param target a tightly packed I420 buffer (`{ data, width, height }`, e.g. a frame from
 *   {@link TestPatternGenerator.next}) or separate planes with optional strides.
 * @param value capture time (ms since the Unix epoch, floored to an integer, 0 ≤ t < 2^48) and frame
 *   counter (non-negative integer, stored modulo 256).
 * @throws RangeError on an invalid value, a picture too small for a strip (width < 64 or
 *   height < 48) or buffers too small for the given size.
 */
export function drawTimecode(target: I420Image | I420Planes, value: TimecodeValue): void {
  const { width, height } = target;
  assertTimecodeValue(value.timestampMs, value.counter);
  const layout = i420Layout(width, height);
  const { cellWidth, stripHeight } = timecodeGeometry(width, height);
  if (cellWidth < 1 || stripHeight < 2) {
    throw new RangeError(`A ${width}x${height} picture is too small for a timecode strip (min 64x48)`);
  }
  const uvRows = stripHeight / 2;
  const t = Math.floor(value.timestampMs);
  if (isImage(target)) {
    if (target.data.length < layout.byteLength) {
      throw new RangeError(`I420 buffer holds ${target.data.length} bytes, need ${layout.byteLength}`);
    }
    const d = target.data;
    drawTimecodeRaw(
      d,
      0,
      width,
      d,
      layout.uOffset,
      layout.uvWidth,
      d,
      layout.vOffset,
      layout.uvWidth,
      width,
      height,
      timestampHi(t),
      timestampLo(t),
      value.counter,
    );
    return;
  }
  const yStride = target.yStride ?? width;
  const uStride = target.uStride ?? layout.uvWidth;
  const vStride = target.vStride ?? layout.uvWidth;
  if (
    yStride < width ||
    uStride < layout.uvWidth ||
    vStride < layout.uvWidth ||
    target.y.length < (stripHeight - 1) * yStride + width ||
    target.u.length < (uvRows - 1) * uStride + layout.uvWidth ||
    target.v.length < (uvRows - 1) * vStride + layout.uvWidth
  ) {
    throw new RangeError(`I420 planes or strides too small for a ${width}x${height} picture`);
  }
  drawTimecodeRaw(
    target.y,
    0,
    yStride,
    target.u,
    0,
    uStride,
    target.v,
    0,
    vStride,
    width,
    height,
    timestampHi(t),
    timestampLo(t),
    value.counter,
  );
}

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
