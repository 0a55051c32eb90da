import type { RawVideoFrame } from '@robocam/types';

/** Smallest supported pattern width in pixels. */
export const MIN_WIDTH = 160;
/** Largest supported pattern width in pixels. */
export const MAX_WIDTH = 3840;
/** Smallest supported pattern height in pixels. */
export const MIN_HEIGHT = 120;
/** Largest supported pattern height in pixels. */
export const MAX_HEIGHT = 2160;

/** Byte layout of a tightly packed I420 (yuv420p) buffer: Y plane, then U, then V. */
export interface I420Layout {
  /** Width of the picture (and stride of the Y plane) in pixels. */
  readonly width: number;
  /** Height of the picture (rows of the Y plane). */
  readonly height: number;
  /** Bytes in the Y plane: width × height. The Y plane starts at offset 0. */
  readonly ySize: number;
  /** Width (and stride) of the U and V planes: ceil(width / 2). */
  readonly uvWidth: number;
  /** Rows of the U and V planes: ceil(height / 2). */
  readonly uvHeight: number;
  /** Bytes in the U plane (same as in the V plane): uvWidth × uvHeight. */
  readonly uSize: number;
  /** Offset of the U (Cb) plane: ySize. */
  readonly uOffset: number;
  /** Offset of the V (Cr) plane: ySize + uSize. */
  readonly vOffset: number;
  /** Total bytes of the buffer: ySize + 2 × uSize (= width × height × 3 / 2 for even sizes). */
  readonly byteLength: number;
}

/**
 * Computes the plane layout of a tightly packed I420 buffer (no row padding) of the given size.
 *
 * @throws RangeError if width or height is not a positive integer.
 */
export function i420Layout(width: number, height: number): I420Layout {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`I420 size must be positive integers, got ${String(width)}x${String(height)}`);
  }
  const ySize = width * height;
  const uvWidth = Math.ceil(width / 2);
  const uvHeight = Math.ceil(height / 2);
  const uSize = uvWidth * uvHeight;
  return {
    width,
    height,
    ySize,
    uvWidth,
    uvHeight,
    uSize,
    uOffset: ySize,
    vOffset: ySize + uSize,
    byteLength: ySize + 2 * uSize,
  };
}

/** Whether width × height is a size the test pattern supports (see {@link assertPatternSize}). */
export function isPatternSize(width: number, height: number): boolean {
  return (
    Number.isInteger(width) &&
    Number.isInteger(height) &&
    width % 2 === 0 &&
    height % 2 === 0 &&
    width >= MIN_WIDTH &&
    width <= MAX_WIDTH &&
    height >= MIN_HEIGHT &&
    height <= MAX_HEIGHT
  );
}

/**
 * Checks that width × height is a supported test pattern size: even integers with
 * 160 ≤ width ≤ 3840 and 120 ≤ height ≤ 2160.
 *
 * @throws RangeError naming the limits otherwise.
 */
export function assertPatternSize(width: number, height: number): void {
  if (!isPatternSize(width, height)) {
    throw new RangeError(
      `Unsupported test pattern size ${String(width)}x${String(height)}: width and height must be even ` +
        `integers with ${MIN_WIDTH} <= width <= ${MAX_WIDTH} and ${MIN_HEIGHT} <= height <= ${MAX_HEIGHT}`,
    );
  }
}

/** A tightly packed I420 picture in one buffer (layout as computed by {@link i420Layout}). */
export interface I420Image {
  /** The whole I420 buffer: Y plane, then U, then V, without row padding. */
  readonly data: Uint8Array;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
}

/** An I420 picture given as three separate planes, optionally with row padding (strides). */
export interface I420Planes {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Y plane. */
  readonly y: Uint8Array;
  /** U (Cb) plane, half width and half height (rounded up). */
  readonly u: Uint8Array;
  /** V (Cr) plane, half width and half height (rounded up). */
  readonly v: Uint8Array;
  /** Bytes per row of the Y plane. Default: width. */
  readonly yStride?: number;
  /** Bytes per row of the U plane. Default: ceil(width / 2). */
  readonly uStride?: number;
  /** Bytes per row of the V plane. Default: ceil(width / 2). */
  readonly vStride?: number;
}

/**
 * A frame produced by {@link TestPatternGenerator.next}: robocam's {@link RawVideoFrame} (packed
 * I420, both capture times, `sequence` = `counter`) plus the counter drawn on the picture.
 */
export interface I420Frame extends RawVideoFrame, I420Image {
  /**
   * The whole I420 buffer (Y, U, V planes without padding). It belongs to the generator's pool and
   * is overwritten `poolSize` calls of `next()` later: copy it if you need it longer.
   */
  readonly data: Uint8Array;
  /** Frame counter (the full value; the timecode strip carries it modulo 256). Equals `sequence`. */
  readonly counter: number;
  /** Capture time in integer milliseconds since the Unix epoch, as encoded in the timecode strip. */
  readonly timestampMs: number;
}
