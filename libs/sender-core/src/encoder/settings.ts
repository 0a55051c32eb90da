/**
 * The encoder's vocabulary: settings with their defaults and bounds, the frames going in and out,
 * and the counters. Types only plus the pure functions that resolve settings; everything else in
 * the encoder folder builds on this file.
 */
import { availableParallelism } from 'node:os';
import type { Logger, RawVideoFrame, VideoCodec } from '@robocam/types';
import { InvalidEncoderSettingsError } from './errors.js';
import { TEMPORAL_LAYER_COUNTS, type TemporalLayerCount } from './temporal-layers.js';

/**
 * Which encoder implementation to use.
 * - `'auto'`: H.264 tries the hardware encoders that are compiled into node-av's FFmpeg
 *   (`h264_v4l2m2m`, `h264_vaapi`, `h264_nvenc`, in that order) by actually opening them and encoding
 *   a test frame, and falls back to libx264 (logged as a warning); VP8 always uses libvpx.
 * - `'software'`: libvpx / libx264.
 * - `'v4l2m2m'` (Raspberry Pi), `'vaapi'` (Intel/AMD), `'nvenc'` (NVIDIA desktop GPUs; Jetson boards
 *   have no NVENC through FFmpeg, they use nvv4l2): only that encoder; if it can't be opened,
 *   create() rejects with `EncoderUnavailableError`. VP8 has no hardware path: a hardware
 *   preference with `codec: 'vp8'` rejects the same way.
 */
export type EncoderPreference = 'auto' | 'software' | 'v4l2m2m' | 'vaapi' | 'nvenc';

/** Every {@link EncoderPreference}. */
export const ENCODER_PREFERENCES: readonly EncoderPreference[] = [
  'auto',
  'software',
  'v4l2m2m',
  'vaapi',
  'nvenc',
];

/** How `VideoEncoder.setBitrate` takes effect for the active implementation. */
export type BitrateUpdateMode =
  /** The codec context's bit_rate/maxrate/bufsize are updated before the next frame and the
   * wrapper reconfigures the encoder in place (libx264: x264_encoder_reconfig; nvenc: dynamic
   * bitrate). No keyframe. */
  | 'in-place'
  /** libvpx (VP8): FFmpeg's wrapper can't change the target bitrate after open, but libvpx sizes
   * each frame as target_bitrate / framerate and measures the framerate from the timestamps it is
   * given. The encoder scales the (internal) timestamps by new/initial bitrate, which changes the
   * per-frame budget from the next frame on, without a keyframe. VP8 has no timestamps in the
   * bitstream, so nothing downstream sees this. At the next keyframe the encoder is re-opened at
   * the new bitrate (rate-control buffer sizes are in bits of the initial rate); for changes
   * beyond 4× it is re-opened immediately (a `reopen` keyframe). */
  | 'timestamp-scaling'
  /** h264_v4l2m2m, h264_vaapi: re-opened at the new bitrate at the next keyframe; a decrease of
   * 20 % or more is applied within about a second (re-open = one extra `reopen` keyframe). */
  | 'reinit-at-keyframe';

/** Settings of a `VideoEncoder`. */
export interface VideoEncoderSettings {
  /** Codec to produce. */
  codec: VideoCodec;
  /** Frame width in pixels; even, 16..8192. Every frame passed to encode() must have this size. */
  width: number;
  /** Frame height in pixels; even, 16..8192. */
  height: number;
  /** Nominal frame rate of the source (1..240, may be fractional); used for rate control. The real
   * frame timing comes from the frames' monotonic capture times. */
  fps: number;
  /**
   * Target bitrate in kbit/s, bounded to [100, 20000] (values outside are clamped).
   * Default: 2500 at 1280×720@30, scaled with pixel count^0.75 and sqrt(fps/30)
   * (≈1100 at 640×480@30, ≈4600 at 1920×1080@30); see {@link defaultBitrateKbps}.
   */
  bitrateKbps?: number;
  /** Encoder implementation preference. Default `'auto'`. */
  encoder?: EncoderPreference;
  /**
   * Encoder threads, 1..16. Default 1 for VP8 (libvpx with 2 threads was 1.6–4× slower with
   * 100–250 ms stalls on 2-core boards), for H.264 `min(2, cores - 1)` (at least 1); libx264 uses
   * sliced threads, which add no latency. Ignored by hardware encoders.
   */
  threads?: number;
  /**
   * VP8 temporal layers, 1, 2 or 3. Default 2 for VP8: the one shared encoder then serves viewers
   * of different link rates, a slow one getting only the base layer (half the frame rate, 60 % of
   * the bits) while the others get everything, at a cost of some compression efficiency at the
   * full rate (the upper layer predicts from older frames). 3 layers (quarter / half / full frame
   * rate; 40 / 20 / 40 % of the bits) give a finer step at a further cost; 1 turns layering off.
   * H.264 has no temporal layers here (none of its encoders in the table expose them): for H.264
   * the value is validated but always resolves to 1, so one setting can serve cameras of both
   * codecs. See `EncodedFrame.temporalLayer`.
   */
  temporalLayers?: TemporalLayerCount;
  /** Where the encoder logs its implementation choice, fallbacks and re-opens. Default silent. */
  logger?: Logger;
}

