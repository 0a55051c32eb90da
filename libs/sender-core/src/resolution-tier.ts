/**
 * The low-resolution tier: when congestion control holds a camera's encoder far below its
 * configured bitrate, the camera is encoded at half its width and height instead. Below some rate
 * an encoder cannot follow its target any more: libvpx at 1280x720 on the camera-like test pattern
 * makes ~740 kbit/s at its coarsest quantizer (~800 with two temporal layers) whatever target it
 * is given, so a 400 kbit/s link could only be fed by dropping most frames. A quarter of the
 * pixels needs roughly a third of the bits for the same look (the default bitrates scale with
 * pixels^0.75), so at half size the same target keeps every frame. libwebrtc's quality scaler
 * makes the same trade (resolution before frame rate). The tier changes at most every few seconds
 * (each change re-opens the encoder: one keyframe) and with hysteresis.
 */
import type { RawVideoFrame } from '@robocam/types';

/** Encoded size divisors: full, half and quarter width and height. */
export type ResolutionScale = 1 | 2 | 4;

/**
 * Per scale: go down to the next smaller size below `downBelow` × the configured bitrate, back up
 * above `upAbove` × (hysteresis between them). For 2.5 Mbit/s at 1280x720: half size below 1 Mbit/s
 * (back above 1.5), quarter size below 375 kbit/s (back above 550): measured with Chromium behind
 * tbf, 640x360 at ~290 kbit/s still skipped every other frame (15 fps) on the camera-like pattern.
 */
export const TIER_THRESHOLDS: Readonly<Record<ResolutionScale, { downBelow: number; upAbove: number }>> = {
  1: { downBelow: 0.4, upAbove: Infinity },
  2: { downBelow: 0.15, upAbove: 0.6 },
  4: { downBelow: 0, upAbove: 0.22 },
};
/** Least time between two changes, ms: each one costs a keyframe. */
export const MIN_SWITCH_INTERVAL_MS = 3_000;
/**
 * Going up needs the target above the threshold this long, ms: a probe that raises the estimate
 * for a moment must not buy a larger picture whose first keyframe then floods the link.
 */
export const UPSCALE_AFTER_MS = 2_000;

/** Decides the scale (1 = full size, 2 = half width and height) from the encoder target. */
export class ResolutionTier {
  #scale: ResolutionScale = 1;
  #lastSwitchMs = Number.NEGATIVE_INFINITY;
  /** Since when the target has been above the current scale's up threshold (ms). */
  #aboveSinceMs: number | undefined;

  /** The smallest scale frames of this size can be divided by (even sizes: encoders want them). */
  static maxScale(width: number, height: number): ResolutionScale {
    if (width % 8 === 0 && height % 8 === 0 && width >= 256 && height >= 144) return 4;
    if (width % 4 === 0 && height % 4 === 0 && width >= 128 && height >= 72) return 2;
    return 1;
  }

  get scale(): ResolutionScale {
    return this.#scale;
  }

  /**
   * The scale to encode at now, given the target and the configured bitrate (bps), at most
   * `maxScale`. One step at a time, at most one step per MIN_SWITCH_INTERVAL_MS.
   */
  decide(
    targetBps: number,
    ceilingBps: number,
    nowMs: number,
    maxScale: ResolutionScale = 4,
  ): ResolutionScale {
    const { downBelow, upAbove } = TIER_THRESHOLDS[this.#scale];
    if (targetBps > upAbove * ceilingBps) this.#aboveSinceMs ??= nowMs;
    else this.#aboveSinceMs = undefined;
    if (nowMs - this.#lastSwitchMs < MIN_SWITCH_INTERVAL_MS) return this.#scale;
    let next: ResolutionScale = this.#scale;
    if (targetBps < downBelow * ceilingBps && this.#scale < maxScale) next = this.#scale === 1 ? 2 : 4;
    else if (this.#aboveSinceMs !== undefined && nowMs - this.#aboveSinceMs >= UPSCALE_AFTER_MS)
      next = this.#scale === 4 ? 2 : 1;
    if (next !== this.#scale) {
      this.#aboveSinceMs = undefined;
      this.#scale = next;
      this.#lastSwitchMs = nowMs;
    }
    return next;
  }

  /** Back to full size (a new encoder starts at full size). */
  reset(): void {
    this.#scale = 1;
    this.#lastSwitchMs = Number.NEGATIVE_INFINITY;
    this.#aboveSinceMs = undefined;
  }
}

/**
 * Divides an I420 frame's width and height by `scale` (halving once or twice) into `buffers`
 * (made on first use). The result is valid until the next call.
 */
export function scaleI420(
  frame: RawVideoFrame,
  scale: ResolutionScale,
  buffers: { half?: Uint8Array; quarter?: Uint8Array },
): RawVideoFrame {
  if (scale === 1) return frame;
  buffers.half ??= new Uint8Array(frame.data.length >> 2);
  const half = halveI420(frame, buffers.half);
  if (scale === 2) return half;
  buffers.quarter ??= new Uint8Array(half.data.length >> 2);
  return halveI420(half, buffers.quarter);
}

/**
 * Halves an I420 frame (2×2 box filter, rounding) into `out`, which must hold
 * `(w/2)·(h/2)·1.5` bytes; returns the half-size frame over `out`. The caller keeps `out` only
 * until the encoder has copied it (encode() copies synchronously). ~1.5 ms for 1280x720 here.
 */
export function halveI420(frame: RawVideoFrame, out: Uint8Array): RawVideoFrame {
  const { width, height, data } = frame;
  const halfWidth = width >> 1;
  const halfHeight = height >> 1;
  halvePlane(data, 0, width, height, out, 0);
  const lumaBytes = width * height;
  const chromaBytes = (width >> 1) * (height >> 1);
  const halfLumaBytes = halfWidth * halfHeight;
  const halfChromaBytes = (halfWidth >> 1) * (halfHeight >> 1);
  halvePlane(data, lumaBytes, width >> 1, height >> 1, out, halfLumaBytes);
  halvePlane(data, lumaBytes + chromaBytes, width >> 1, height >> 1, out, halfLumaBytes + halfChromaBytes);
  return {
    data: out.subarray(0, halfLumaBytes + 2 * halfChromaBytes),
    width: halfWidth,
    height: halfHeight,
    timestampMs: frame.timestampMs,
    monotonicMs: frame.monotonicMs,
    sequence: frame.sequence,
  };
}

function halvePlane(
  src: Uint8Array,
  srcOffset: number,
  width: number,
  height: number,
  dst: Uint8Array,
  dstOffset: number,
): void {
  const outWidth = width >> 1;
  const outHeight = height >> 1;
  for (let y = 0; y < outHeight; y++) {
    let top = srcOffset + 2 * y * width;
    let bottom = top + width;
    let o = dstOffset + y * outWidth;
    for (let x = 0; x < outWidth; x++) {
      dst[o++] =
        ((src[top] ?? 0) + (src[top + 1] ?? 0) + (src[bottom] ?? 0) + (src[bottom + 1] ?? 0) + 2) >> 2;
      top += 2;
      bottom += 2;
    }
  }
}
