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
 *
 * This file is the format (constants, geometry, checksum, bits); `timecode-draw.ts` writes the strip
 * into frames and `timecode-read.ts` reads it back from pictures.
 */

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

/** @internal Throws a RangeError for values the strip cannot carry. */
export function assertTimecodeValue(timestampMs: number, counter: number): void {
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
/** @internal */
export function writeBits(out: Uint8Array, hi: number, lo: number, counter: number): void {
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