/** {@link VideoEncoderSettings} with every default filled in (the logger is kept apart). */
export interface ResolvedVideoEncoderSettings {
  readonly codec: VideoCodec;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly bitrateKbps: number;
  readonly encoder: EncoderPreference;
  readonly threads: number;
  /** Temporal layers in effect: 1 for H.264 whatever was asked. */
  readonly temporalLayers: TemporalLayerCount;
}

/**
 * What encode() reads of a {@link RawVideoFrame}. The data is copied synchronously inside encode():
 * the caller may reuse the buffer as soon as encode() has returned its promise. `monotonicMs`
 * times the frames for rate control; `timestampMs` is only passed through.
 */
export type EncoderInputFrame = Pick<
  RawVideoFrame,
  'data' | 'width' | 'height' | 'timestampMs' | 'monotonicMs'
>;

/** Options of one encode() call. */
export interface EncodeOptions {
  /** Force this frame to be a keyframe (IDR for H.264). The encoder never decides on its own. */
  keyframe?: boolean;
}

/**
 * Why an encoded frame is a keyframe:
 * - `forced`: encode() was asked for one (`{ keyframe: true }`);
 * - `start`: the first frame of a new encoder, unasked;
 * - `reopen`: the encoder re-opened itself at a new bitrate (see {@link BitrateUpdateMode}) and a
 *   re-opened codec starts with a keyframe: an extra keyframe nobody asked for;
 * - `encoder`: a keyframe nobody asked for: the codec made one on its own (not expected with the
 *   settings used), or, with temporal layers, the encoder forced one after an encode() failed,
 *   because where FFmpeg's layer pattern then stood is unknown and a keyframe restarts it.
 */
export type KeyframeCause = 'forced' | 'start' | 'reopen' | 'encoder';

/** One encoded frame (access unit). */
export interface EncodedFrame {
  /** VP8 frame, or H.264 access unit in Annex-B format (start codes); H.264 keyframes always
   * begin with SPS and PPS. Owned by the receiver (a copy, never reused by the encoder). */
  data: Buffer;
  /** Keyframe (VP8 key frame / H.264 IDR). */
  keyframe: boolean;
  /** Why it is a keyframe; undefined for delta frames. */
  keyframeCause?: KeyframeCause | undefined;
  /** Wall-clock capture time of the source frame (ms since the epoch), passed through. */
  timestampMs: number;
  /** Monotonic capture time of the source frame (ms, `performance.now()`), passed through: RTP
   * timestamps derive from it. */
  monotonicMs: number;
  /** 0, 1, 2, ... over the life of the encoder (gaps never occur). */
  sequence: number;
  /** Milliseconds from the encode() call for the source frame to this packet being available. */
  encodeMs: number;
  /**
   * VP8 temporal layer of this frame: 0 is the base layer, which decodes on its own; frames of
   * layer n reference only layers ≤ n, so a viewer can be sent layers 0..k and skip the rest (the
   * decoded base-layer pictures are then bit-identical to those of the full stream). Keyframes are
   * always layer 0 (a keyframe replaces every reference buffer: every viewer needs it). Always 0
   * for H.264 and for single-layer VP8. The pattern (see `VideoEncoder.temporalLayers`): 2 layers
   * 0,1,0,1,…; 3 layers 0,2,1,2,…; it restarts at every keyframe.
   */
  temporalLayer: number;
  /**
   * Layer sync (the VP8 payload descriptor's Y bit): true for keyframes, and for an upper-layer
   * frame that references base-layer frames only, so a receiver that so far got only layer 0 can
   * start taking this frame's layer here. False for base-layer delta frames (a receiver never
   * switches to layer 0; they reference only the previous base-layer frame anyway). With 2
   * layers every layer-1 frame is a sync frame; with 3 layers the layer-1 frames and the first
   * layer-2 frame after each base frame are, the second layer-2 frame (which references the
   * layer-1 frame before it) is not.
   */
  layerSync: boolean;
}

/** Counters of a `VideoEncoder` (per-frame encode times are on each {@link EncodedFrame}). */
export interface VideoEncoderStats {
  /** Frames accepted by encode(). */
  framesIn: number;
  /** Encoded frames produced. */
  framesOut: number;
  /** Keyframes produced, whatever their {@link KeyframeCause}. */
  keyframes: number;
  /** encode() calls with `{ keyframe: true }`. */
  keyframesRequested: number;
  /** Total bytes produced. */
  bytesOut: number;
  /** encode() calls rejected because the encoder was busy. */
  busyRejections: number;
  /** Times the FFmpeg encoder was re-opened (bitrate changes that need it). */
  reinits: number;
  /** encode() calls that failed in FFmpeg. */
  errors: number;
  /** Current target bitrate, kbit/s. */
  bitrateKbps: number;
}

