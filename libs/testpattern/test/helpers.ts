import { i420Layout, yuvToRgb601 } from '../src/index.js';

/** Y, U, V of pixel (x, y) of a tightly packed I420 buffer. */
export function yuvAt(
  data: Uint8Array,
  width: number,
  height: number,
  x: number,
  y: number,
): [number, number, number] {
  const l = i420Layout(width, height);
  const c = (y >> 1) * l.uvWidth + (x >> 1);
  return [data[y * width + x]!, data[l.uOffset + c]!, data[l.vOffset + c]!];
}

/**
 * BT.601 limited-range I420 → full-range RGBA, as a browser canvas shows a decoded video. Converts
 * only the first `rows` rows (default: all) into a buffer of `rows` rows.
 */
export function i420ToRgba(
  data: Uint8Array,
  width: number,
  height: number,
  rows = height,
): Uint8ClampedArray {
  const l = i420Layout(width, height);
  const out = new Uint8ClampedArray(width * rows * 4);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < width; x++) {
      const c = (y >> 1) * l.uvWidth + (x >> 1);
      const Y = data[y * width + x]!;
      const U = data[l.uOffset + c]!;
      const V = data[l.vOffset + c]!;
      const cb = U - 128;
      const cr = V - 128;
      const lum = 1.164383 * (Y - 16);
      const o = (y * width + x) * 4;
      out[o] = lum + 1.596027 * cr;
      out[o + 1] = lum - 0.391762 * cb - 0.812968 * cr;
      out[o + 2] = lum + 2.017232 * cb;
      out[o + 3] = 255;
    }
  }
  return out;
}

/** Same conversion as i420ToRgba for one pixel, via the library (cross-check). */
export function rgbAt(data: Uint8Array, width: number, height: number, x: number, y: number) {
  const [Y, U, V] = yuvAt(data, width, height, x, y);
  return yuvToRgb601(Y, U, V);
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Note: jest runs tests in a vm context where every global lookup (Math, ...) is slow, so the hot
// loops below avoid globals.

/** Index of x clamped to [0, n − 1] for offsets −r..r: table[x + r]. */
function clampTable(n: number, r: number): Int32Array {
  const table = new Int32Array(n + 2 * r);
  for (let i = 0; i < table.length; i++) table[i] = Math.min(n - 1, Math.max(0, i - r));
  return table;
}

/** Uniform noise in [−amplitude, amplitude], precomputed (a few thousand values, cycled). */
function noiseTable(amplitude: number, seed: number): Float64Array {
  const rnd = prng(seed);
  const table = new Float64Array(4099);
  for (let i = 0; i < table.length; i++) table[i] = (rnd() * 2 - 1) * amplitude;
  return table;
}

/**
 * Simulates codec damage on RGBA: a (2r+1)² box blur of the colour channels, then uniform noise of
 * ±noise on each channel.
 */
export function blurAndNoise(
  rgba: Uint8ClampedArray,
  width: number,
  rows: number,
  radius: number,
  noise: number,
  seed = 1,
): Uint8ClampedArray {
  const out = new Uint8ClampedArray(rgba.length);
  const cx = clampTable(width, radius);
  const cy = clampTable(rows, radius);
  const noiseValues = noiseTable(noise, seed);
  const area = (2 * radius + 1) ** 2;
  let k = 0;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < width; x++) {
      for (let ch = 0; ch < 3; ch++) {
        let sum = 0;
        for (let dy = 0; dy <= 2 * radius; dy++) {
          const row = cy[y + dy]! * width;
          for (let dx = 0; dx <= 2 * radius; dx++) sum += rgba[(row + cx[x + dx]!) * 4 + ch]!;
        }
        out[(y * width + x) * 4 + ch] = sum / area + noiseValues[k++ % 4099]!;
      }
      out[(y * width + x) * 4 + 3] = 255;
    }
  }
  return out;
}

/** Blur and noise on an 8-bit plane (e.g. luma) with a stride. */
export function blurAndNoisePlane(
  plane: Uint8Array,
  width: number,
  rows: number,
  stride: number,
  radius: number,
  noise: number,
  seed = 1,
): Uint8Array {
  const out = new Uint8ClampedArray(stride * rows);
  const cx = clampTable(width, radius);
  const cy = clampTable(rows, radius);
  const noiseValues = noiseTable(noise, seed);
  const area = (2 * radius + 1) ** 2;
  let k = 0;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let dy = 0; dy <= 2 * radius; dy++) {
        const row = cy[y + dy]! * stride;
        for (let dx = 0; dx <= 2 * radius; dx++) sum += plane[row + cx[x + dx]!]!;
      }
      out[y * stride + x] = sum / area + noiseValues[k++ % 4099]!;
    }
  }
  return new Uint8Array(out.buffer);
}

/**
 * Resizes RGBA (the first `rows` rows of a width-wide picture whose full height is `height`) to
 * dw × dh with area averaging, like a browser drawing a video at a smaller size. Only the rows of the
 * destination that map into the given source rows are produced (the output has `ceil(rows·dh/height)`
 * rows).
 */
export function resizeRgba(
  src: Uint8ClampedArray,
  width: number,
  height: number,
  rows: number,
  dw: number,
  dh: number,
): { rgba: Uint8ClampedArray; rows: number } {
  const { floor, ceil, min, max } = Math;
  const sx = width / dw;
  const sy = height / dh;
  const outRows = min(dh, floor(rows / sy));
  const out = new Uint8ClampedArray(dw * outRows * 4);
  for (let y = 0; y < outRows; y++) {
    const y0 = y * sy;
    const y1 = min(rows, (y + 1) * sy);
    for (let x = 0; x < dw; x++) {
      const x0 = x * sx;
      const x1 = (x + 1) * sx;
      const acc = [0, 0, 0];
      let area = 0;
      for (let yy = floor(y0); yy < ceil(y1); yy++) {
        const wy = min(y1, yy + 1) - max(y0, yy);
        for (let xx = floor(x0); xx < min(width, ceil(x1)); xx++) {
          const w = wy * (min(x1, xx + 1) - max(x0, xx));
          const o = (yy * width + xx) * 4;
          acc[0]! += src[o]! * w;
          acc[1]! += src[o + 1]! * w;
          acc[2]! += src[o + 2]! * w;
          area += w;
        }
      }
      const o = (y * dw + x) * 4;
      out[o] = acc[0]! / area;
      out[o + 1] = acc[1]! / area;
      out[o + 2] = acc[2]! / area;
      out[o + 3] = 255;
    }
  }
  return { rgba: out, rows: outRows };
}

/** A mid-gray I420 frame (Y 128, neutral chroma) to draw a strip into. */
export function grayFrame(
  width: number,
  height: number,
): { data: Uint8Array; width: number; height: number } {
  const data = new Uint8Array(i420Layout(width, height).byteLength).fill(128);
  return { data, width, height };
}

/** Paints luma cell `cell` of the strip (all its rows) with a value. */
export function paintCell(data: Uint8Array, width: number, height: number, cell: number, luma: number): void {
  const cw = Math.floor(width / 64);
  const sh = 2 * Math.floor(Math.floor(height / 24) / 2);
  for (let y = 0; y < sh; y++) data.fill(luma, y * width + cell * cw, y * width + (cell + 1) * cw);
}
