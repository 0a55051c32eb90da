import { fillRect, renderBackground } from './background.js';
import { BusyScene, TEST_PATTERN_KINDS } from './busy-scene.js';
import type { TestPatternKind } from './busy-scene.js';
import { PATTERN_COLORS } from './color-bars.js';
import { DIGIT_ZERO_CODE, drawGlyphs, textToGlyphCodes } from './font.js';
import { i420Layout } from './i420.js';
import type { I420Frame, I420Layout } from './i420.js';
import { CLOCK_LINE_CHARS, movingBoxX, patternLayout } from './pattern-layout.js';
import type { PatternLayout } from './pattern-layout.js';
import { TIMECODE_MAX_TIMESTAMP, timestampHi, timestampLo } from './timecode.js';
import { drawTimecodeRaw } from './timecode-draw.js';

/** Settings of a {@link TestPatternGenerator}. */
export interface TestPatternOptions {
  /** Frame width in pixels: even, 160..3840. Required. */
  readonly width: number;
  /** Frame height in pixels: even, 120..2160. Required. */
  readonly height: number;
  /**
   * Text shown on the static label line before the picture size, e.g. the camera name. Upper-case
   * letters, digits and a few symbols (see FONT_CHARACTERS); lower case is drawn upper case, other
   * characters as '?'; truncated to fit. Default: '' (only the size is shown).
   */
  readonly label?: string;
  /**
   * Number of frame buffers used round-robin: a frame's buffer is overwritten `poolSize` calls of
   * `next()` later, so this must exceed the number of frames in flight (e.g. queued in an encoder).
   * Integer 1..64. Default: 4.
   */
  readonly poolSize?: number;
  /**
   * What fills the picture around the strip and the text: `'bars'` (static colour bars, a small
   * moving box) or `'busy'` (a panning textured scene with per-frame noise, camera-like for
   * encoders; costs more per frame). See {@link TestPatternKind}. Default: `'bars'`.
   */
  readonly pattern?: TestPatternKind;
}

/** Per-frame parameters of {@link TestPatternGenerator.next}. */
export interface NextFrameOptions {
  /**
   * Capture time in milliseconds since the Unix epoch (floored to an integer, 0 ≤ t < 2^48), shown
   * by the clock (UTC) and encoded in the timecode strip. Default: Date.now().
   */
  readonly timestampMs?: number;
  /**
   * Frame counter (non-negative safe integer) for the clock line, the moving box position and the
   * strip (modulo 256). Default: the previous frame's counter + 1, starting at 0. Passing one also
   * continues the automatic count from it.
   */
  readonly counter?: number;
  /**
   * Capture time on `performance.now()`'s monotonic timeline, in ms, carried as the frame's
   * `monotonicMs` (media timing derives from it, never from the wall clock). Not drawn. Default:
   * `performance.now()` at the call.
   */
  readonly monotonicMs?: number;
}

type MutableFrame = { -readonly [K in keyof I420Frame]: I420Frame[K] };

const DEFAULT_POOL_SIZE = 4;
const MAX_POOL_SIZE = 64;
const MS_PER_DAY = 86_400_000;
const NO_OPTIONS: NextFrameOptions = {};

/** `performance.now()`, in Node and browsers (this package compiles without DOM or Node types). */
const monotonicNow = (): number =>
  (globalThis as unknown as { performance: { now(): number } }).performance.now();

/**
 * Generates I420 test pattern frames: SMPTE-style 75% colour bars, castellations, PLUGE band, a box
 * moving horizontally every frame, a readable frame counter and UTC clock, and the machine-readable
 * timecode strip (spec v1) in the top band. With pattern `'busy'` a panning, noisy scene replaces the
 * bars, castellations and PLUGE band (the strip, the box and the text stay).
 *
 * The static picture is rendered once; each frame copies it into the next pool buffer with one
 * `TypedArray.set` and redraws only the strip, the box and the clock digits. Nothing is allocated
 * per frame after construction: frames (both the {@link I420Frame} objects and their `data`) are
 * reused round-robin, `poolSize` calls later. Pattern `'busy'` adds one pass over the luma of the scene
 * rows (scene + noise) and row copies of its chroma, still without allocating.
 *
 * @example
 * const gen = new TestPatternGenerator({ width: 1280, height: 720, label: 'front cam' });
 * const frame = gen.next(); // { data, width, height, counter: 0, sequence: 0, timestampMs: Date.now(), monotonicMs: performance.now() }
 */