/** Temporal layers of a VP8 encoder unless its settings say otherwise. */
export const DEFAULT_VP8_TEMPORAL_LAYERS: TemporalLayerCount = 2;

/** Lowest target bitrate, kbit/s; lower requests are clamped to it. */
export const MIN_BITRATE_KBPS = 100;
/** Highest target bitrate, kbit/s; higher requests are clamped to it. */
export const MAX_BITRATE_KBPS = 20_000;

/**
 * Default target bitrate for a resolution and frame rate: 2500 kbit/s at 1280×720@30, scaled with
 * (pixels)^0.75 (bigger frames compress better per pixel) and sqrt(fps/30), rounded to 10 kbit/s and
 * bounded to [100, 20000].
 */
export function defaultBitrateKbps(width: number, height: number, fps: number): number {
  const kbps = 2500 * Math.pow((width * height) / (1280 * 720), 0.75) * Math.sqrt(fps / 30);
  return clampBitrateKbps(Math.round(kbps / 10) * 10);
}

/** `kbps` rounded and bounded to [{@link MIN_BITRATE_KBPS}, {@link MAX_BITRATE_KBPS}]. */
export function clampBitrateKbps(kbps: number): number {
  return Math.min(MAX_BITRATE_KBPS, Math.max(MIN_BITRATE_KBPS, Math.round(kbps)));
}

/**
 * Throws {@link InvalidEncoderSettingsError} unless `kbps` is a positive finite number (values
 * outside the bounds are fine: they are clamped). For every place that accepts a bitrate, so a bad
 * value is refused where it is given, not when the next encoder opens.
 */
export function checkBitrateKbps(kbps: number, what = 'bitrateKbps'): void {
  const value: unknown = kbps;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidEncoderSettingsError(`${what} must be a positive number, got ${String(value)}`);
  }
}

/** Validate settings and fill in defaults. Throws {@link InvalidEncoderSettingsError}. */
export function resolveEncoderSettings(settings: VideoEncoderSettings): ResolvedVideoEncoderSettings {
  const bad = (message: string): never => {
    throw new InvalidEncoderSettingsError(message);
  };
  const { codec, width, height, fps } = settings;
  // Runtime checks for untyped (JS, JSON config) callers.
  const codecIn: unknown = codec;
  if (codecIn !== 'vp8' && codecIn !== 'h264') bad(`codec must be 'vp8' or 'h264', got ${String(codecIn)}`);
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 16 || v > 8192 || v % 2 !== 0) {
      bad(`${name} must be an even integer in [16, 8192], got ${String(v)}`);
    }
  }
  if (!Number.isFinite(fps) || fps < 1 || fps > 240) bad(`fps must be in [1, 240], got ${String(fps)}`);
  const encoder = settings.encoder ?? 'auto';
  if (!ENCODER_PREFERENCES.includes(encoder))
    bad(`encoder must be one of ${ENCODER_PREFERENCES.join(', ')}, got ${encoder as string}`);
  let bitrateKbps = defaultBitrateKbps(width, height, fps);
  if (settings.bitrateKbps !== undefined) {
    checkBitrateKbps(settings.bitrateKbps);
    bitrateKbps = clampBitrateKbps(settings.bitrateKbps);
  }
  const threads =
    settings.threads ?? (codec === 'vp8' ? 1 : Math.max(1, Math.min(2, availableParallelism() - 1)));
  if (!Number.isInteger(threads) || threads < 1 || threads > 16)
    bad(`threads must be an integer in [1, 16], got ${String(threads)}`);
  const layersIn: unknown = settings.temporalLayers ?? DEFAULT_VP8_TEMPORAL_LAYERS;
  if (!TEMPORAL_LAYER_COUNTS.includes(layersIn as TemporalLayerCount))
    bad(`temporalLayers must be 1, 2 or 3, got ${String(layersIn)}`);
  const temporalLayers = codec === 'vp8' ? (layersIn as TemporalLayerCount) : 1;
  return { codec, width, height, fps, bitrateKbps, encoder, threads, temporalLayers };
}

/** Why `frame` cannot go into an encoder with settings `s` (size, data length, timestamps), or
 * undefined when it can. */
export function frameMismatch(frame: EncoderInputFrame, s: ResolvedVideoEncoderSettings): string | undefined {
  if (frame.width !== s.width || frame.height !== s.height) {
    return `frame is ${frame.width}x${frame.height}, the encoder is ${s.width}x${s.height}`;
  }
  const expected = (s.width * s.height * 3) / 2;
  if (frame.data.byteLength !== expected) {
    return `I420 ${s.width}x${s.height} needs ${expected} bytes, got ${frame.data.byteLength}`;
  }
  for (const key of ['timestampMs', 'monotonicMs'] as const) {
    const value: unknown = frame[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return `${key} must be a finite number, got ${String(value)}`;
    }
  }
  return undefined;
}
