import type { I420Layout } from './i420.js';
import type { PatternLayout } from './pattern-layout.js';

/**
 * What a `TestPatternGenerator` draws between the timecode strip and the text band, and
 * under the text band:
 * - `'bars'`: static SMPTE-style colour bars, castellations and PLUGE band; only a small box moves.
 *   Encoders compress it to a fraction of their target bitrate (VP8 1280×720 at 2.5 Mbit/s used
 *   ≈ 0.6 of it).
 * - `'busy'`: camera-like content: a textured, colourful scene that pans across the whole picture
 *   with a rippling horizontal shear, plus sensor-like noise that changes every frame, so encoders
 *   spend about what they would on a real camera.
 *
 * Both keep the timecode strip, the moving box, the label line and the clock line.
 */
export type TestPatternKind = 'bars' | 'busy';

/** Every {@link TestPatternKind}, default first. */
export const TEST_PATTERN_KINDS: readonly TestPatternKind[] = ['bars', 'busy'];

/** Frames per cycle of the horizontal / vertical pan (30 fps: 8 s and ~5.8 s). */
const PAN_X_PERIOD = 240;
const PAN_Y_PERIOD = 173;
/** Frames per cycle of the ripple's phase, and ripple wavelengths per picture height. */
const RIPPLE_PERIOD = 45;
const RIPPLES_PER_HEIGHT = 1.5;
/** Temporal noise: uniform in ±NOISE_AMPLITUDE luma levels, about a cheap sensor's in good light. */
const NOISE_AMPLITUDE = 6;
/** Noise table: 2^18 entries, indexed with a mask; each frame reads it from a different offset. */
const NOISE_BITS = 18;
const NOISE_MASK = (1 << NOISE_BITS) - 1;
/** Step of the noise index from one row to the next: odd and unrelated to any picture width. */
const NOISE_ROW_STEP = 4099;
/** Scene luma stays within these so that scene + noise stays in limited range (16..235). */
const SCENE_Y_MIN = 16 + NOISE_AMPLITUDE;
const SCENE_Y_MAX = 235 - NOISE_AMPLITUDE;
const TWO_PI = 2 * Math.PI;

/** xorshift32: a deterministic pseudo-random generator (state must not be 0). */
function xorshift(state: number): number {
  let s = state;
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s >>> 0;
}

