/**
 * ITU-R BT.601 colour conversions between gamma-corrected R'G'B' and 8-bit limited-range Y'CbCr
 * ("studio swing": Y' 16..235, Cb/Cr 16..240 with 128 = no colour).
 *
 * Formulas (Kr = 0.299, Kb = 0.114, R'G'B' in 0..1):
 *
 * - Y' = Kr·R' + (1 − Kr − Kb)·G' + Kb·B'
 * - Y = 16 + 219·Y'
 * - U = Cb = 128 + 112·(B' − Y') / (1 − Kb)
 * - V = Cr = 128 + 112·(R' − Y') / (1 − Kr)
 *
 * and the inverse, to full-range 8-bit RGB as a browser's video pipeline outputs it:
 *
 * - R = 255/219·(Y − 16) + 255/112·(1 − Kr)·(V − 128)
 * - G = 255/219·(Y − 16) − 255/112·(1 − Kb)·Kb/Kg·(U − 128) − 255/112·(1 − Kr)·Kr/Kg·(V − 128)
 * - B = 255/219·(Y − 16) + 255/112·(1 − Kb)·(U − 128)
 */

const KR = 0.299;
const KB = 0.114;
const KG = 1 - KR - KB;

/** An 8-bit limited-range BT.601 Y'CbCr triple (U = Cb, V = Cr). */
export interface Yuv {
  /** Luma, 16 (black) .. 235 (white). */
  readonly y: number;
  /** Blue-difference chroma Cb, 16..240, 128 = neutral. */
  readonly u: number;
  /** Red-difference chroma Cr, 16..240, 128 = neutral. */
  readonly v: number;
}

/** An 8-bit full-range RGB triple (0..255). */
export interface Rgb {
  /** Red, 0..255. */
  readonly r: number;
  /** Green, 0..255. */
  readonly g: number;
  /** Blue, 0..255. */
  readonly b: number;
}

function clamp8(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
}

/**
 * Converts gamma-corrected R'G'B' (each 0..1; values outside are allowed, e.g. for the −I / +Q
 * PLUGE chips) to 8-bit limited-range BT.601 Y'CbCr, rounded to the nearest integer and clamped to
 * 0..255.
 */
export function rgbToYuv601(r: number, g: number, b: number): Yuv {
  const luma = KR * r + KG * g + KB * b;
  return {
    y: clamp8(16 + 219 * luma),
    u: clamp8(128 + (112 * (b - luma)) / (1 - KB)),
    v: clamp8(128 + (112 * (r - luma)) / (1 - KR)),
  };
}

/**
 * Converts 8-bit limited-range BT.601 Y'CbCr to 8-bit full-range RGB (rounded, clamped to 0..255),
 * which is what a correct decoder/browser shows for a BT.601 limited-range video.
 */
export function yuvToRgb601(y: number, u: number, v: number): Rgb {
  const l = (255 / 219) * (y - 16);
  const cb = u - 128;
  const cr = v - 128;
  const s = 255 / 112;
  return {
    r: clamp8(l + s * (1 - KR) * cr),
    g: clamp8(l - ((s * (1 - KB) * KB) / KG) * cb - ((s * (1 - KR) * KR) / KG) * cr),
    b: clamp8(l + s * (1 - KB) * cb),
  };
}

/**
 * Full-range BT.601 luma of an RGB pixel (0..255), as the timecode decoder computes it from RGBA
 * canvas pixels: 0.299·R + 0.587·G + 0.114·B.
 */
export function rgbLuma(r: number, g: number, b: number): number {
  return KR * r + KG * g + KB * b;
}
