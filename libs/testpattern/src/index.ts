/**
 * @robocam/testpattern — fast I420 colour-bar test pattern frames with a human-readable clock and
 * a machine-readable timecode strip (spec v1). Works in Node and in browsers (no Node-only APIs).
 */
export { TestPatternGenerator } from './test-pattern-generator.js';
export type { NextFrameOptions, TestPatternOptions } from './test-pattern-generator.js';
export { TEST_PATTERN_KINDS } from './busy-scene.js';
export type { TestPatternKind } from './busy-scene.js';
export {
  MAX_HEIGHT,
  MAX_WIDTH,
  MIN_HEIGHT,
  MIN_WIDTH,
  assertPatternSize,
  i420Layout,
  isPatternSize,
} from './i420.js';
export type { I420Frame, I420Image, I420Layout, I420Planes } from './i420.js';
export {
  LUMA_THRESHOLD,
  RGBA_THRESHOLD,
  TIMECODE_CELLS,
  TIMECODE_MAX_TIMESTAMP,
  TIMECODE_ONE_LUMA,
  TIMECODE_VERSION,
  TIMECODE_ZERO_LUMA,
  decodeTimecodeBits,
  encodeTimecodeBits,
  timecodeChecksum,
  timecodeGeometry,
} from './timecode.js';
export { drawTimecode } from './timecode-draw.js';
export {
  decodeTimecode,
  decodeTimecodeFromLuma,
  readTimecode,
  readTimecodeFromLuma,
} from './timecode-read.js';
export type {
  TimecodeDecodeOptions,
  TimecodeFailureReason,
  TimecodeGeometry,
  TimecodeReadResult,
  TimecodeValue,
} from './timecode.js';
export { BAR_AMPLITUDE, COLOR_BARS, PATTERN_COLORS } from './color-bars.js';
export type { BarColor, BarName, PatternColor } from './color-bars.js';
export { rgbLuma, rgbToYuv601, yuvToRgb601 } from './bt601.js';
export type { Rgb, Yuv } from './bt601.js';
export {
  CLOCK_LINE_CHARS,
  barAt,
  expectedBarColors,
  movingBoxRect,
  movingBoxX,
  patternLayout,
} from './pattern-layout.js';
export type { BarSamplePoint, MovingBox, PatternLayout, Rect, TextLine } from './pattern-layout.js';
export { FONT_CHARACTERS } from './font.js';