/** A well-mixed 32-bit hash of a frame counter (so consecutive frames read unrelated noise). */
function hashCounter(counter: number): number {
  let h = Math.imul((counter % 0x1_0000_0000) ^ 0x9e37_79b9, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}

/**
 * The busy pattern's moving scene: a "world" texture larger than the picture, rendered once, a window
 * of which is copied into every frame at an offset that follows a smooth pan path (per row pair
 * shifted by a ripple), with temporal noise added to luma from a precomputed table read at a
 * per-frame offset. Per frame that is one add per luma pixel and row copies of chroma: no
 * `Math.random`, nothing allocated.
 *
 * Covers the rows between the timecode strip and the text band and the rows under the text band.
 * Deterministic: the same counter gives the same bytes.
 *
 * @internal
 */
export class BusyScene {
  readonly #planes: I420Layout;
  /** Row ranges the scene covers, as [from, to) pairs: above and below the text band. */
  readonly #rows: Int32Array;
  readonly #worldWidth: number;
  readonly #worldY: Uint8Array;
  readonly #worldU: Uint8Array;
  readonly #worldV: Uint8Array;
  /** Noise as 0..2·NOISE_AMPLITUDE: 2^18 entries plus one row so a row never wraps. */
  readonly #noise: Uint8Array;
  readonly #noise32: Uint32Array;
  /** 32-bit views of the world's planes, when the width allows the 4-pixel path. */
  readonly #world32:
    { readonly y: Uint32Array; readonly u: Uint32Array; readonly v: Uint32Array } | undefined;
  readonly #views = new WeakMap<Uint8Array, Uint32Array>();
  readonly #panX: number;
  readonly #panY: number;
  readonly #ripple: number;

  constructor(planes: I420Layout, layout: PatternLayout) {
    const { width, height } = planes;
    this.#planes = planes;
    const top = layout.strip.y + layout.strip.height;
    const textTop = layout.textBand.y;
    const textBottom = layout.textBand.y + layout.textBand.height;
    this.#rows = Int32Array.of(top, textTop, textBottom, height);
    // Pan amplitudes: an eighth of the picture, and a ripple of about 1% of the width; horizontal
    // ones multiples of 8 (the 4-pixel path's alignment, in chroma too), vertical even (whole
    // chroma rows).
    this.#panX = 8 * Math.floor(width / 64);
    this.#panY = 2 * Math.floor(height / 16);
    this.#ripple = 8 * Math.max(1, Math.floor(width / 800));
    this.#worldWidth = width + 2 * this.#panX + 2 * this.#ripple;
    const worldHeight = height + 2 * this.#panY;
    this.#worldY = new Uint8Array(this.#worldWidth * worldHeight);
    this.#worldU = new Uint8Array((this.#worldWidth >> 1) * (worldHeight >> 1));
    this.#worldV = new Uint8Array((this.#worldWidth >> 1) * (worldHeight >> 1));
    this.#paintWorld(worldHeight);
    // With width % 8 = 0 every luma and chroma row of the picture and of the world starts on a
    // 4-byte boundary (the world's width is the picture's plus multiples of 16).
    const words = (plane: Uint8Array): Uint32Array => new Uint32Array(plane.buffer, 0, plane.length >> 2);
    this.#world32 =
      width % 8 === 0
        ? { y: words(this.#worldY), u: words(this.#worldU), v: words(this.#worldV) }
        : undefined;
    this.#noise = new Uint8Array((1 << NOISE_BITS) + width);
    this.#noise32 = new Uint32Array(this.#noise.buffer, 0, this.#noise.length >> 2);
    let seed = 0x2545_f491;
    for (let i = 0; i < this.#noise.length; i++) {
      seed = xorshift(seed);
      this.#noise[i] = seed % (2 * NOISE_AMPLITUDE + 1);
    }
  }

  /** Draws the scene for a frame counter into a tightly packed I420 buffer of the picture's size. */
  render(data: Uint8Array, counter: number): void {
    const { width, uvWidth, uOffset, vOffset } = this.#planes;
    const ww = this.#worldWidth;
    const cww = ww >> 1;
    const ripple = this.#ripple;
    // Offsets are multiples of 8 so the 4-pixel path stays aligned in luma and chroma.
    const dx = 8 * Math.round((this.#panX / 8) * (1 + Math.sin((TWO_PI * counter) / PAN_X_PERIOD)));
    const dy = 2 * Math.round((this.#panY / 2) * (1 + Math.sin((TWO_PI * counter) / PAN_Y_PERIOD + 1)));
    const phase = (TWO_PI * counter) / RIPPLE_PERIOD;
    const rippleK = (TWO_PI * RIPPLES_PER_HEIGHT) / this.#planes.height;
    const noiseStart = hashCounter(counter);
    const data32 = this.#words(data);
    const rows = this.#rows;
    // Indexed loops, not for…of with destructuring: nothing may be allocated per frame.
    for (let range = 0; range + 1 < rows.length; range += 2) {
      const from = rows[range] ?? 0;
      const to = rows[range + 1] ?? 0;
      for (let y = from; y < to; y += 2) {
        // One horizontal offset per row pair: luma and chroma move together.
        const sx = dx + ripple + 8 * Math.round((ripple / 8) * Math.sin(rippleK * y + phase));
        for (let r = y; r < y + 2 && r < to; r++) {
          const noiseAt = (noiseStart + r * NOISE_ROW_STEP) & NOISE_MASK & ~3;
          if (data32 === undefined) this.#lumaRowBytes(data, r * width, (r + dy) * ww + sx, noiseAt);
          else this.#lumaRowWords(data32, r * width, (r + dy) * ww + sx, noiseAt);
        }
        // Chroma rows are copied by hand: `set(subarray(…))` would allocate a view per row.
        const cy = y >> 1;
        const csrc = ((y + dy) >> 1) * cww + (sx >> 1);
        if (data32 === undefined) {
          this.#chromaRowsBytes(data, uOffset + cy * uvWidth, vOffset + cy * uvWidth, csrc);
        } else {
          this.#chromaRowsWords(data32, uOffset + cy * uvWidth, vOffset + cy * uvWidth, csrc);
        }
      }
    }
  }

  /**
   * A 32-bit view of `data` when the 4-pixel path can be used on it (width a multiple of 8 and a
   * 4-byte aligned buffer), cached per buffer so that rendering allocates nothing.
   */
  #words(data: Uint8Array): Uint32Array | undefined {
    if (this.#world32 === undefined || data.byteOffset % 4 !== 0) return undefined;
    let view = this.#views.get(data);
    if (view === undefined) {
      view = new Uint32Array(data.buffer, data.byteOffset, data.length >> 2);
      this.#views.set(data, view);
    }
    return view;
  }

  /**
   * Scene + noise for one luma row, four pixels per 32-bit add: the scene is stored minus the
   * noise amplitude and the noise as 0..2·amplitude, so no byte sum exceeds 235 and no carry
   * crosses into the next pixel (byte order does not matter). ~4× faster than bytes in V8.
   */
  #lumaRowWords(data32: Uint32Array, out: number, src: number, noiseAt: number): void {
    const world32 = this.#world32?.y;
    const noise32 = this.#noise32;
    if (world32 === undefined) return;
    const o = out >> 2;
    const s = src >> 2;
    const n = noiseAt >> 2;
    const count = this.#planes.width >> 2;
    for (let x = 0; x < count; x++) data32[o + x] = (world32[s + x] ?? 0) + (noise32[n + x] ?? 0);
  }

  /** The same one byte at a time, for widths that are not a multiple of 8 or unaligned buffers. */
  #lumaRowBytes(data: Uint8Array, out: number, src: number, noiseAt: number): void {
    const worldY = this.#worldY;
    const noise = this.#noise;
    const width = this.#planes.width;
    for (let x = 0; x < width; x++) data[out + x] = (worldY[src + x] ?? 0) + (noise[noiseAt + x] ?? 0);
  }

  /** One row of U and one of V from the world, four samples per copy. */
  #chromaRowsWords(data32: Uint32Array, uOut: number, vOut: number, src: number): void {
    const world = this.#world32;
    if (world === undefined) return;
    const { u, v } = world;
    const uo = uOut >> 2;
    const vo = vOut >> 2;
    const s = src >> 2;
    const count = this.#planes.uvWidth >> 2;
    for (let x = 0; x < count; x++) {
      data32[uo + x] = u[s + x] ?? 0;
      data32[vo + x] = v[s + x] ?? 0;
    }
  }

  /** The same one byte at a time. */
  #chromaRowsBytes(data: Uint8Array, uOut: number, vOut: number, src: number): void {
    const u = this.#worldU;
    const v = this.#worldV;
    const count = this.#planes.uvWidth;
    for (let x = 0; x < count; x++) {
      data[uOut + x] = u[src + x] ?? 0;
      data[vOut + x] = v[src + x] ?? 0;
    }
  }

  /**
   * The world: a diagonal luma gradient with a slow colour wash, overlapping rectangles of random
   * size, brightness and colour (objects at many scales), and static fine grain (surface texture,
   * which gives motion estimation something to match).
   */
  #paintWorld(worldHeight: number): void {
    const ww = this.#worldWidth;
    const cww = ww >> 1;
    const cwh = worldHeight >> 1;
    const worldY = this.#worldY;
    const worldU = this.#worldU;
    const worldV = this.#worldV;
    for (let y = 0; y < worldHeight; y++) {
      for (let x = 0; x < ww; x++) worldY[y * ww + x] = 60 + Math.floor((120 * (x + y)) / (ww + worldHeight));
    }
    for (let y = 0; y < cwh; y++) {
      for (let x = 0; x < cww; x++) {
        worldU[y * cww + x] = 128 + Math.round(30 * Math.sin((TWO_PI * x) / cww));
        worldV[y * cww + x] = 128 + Math.round(30 * Math.cos((TWO_PI * y) / cwh));
      }
    }
    let seed = 0x1234_5678;
    const random = (n: number): number => {
      seed = xorshift(seed);
      return seed % n;
    };
    // About one rectangle per 48×48 pixels of world, sizes from 4 px to a sixth of the picture.
    const count = Math.floor((ww * worldHeight) / 2304);
    const maxSide = Math.max(8, Math.floor(ww / 6));
    for (let i = 0; i < count; i++) {
      const side = 4 + random(random(4) === 0 ? maxSide : Math.max(8, maxSide >> 3));
      const w = 2 * ((side + random(side)) >> 1);
      const h = 2 * ((side + random(side)) >> 1);
      const x0 = 2 * random(ww >> 1);
      const y0 = 2 * random(worldHeight >> 1);
      const luma = 24 + random(200);
      const u = 64 + random(128);
      const v = 64 + random(128);
      const x1 = Math.min(ww, x0 + w);
      const y1 = Math.min(worldHeight, y0 + h);
      for (let y = y0; y < y1; y++) worldY.fill(luma, y * ww + x0, y * ww + x1);
      for (let y = y0 >> 1; y < y1 >> 1; y++) {
        worldU.fill(u, y * cww + (x0 >> 1), y * cww + (x1 >> 1));
        worldV.fill(v, y * cww + (x0 >> 1), y * cww + (x1 >> 1));
      }
    }
    for (let i = 0; i < worldY.length; i++) {
      seed = xorshift(seed);
      // Stored minus the noise amplitude: render adds noise as 0..2·amplitude.
      worldY[i] = clamp((worldY[i] ?? 0) + (seed % 25) - 12, SCENE_Y_MIN, SCENE_Y_MAX) - NOISE_AMPLITUDE;
    }
  }
}
