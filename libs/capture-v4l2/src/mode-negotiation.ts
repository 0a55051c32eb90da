/**
 * Chooses what to ask the device for (format, size, rate) and what size to emit, from what
 * discovery found. Pure: no I/O.
 */
import { UnsupportedModeError } from './errors.js';
import { RAW_PREFERENCE } from './pixel-formats.js';
import type { V4l2DeviceInfo, V4l2FormatInfo } from './types.js';

/** What the camera was asked for, normalized (format is an FFmpeg name or `auto`). */
export interface ModeRequest {
  width: number;
  height: number;
  fps: number;
  format: string;
  /** Whether frames may be scaled; when false the device must offer the size exactly. */
  allowScaling: boolean;
  /** In `auto`, USB cameras use MJPEG above this many pixels per frame. */
  mjpegAbovePixels: number;
  /** The output size once fixed (after the first open or start): later modes are scaled to it. */
  fixedOutput?: { width: number; height: number } | undefined;
  /** Do not guess MJPEG for `unknown` formats (a guess already failed). */
  excludeUnknown?: boolean;
}

/** The mode to open. */
export interface PlannedMode {
  /** `input_format` for FFmpeg, or `''` to let the driver pick (nothing was discovered). */
  pixelFormat: string;
  /** False when `mjpeg` is a guess for an `unknown` format, or nothing was discovered. */
  verified: boolean;
  captureWidth: number;
  captureHeight: number;
  /** Frame rate to ask for. */
  fps: number;
  outputWidth: number;
  outputHeight: number;
}

/** Aspect ratios within 1% count as equal (1366x768 ≈ 16:9). */
const ASPECT_TOLERANCE = 0.01;

function even(value: number): number {
  return Math.max(2, Math.floor(value / 2) * 2);
}

function sameAspect(width: number, height: number, otherWidth: number, otherHeight: number): boolean {
  const a = width / height;
  const b = otherWidth / otherHeight;
  return Math.abs(a - b) / b <= ASPECT_TOLERANCE;
}

/**
 * Size to emit for a capture size and a requested size: the requested size when the capture is at
 * least that large with the same aspect; otherwise the capture's aspect fitted into the requested
 * box, never upscaled. Always even (I420 needs even sizes).
 */
export function outputSizeFor(
  captureWidth: number,
  captureHeight: number,
  width: number,
  height: number,
): { width: number; height: number } {
  const covers = captureWidth >= width && captureHeight >= height;
  if (covers && sameAspect(captureWidth, captureHeight, width, height))
    return { width: even(width), height: even(height) };
  const scale = Math.min(1, width / captureWidth, height / captureHeight);
  return { width: even(captureWidth * scale), height: even(captureHeight * scale) };
}

/**
 * The frame rate to ask for: from a discrete list, the one closest to `requested` (ties: the
 * higher); from a range (`asRange`, the two ends), `requested` clamped into it; with nothing
 * known, `requested`.
 */
export function chooseFps(rates: readonly number[], requested: number, asRange = false): number {
  if (rates.length === 0) return requested;
  if (asRange) {
    const low = Math.min(...rates);
    const high = Math.max(...rates);
    return Math.min(high, Math.max(low, requested));
  }
  let best = rates[0] ?? requested;
  for (const rate of rates) {
    const distance = Math.abs(rate - requested);
    const bestDistance = Math.abs(best - requested);
    if (distance < bestDistance || (distance === bestDistance && rate > best)) best = rate;
  }
  return best;
}

/** One line per capturable format: `yuyv422: 320x180@60, 640x480@25, …` (highest rate per size). */
export function describeFormats(formats: readonly V4l2FormatInfo[]): string[] {
  return formats
    .filter((format) => format.capturable)
    .map((format) => {
      const sizes = [...format.sizes]
        .sort((a, b) => a.width * a.height - b.width * b.height)
        .map((size) => {
          const fps = size.fps[0];
          return fps === undefined
            ? `${size.width}x${size.height}`
            : `${size.width}x${size.height}@${formatRate(fps)}`;
        });
      const range = format.sizeRange;
      if (range !== undefined)
        sizes.push(`${range.minWidth}x${range.minHeight}–${range.maxWidth}x${range.maxHeight}`);
      return `${format.pixelFormat}: ${sizes.join(', ')}`;
    });
}

function formatRate(fps: number): string {
  return Number.isInteger(fps) ? String(fps) : fps.toFixed(1).replace(/\.0$/, '');
}

/** `yuyv422 1280x720@30`. */
export function describeRequest(request: Pick<ModeRequest, 'format' | 'width' | 'height' | 'fps'>): string {
  return `${request.format} ${request.width}x${request.height}@${formatRate(request.fps)}`;
}

interface Candidate {
  format: V4l2FormatInfo;
  width: number;
  height: number;
  fps: number;
  sizeClass: number;
  aspectMismatch: number;
  fpsShortfall: number;
  areaKey: number;
  formatRank: number;
}

