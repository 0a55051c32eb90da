/**
 * V4L2 pixel formats as FFmpeg's v4l2 demuxer knows them (libavdevice/v4l2-common.c), and which of
 * them this library captures.
 */
import { InvalidSettingsError } from './errors.js';
import type { CaptureFormat } from './types.js';

interface FourccEntry {
  /** FFmpeg name passed as `input_format`. */
  readonly name: string;
  readonly compressed: boolean;
  /** Decodable/convertible to I420 by this library. */
  readonly capturable: boolean;
}

/** V4L2 FourCC (as v4l2-ctl prints it, trimmed) → FFmpeg format. */
const FOURCC: Readonly<Record<string, FourccEntry>> = {
  YU12: { name: 'yuv420p', compressed: false, capturable: true },
  '422P': { name: 'yuv422p', compressed: false, capturable: true },
  YUYV: { name: 'yuyv422', compressed: false, capturable: true },
  UYVY: { name: 'uyvy422', compressed: false, capturable: true },
  '411P': { name: 'yuv411p', compressed: false, capturable: true },
  YUV9: { name: 'yuv410p', compressed: false, capturable: true },
  RGBO: { name: 'rgb555le', compressed: false, capturable: true },
  RGBQ: { name: 'rgb555be', compressed: false, capturable: true },
  RGBP: { name: 'rgb565le', compressed: false, capturable: true },
  RGBR: { name: 'rgb565be', compressed: false, capturable: true },
  BGR3: { name: 'bgr24', compressed: false, capturable: true },
  RGB3: { name: 'rgb24', compressed: false, capturable: true },
  XR24: { name: 'bgr0', compressed: false, capturable: true },
  BX24: { name: '0rgb', compressed: false, capturable: true },
  AR24: { name: 'bgra', compressed: false, capturable: true },
  BA24: { name: 'argb', compressed: false, capturable: true },
  GREY: { name: 'gray', compressed: false, capturable: true },
  Y16: { name: 'gray16le', compressed: false, capturable: true },
  'Y16 -BE': { name: 'gray16be', compressed: false, capturable: true },
  NV12: { name: 'nv12', compressed: false, capturable: true },
  BA81: { name: 'bayer_bggr8', compressed: false, capturable: true },
  GBRG: { name: 'bayer_gbrg8', compressed: false, capturable: true },
  GRBG: { name: 'bayer_grbg8', compressed: false, capturable: true },
  RGGB: { name: 'bayer_rggb8', compressed: false, capturable: true },
  MJPG: { name: 'mjpeg', compressed: true, capturable: true },
  JPEG: { name: 'mjpeg', compressed: true, capturable: true },
  H264: { name: 'h264', compressed: true, capturable: false },
  MPG4: { name: 'mpeg4', compressed: true, capturable: false },
};

/** The FFmpeg format of a V4L2 FourCC, or undefined when FFmpeg's v4l2 demuxer lacks it. */
export function formatForFourcc(fourcc: string): FourccEntry | undefined {
  return FOURCC[fourcc.trim()];
}

/**
 * Formats node-av's mode list names by AVPixelFormat (its own narrower mapping). Those FFmpeg's
 * demuxer cannot be asked for (`nv21`, `rgba`, `bgra` as node-av maps RGB32/BGR32) are not capturable.
 */
export function formatForNodeAvName(name: string): FourccEntry {
  const known = Object.values(FOURCC).find((entry) => entry.name === name);
  if (known !== undefined && name !== 'bgra') return known;
  return { name, compressed: false, capturable: false };
}

/** Raw formats in the order `auto` prefers them: least conversion work first. */
export const RAW_PREFERENCE: readonly string[] = [
  'yuv420p',
  'nv12',
  'yuyv422',
  'uyvy422',
  'yuv422p',
  'yuv411p',
  'yuv410p',
  'bgr0',
  '0rgb',
  'bgr24',
  'rgb24',
  'bgra',
  'argb',
  'rgb565le',
  'rgb565be',
  'rgb555le',
  'rgb555be',
  'gray',
  'gray16le',
  'gray16be',
  'bayer_bggr8',
  'bayer_gbrg8',
  'bayer_grbg8',
  'bayer_rggb8',
];

const ALIASES: Readonly<Record<CaptureFormat, string>> = {
  auto: 'auto',
  mjpeg: 'mjpeg',
  yuyv: 'yuyv422',
  yuyv422: 'yuyv422',
  uyvy: 'uyvy422',
  uyvy422: 'uyvy422',
  nv12: 'nv12',
  i420: 'yuv420p',
  yu12: 'yuv420p',
  yuv420p: 'yuv420p',
  yuv422p: 'yuv422p',
  rgb24: 'rgb24',
  bgr24: 'bgr24',
  gray: 'gray',
  grey: 'gray',
};

/** The FFmpeg name of a requested format (`yuyv` → `yuyv422`), or `auto`. Throws on unknown names. */
export function normalizeFormat(format: string): string {
  const name = (ALIASES as Readonly<Record<string, string>>)[format.toLowerCase()];
  if (name === undefined) {
    throw new InvalidSettingsError(
      `unknown camera format "${format}"; use one of: ${Object.keys(ALIASES).join(', ')}`,
    );
  }
  return name;
}