export class TestPatternGenerator {
  /** Frame width in pixels. */
  readonly width: number;
  /** Frame height in pixels. */
  readonly height: number;
  /** Number of pooled frame buffers. */
  readonly poolSize: number;
  /** The label as given (drawn upper-cased, with unknown characters as '?', truncated to fit). */
  readonly label: string;
  /** Byte layout of every frame buffer. */
  readonly planes: I420Layout;
  /** Geometry of the pattern (regions, moving box, text lines). */
  readonly layout: PatternLayout;
  /** What the picture shows around the strip and the text. */
  readonly pattern: TestPatternKind;

  readonly #background: Uint8Array;
  readonly #frames: MutableFrame[];
  readonly #clockCodes: Uint8Array;
  readonly #busy: BusyScene | undefined;
  #slot = 0;
  #nextCounter = 0;

  /**
   * Renders the static background and allocates the frame pool (poolSize + 1 buffers of
   * width × height × 1.5 bytes). Pattern `'busy'` also renders its scene, about 1.6 × 1.5 frames of
   * texture plus a 256 KiB noise table.
   *
   * @throws RangeError if the size is not supported (even, 160..3840 × 120..2160), poolSize is
   * not an integer in 1..64 or pattern is not one of {@link TEST_PATTERN_KINDS}.
   */
  constructor(options: TestPatternOptions) {
    const { width, height, label = '', poolSize = DEFAULT_POOL_SIZE, pattern = 'bars' } = options;
    this.layout = patternLayout(width, height);
    if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > MAX_POOL_SIZE) {
      throw new RangeError(`poolSize must be an integer in 1..${MAX_POOL_SIZE}, got ${String(poolSize)}`);
    }
    if (!TEST_PATTERN_KINDS.includes(pattern)) {
      throw new RangeError(
        `pattern must be one of ${TEST_PATTERN_KINDS.join(', ')}, got ${JSON.stringify(pattern)}`,
      );
    }
    this.pattern = pattern;
    this.width = width;
    this.height = height;
    this.poolSize = poolSize;
    this.label = label;
    this.planes = i420Layout(width, height);
    this.#background = new Uint8Array(this.planes.byteLength);
    renderBackground(this.#background, this.planes, this.layout, label);
    this.#busy = pattern === 'busy' ? new BusyScene(this.planes, this.layout) : undefined;
    this.#frames = [];
    for (let i = 0; i < poolSize; i++) {
      this.#frames.push({
        data: new Uint8Array(this.planes.byteLength),
        width,
        height,
        counter: 0,
        sequence: 0,
        // a non-small-integer initial value makes V8 store these fields as unboxed doubles
        timestampMs: Number.NaN,
        monotonicMs: Number.NaN,
      });
    }
    this.#clockCodes = textToGlyphCodes('00000000 00:00:00.000Z');
    if (this.#clockCodes.length !== CLOCK_LINE_CHARS) throw new Error('clock line template mismatch');
  }

  /** Counter the next frame gets when `next()` is called without one. */
  get nextCounter(): number {
    return this.#nextCounter;
  }

  /**
   * Renders the next frame into the next pool buffer and returns it.
   *
   * The returned frame object and its `data` are reused `poolSize` calls later (round-robin):
   * finish with it (or copy it) before then.
   *
   * @throws RangeError if timestampMs is outside [0, 2^48) or counter is not a non-negative safe
   * integer.
   */
  next(options: NextFrameOptions = NO_OPTIONS): I420Frame {
    const timestampMs = Math.floor(options.timestampMs ?? Date.now());
    const counter = options.counter ?? this.#nextCounter;
    if (!(timestampMs >= 0 && timestampMs < TIMECODE_MAX_TIMESTAMP)) {
      throw new RangeError(`timestampMs must be in [0, 2^48), got ${String(options.timestampMs)}`);
    }
    if (!Number.isSafeInteger(counter) || counter < 0) {
      throw new RangeError(`counter must be a non-negative safe integer, got ${String(counter)}`);
    }
    const frame = this.#frames[this.#slot];
    if (frame === undefined) throw new Error('frame pool corrupted');
    this.#slot = (this.#slot + 1) % this.poolSize;
    this.#nextCounter = counter + 1;
    this.#render(
      frame.data,
      timestampHi(timestampMs),
      timestampLo(timestampMs),
      timestampMs % MS_PER_DAY,
      counter,
    );
    frame.counter = counter;
    frame.sequence = counter;
    frame.timestampMs = timestampMs;
    frame.monotonicMs = options.monotonicMs ?? monotonicNow();
    return frame;
  }

  /**
   * Renders a frame into a caller-provided tightly packed I420 buffer of this generator's size
   * (at least `planes.byteLength` bytes), without touching the pool or the automatic counter.
   *
   * @throws RangeError on a too small buffer or invalid timestamp/counter.
   */
  renderInto(data: Uint8Array, timestampMs: number, counter: number): void {
    if (data.length < this.planes.byteLength) {
      throw new RangeError(`buffer holds ${data.length} bytes, need ${this.planes.byteLength}`);
    }
    const t = Math.floor(timestampMs);
    if (!(t >= 0 && t < TIMECODE_MAX_TIMESTAMP)) {
      throw new RangeError(`timestampMs must be in [0, 2^48), got ${String(timestampMs)}`);
    }
    if (!Number.isSafeInteger(counter) || counter < 0) {
      throw new RangeError(`counter must be a non-negative safe integer, got ${String(counter)}`);
    }
    this.#render(data, timestampHi(t), timestampLo(t), t % MS_PER_DAY, counter);
  }

  // The timestamp is passed as 24-bit halves and the time of day: small integers that V8 passes
  // without allocating (a ~1.7e12 number would be boxed on every call).
  #render(data: Uint8Array, tsHi: number, tsLo: number, msOfDay: number, counter: number): void {
    const { planes, layout, width, height } = this;
    data.set(this.#background);
    this.#busy?.render(data, counter);
    drawTimecodeRaw(
      data,
      0,
      width,
      data,
      planes.uOffset,
      planes.uvWidth,
      data,
      planes.vOffset,
      planes.uvWidth,
      width,
      height,
      tsHi,
      tsLo,
      counter,
    );
    // Moving box: white with a black centre square.
    const { box } = layout;
    const x = movingBoxX(layout, counter);
    fillRect(data, planes, x, box.y, box.width, box.height, PATTERN_COLORS.white.yuv);
    const innerW = 2 * Math.floor(box.width / 4);
    const innerH = 2 * Math.floor(box.height / 4);
    const innerX = x + 2 * Math.floor((box.width - innerW) / 4);
    const innerY = box.y + 2 * Math.floor((box.height - innerH) / 4);
    fillRect(data, planes, innerX, innerY, innerW, innerH, PATTERN_COLORS.black.yuv);
    // Clock line: NNNNNNNN HH:MM:SS.mmmZ (UTC).
    const codes = this.#clockCodes;
    let n = counter % 100_000_000;
    for (let i = 7; i >= 0; i--) {
      codes[i] = DIGIT_ZERO_CODE + (n % 10);
      n = Math.floor(n / 10);
    }
    const seconds = Math.floor(msOfDay / 1000);
    const ms = msOfDay - seconds * 1000;
    const hours = Math.floor(seconds / 3600);
    const minutes = Math.floor(seconds / 60) % 60;
    const secs = seconds % 60;
    codes[9] = DIGIT_ZERO_CODE + Math.floor(hours / 10);
    codes[10] = DIGIT_ZERO_CODE + (hours % 10);
    codes[12] = DIGIT_ZERO_CODE + Math.floor(minutes / 10);
    codes[13] = DIGIT_ZERO_CODE + (minutes % 10);
    codes[15] = DIGIT_ZERO_CODE + Math.floor(secs / 10);
    codes[16] = DIGIT_ZERO_CODE + (secs % 10);
    codes[18] = DIGIT_ZERO_CODE + Math.floor(ms / 100);
    codes[19] = DIGIT_ZERO_CODE + (Math.floor(ms / 10) % 10);
    codes[20] = DIGIT_ZERO_CODE + (ms % 10);
    const { clockLine, textScale } = layout;
    drawGlyphs(data, 0, width, codes, clockLine.x, clockLine.y, textScale, PATTERN_COLORS.white.yuv.y);
  }
}