/**
 * Picks the mode closest to the request. Size first (exact, else the smallest larger size,
 * else the largest smaller one; same aspect preferred), then frame rate, then format: in `auto`,
 * MJPEG on USB cameras above `mjpegAbovePixels` (USB 2.0 cannot carry raw 720p at 30 fps), raw
 * otherwise (no decode; CSI and other on-board cameras have the memory bandwidth).
 * Throws {@link UnsupportedModeError} (listing what the device offers) when nothing fits.
 */
export function negotiateMode(device: V4l2DeviceInfo, request: ModeRequest): PlannedMode {
  const { width, height, fps } = request;
  const supported = (): string[] => describeFormats(device.formats);
  if (device.formats.length === 0) {
    // Discovery saw no discrete modes (e.g. a driver with only stepwise sizes under node-av):
    // ask for the request as is and read back what the driver chose.
    const output = request.fixedOutput ?? { width: even(width), height: even(height) };
    return {
      pixelFormat: request.format === 'auto' ? '' : request.format,
      verified: false,
      captureWidth: width,
      captureHeight: height,
      fps,
      outputWidth: output.width,
      outputHeight: output.height,
    };
  }
  const hasMjpeg = device.formats.some((format) => format.pixelFormat === 'mjpeg');
  const guessUnknown = request.excludeUnknown !== true && !hasMjpeg;
  const formats = device.formats.filter((format) => {
    if (!format.capturable) return false;
    if (format.pixelFormat === 'unknown')
      return guessUnknown && (request.format === 'auto' || request.format === 'mjpeg');
    return request.format === 'auto' || format.pixelFormat === request.format;
  });
  if (formats.length === 0) {
    const reason =
      request.format === 'auto'
        ? 'it offers no format this library can capture'
        : `it offers no ${request.format} format${request.format === 'mjpeg' && !hasMjpeg && request.excludeUnknown === true ? ' (the driver refused MJPEG)' : ''}`;
    throw new UnsupportedModeError(device.path, describeRequest(request), reason, supported());
  }
  const fpsAsRange = device.discoveredWith === 'node-av';
  const candidates: Candidate[] = [];
  for (const format of formats) {
    const sizes = format.sizes.map((size) => ({
      width: size.width,
      height: size.height,
      fps: size.fps,
      range: fpsAsRange,
    }));
    const range = format.sizeRange;
    if (range !== undefined) {
      const fit = (value: number, min: number, max: number, step: number): number =>
        Math.min(max, Math.max(min, min + Math.round((value - min) / Math.max(1, step)) * Math.max(1, step)));
      sizes.push({
        width: fit(width, range.minWidth, range.maxWidth, range.stepWidth),
        height: fit(height, range.minHeight, range.maxHeight, range.stepHeight),
        fps: range.fps,
        range: true,
      });
    }
    for (const size of sizes) {
      const exact = size.width === width && size.height === height;
      if (!request.allowScaling && !exact) continue;
      const covers = size.width >= width && size.height >= height;
      const chosenFps = chooseFps(size.fps, fps, size.range);
      const area = size.width * size.height;
      candidates.push({
        format,
        width: size.width,
        height: size.height,
        fps: chosenFps,
        sizeClass: exact ? 0 : covers ? 1 : 2,
        aspectMismatch: exact || sameAspect(size.width, size.height, width, height) ? 0 : 1,
        fpsShortfall: chosenFps >= fps * 0.95 ? 0 : (fps - chosenFps) / fps,
        areaKey: covers ? area : -area,
        formatRank: formatRank(format.pixelFormat, device.bus === 'usb' && area > request.mjpegAbovePixels),
      });
    }
  }
  if (candidates.length === 0) {
    throw new UnsupportedModeError(
      device.path,
      describeRequest(request),
      `no ${request.format === 'auto' ? '' : `${request.format} `}size is exactly ${width}x${height} and scaling is off`,
      supported(),
    );
  }
  candidates.sort(
    (a, b) =>
      a.sizeClass - b.sizeClass ||
      a.aspectMismatch - b.aspectMismatch ||
      a.fpsShortfall - b.fpsShortfall ||
      a.areaKey - b.areaKey ||
      a.formatRank - b.formatRank,
  );
  const best = candidates[0];
  if (best === undefined) throw new Error('unreachable: no candidate');
  const output = request.fixedOutput ?? outputSizeFor(best.width, best.height, width, height);
  const guessed = best.format.pixelFormat === 'unknown';
  return {
    pixelFormat: guessed ? 'mjpeg' : best.format.pixelFormat,
    verified: !guessed,
    captureWidth: best.width,
    captureHeight: best.height,
    fps: best.fps,
    outputWidth: output.width,
    outputHeight: output.height,
  };
}

function formatRank(pixelFormat: string, preferMjpeg: boolean): number {
  const raw = RAW_PREFERENCE.indexOf(pixelFormat);
  const compressed = pixelFormat === 'mjpeg' ? 0 : pixelFormat === 'unknown' ? 1 : -1;
  if (compressed >= 0) return preferMjpeg ? compressed : RAW_PREFERENCE.length + 10 + compressed;
  const rawRank = raw === -1 ? RAW_PREFERENCE.length : raw;
  return preferMjpeg ? 10 + rawRank : rawRank;
}
