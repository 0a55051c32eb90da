/** Drawing the timecode strip (format: timecode.ts) into I420 frames. */
import { i420Layout } from './i420.js';
import type { I420Image, I420Planes } from './i420.js';
import {
  TIMECODE_CELLS,
  TIMECODE_ONE_LUMA,
  TIMECODE_ZERO_LUMA,
  assertTimecodeValue,
  timecodeGeometry,
  timestampHi,
  timestampLo,
  writeBits,
  type TimecodeValue,
} from './timecode.js';

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
