/**
 * Encoder stage of the sender: one {@link VideoEncoder} per camera, shared by every viewer of that
 * camera (encode once, fan out the packets).
 *
 * Built on node-av's low-level API (`CodecContext`, `Frame`, `Packet`) with the async variants
 * (`open2`, `sendFrame`, `receivePacket`): those run on libuv's thread pool, so the event loop stays
 * free while a frame is being encoded. node-av's high-level `Encoder` is not used on purpose: it
 * resets `frame.pictType` to NONE before encoding (so keyframes can't be forced through it), opens
 * lazily on the first frame and can't change the bitrate.
 *
 * Latency design: no lookahead, no B-frames, no frame reordering, no encoder-side buffering – every
 * encode() returns the packet of exactly that frame (software encoders); CBR-ish rate control with a
 * small (500 ms) buffer; keyframes only on request (PLI/FIR from a viewer) and every
 * `keyframeIntervalSec` (10 s by default), so bursts are rare.
 */
import createDebug from 'debug';
import { availableParallelism } from 'node:os';
import {
  Codec,
  CodecContext,
  Dictionary,
  FFmpegError,
  Frame,
  HardwareDeviceContext,
  HardwareFramesContext,
  Packet,
  Rational,
} from 'node-av/lib';
import {
  AV_HWDEVICE_TYPE_VAAPI,
  AV_PICTURE_TYPE_I,
  AV_PICTURE_TYPE_NONE,
  AV_PIX_FMT_NV12,
  AV_PIX_FMT_VAAPI,
  AV_PIX_FMT_YUV420P,
  AV_PROFILE_H264_BASELINE,
  AV_PROFILE_H264_CONSTRAINED,
  AVERROR_EAGAIN,
  AVERROR_EOF,
  FF_ENCODER_H264_NVENC,
  FF_ENCODER_H264_V4L2M2M,
  FF_ENCODER_H264_VAAPI,
  FF_ENCODER_LIBVPX_VP8,
  FF_ENCODER_LIBX264,
  FF_THREAD_SLICE,
  type AVProfile,
} from 'node-av/constants';

import {
  EncodeFailedError,
  EncoderBusyError,
  EncoderClosedError,
  EncoderUnavailableError,
  InvalidEncoderSettingsError,
  InvalidFrameError,
  type EncoderAttempt,
} from './encoder-errors.js';
import {
  ANNEX_B_START_CODE,
  H264NalType,
  extradataToAnnexB,
  h264NalType,
  profileLevelIdOfSps,
  splitAnnexB,
} from './h264.js';

const log = createDebug('robocam:sender:encoder');

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/** Video codecs the sender can encode (both are mandatory-to-implement in WebRTC browsers). */
export type VideoCodec = 'vp8' | 'h264';

/**
 * Which encoder implementation to use.
 * - `'auto'`: H.264 tries the hardware encoders that are compiled into node-av's FFmpeg
 *   (`h264_v4l2m2m`, `h264_vaapi`, `h264_nvenc`, in that order) by actually opening them and encoding
 *   a test frame, and falls back to libx264 (logged on `robocam:sender:encoder`); VP8 always uses
 *   libvpx.
 * - `'software'`: libvpx / libx264.
 * - `'v4l2m2m'` (Raspberry Pi), `'vaapi'` (Intel/AMD), `'nvenc'` (NVIDIA desktop GPUs; Jetson boards
 *   have no NVENC through FFmpeg, they use nvv4l2): only that encoder; if it can't be opened,
 *   create() rejects with {@link EncoderUnavailableError}. VP8 has no hardware path: a hardware
 *   preference with `codec: 'vp8'` rejects the same way.
 */
export type EncoderPreference = 'auto' | 'software' | 'v4l2m2m' | 'vaapi' | 'nvenc';

/** How {@link VideoEncoder.setBitrate} takes effect for the active implementation. */
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
   * beyond 4× it is re-opened immediately. */
  | 'timestamp-scaling'
  /** h264_v4l2m2m, h264_vaapi: re-opened at the new bitrate at the next keyframe; a decrease of
   * 20 % or more is applied within about a second (re-open = one extra keyframe). */
  | 'reinit-at-keyframe';

/** Settings of a {@link VideoEncoder}. */
export interface VideoEncoderSettings {
  /** Codec to produce. */
  codec: VideoCodec;
  /** Frame width in pixels; even, 16..8192. Every frame passed to encode() must have this size. */
  width: number;
  /** Frame height in pixels; even, 16..8192. */
  height: number;
  /** Nominal frame rate of the source (1..240, may be fractional); used for rate control and
   * keyframe bookkeeping. The real frame timing comes from the frames' timestamps. */
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
   * Seconds between periodic keyframes (keyframes are also produced on demand, e.g. on a PLI).
   * Default 10. `0` disables periodic keyframes (only the first frame and requested ones).
   * Measured on the frames' timestamps, so dropped frames don't stretch the interval.
   */
  keyframeIntervalSec?: number;
  /**
   * Encoder threads, 1..16. Default 1 for VP8 (libvpx with 2 threads was 1.6–4× slower with
   * 100–250 ms stalls on 2-core boards), for H.264 `min(2, cores - 1)` (at least 1); libx264 uses
   * sliced threads, which add no latency. Ignored by hardware encoders.
   */
  threads?: number;
}

/** {@link VideoEncoderSettings} with every default filled in. */
export interface ResolvedVideoEncoderSettings {
  readonly codec: VideoCodec;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly bitrateKbps: number;
  readonly encoder: EncoderPreference;
  readonly keyframeIntervalSec: number;
  readonly threads: number;
}

/** A raw frame to encode. */
export interface RawVideoFrame {
  /** I420 (yuv420p) pixels, tightly packed: Y (width×height), U, V (each width/2 × height/2).
   * Copied synchronously inside encode(): the caller may reuse the buffer as soon as encode()
   * has returned its promise. */
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** Capture time of the frame in milliseconds (any clock that does not jump, e.g. Date.now());
   * passed through to the {@link EncodedFrame} and used to derive the encoder timestamps and the
   * keyframe interval. */
  readonly timestampMs: number;
}

/** Options of one encode() call. */
export interface EncodeOptions {
  /** Force this frame to be a keyframe (IDR for H.264). */
  keyframe?: boolean;
}

/** One encoded frame (access unit). */
export interface EncodedFrame {
  /** VP8 frame, or H.264 access unit in Annex-B format (start codes); H.264 keyframes always
   * begin with SPS and PPS. Owned by the receiver (a copy, never reused by the encoder). */
  data: Buffer;
  /** Keyframe (VP8 key frame / H.264 IDR). */
  keyframe: boolean;
  /** `timestampMs` of the source frame, passed through. */
  timestampMs: number;
  /** 0, 1, 2, ... over the life of the encoder (gaps never occur). */
  sequence: number;
  /** Milliseconds from the encode() call for the source frame to this packet being available. */
  encodeMs: number;
}

/** Counters of a {@link VideoEncoder}. */
export interface VideoEncoderStats {
  /** Frames accepted by encode(). */
  framesIn: number;
  /** Encoded frames produced. */
  framesOut: number;
  /** Keyframes produced (including the first frame and periodic ones). */
  keyframes: number;
  /** Keyframes requested through encode({ keyframe: true }) or requestKeyframe(). */
  keyframesRequested: number;
  /** Total bytes produced. */
  bytesOut: number;
  /** encodeMs of the last produced frame. */
  lastEncodeMs: number;
  /** Exponentially weighted average of encodeMs (α = 0.1). */
  avgEncodeMs: number;
  /** Largest encodeMs so far. */
  maxEncodeMs: number;
  /** encode() calls rejected because the encoder was busy. */
  busyRejections: number;
  /** Times the FFmpeg encoder was re-opened (bitrate changes that need it). */
  reinits: number;
  /** encode() calls that failed in FFmpeg. */
  errors: number;
  /** Current target bitrate. */
  bitrateKbps: number;
}

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

/** Lower/upper bound of the target bitrate. */
export const MIN_BITRATE_KBPS = 100;
export const MAX_BITRATE_KBPS = 20_000;

/** Encoder timestamps are in 90 kHz units (the RTP video clock). */
const TIME_BASE_HZ = 90_000;
/** Rate-control buffer (libvpx rc_buf_sz, x264 vbv-bufsize): the largest burst the encoder may
 * produce above the target rate; at the target link rate this is also the worst-case queueing
 * delay it can cause. 0.5 s keeps keyframe bursts short while leaving room for a decent IDR. */
const RC_BUFFER_MS = 500;
/** libvpx rc_buf_initial_sz (the rc_buf_optimal_sz is 5/6 of rc_buf_sz, set by FFmpeg). */
const RC_INITIAL_BUFFER_MS = 400;
/** Bound of a VP8 keyframe's size, expressed as transmission time at the target rate; turned into
 * libvpx's max-intra-rate (percent of an average frame). 5 frames at 30 fps. */
const VP8_MAX_KEYFRAME_MS = 167;
/** Hardware probes give up after this long (a hung driver must not hang create()). */
const PROBE_TIMEOUT_MS = 5_000;
/** A hardware encoder that failed to open for a size is not probed again for this long (camera
 * pipelines re-create their encoder whenever viewers come back; probing costs time and log noise). */
const PROBE_FAILURE_TTL_MS = 60_000;
/** Codec-level GOP is only a backstop; periodic keyframes are forced by timestamp. */
const GOP_BACKSTOP_FACTOR = 1.5;
const GOP_INFINITE = 0x3fff_ffff;

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

/**
 * Default target bitrate for a resolution and frame rate: 2500 kbit/s at 1280×720@30, scaled with
 * (pixels)^0.75 (bigger frames compress better per pixel) and sqrt(fps/30), rounded to 10 kbit/s and
 * bounded to [100, 20000].
 */
export function defaultBitrateKbps(width: number, height: number, fps: number): number {
  const kbps = 2500 * Math.pow((width * height) / (1280 * 720), 0.75) * Math.sqrt(fps / 30);
  return clampKbps(Math.round(kbps / 10) * 10);
}

function clampKbps(kbps: number): number {
  return Math.min(MAX_BITRATE_KBPS, Math.max(MIN_BITRATE_KBPS, Math.round(kbps)));
}

const PREFERENCES: readonly EncoderPreference[] = ['auto', 'software', 'v4l2m2m', 'vaapi', 'nvenc'];

/** Validate settings and fill in defaults. Throws {@link InvalidEncoderSettingsError}. */
export function resolveEncoderSettings(settings: VideoEncoderSettings): ResolvedVideoEncoderSettings {
  const bad = (msg: string): never => {
    throw new InvalidEncoderSettingsError(msg);
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
  if (!PREFERENCES.includes(encoder))
    bad(`encoder must be one of ${PREFERENCES.join(', ')}, got ${encoder as string}`);
  let bitrateKbps = defaultBitrateKbps(width, height, fps);
  if (settings.bitrateKbps !== undefined) {
    if (!Number.isFinite(settings.bitrateKbps) || settings.bitrateKbps <= 0) {
      bad(`bitrateKbps must be a positive number, got ${String(settings.bitrateKbps)}`);
    }
    bitrateKbps = clampKbps(settings.bitrateKbps);
    if (bitrateKbps !== settings.bitrateKbps)
      log('bitrate %d kbit/s clamped to %d', settings.bitrateKbps, bitrateKbps);
  }
  const keyframeIntervalSec = settings.keyframeIntervalSec ?? 10;
  if (!Number.isFinite(keyframeIntervalSec) || keyframeIntervalSec < 0) {
    bad(`keyframeIntervalSec must be >= 0 (0 = no periodic keyframes), got ${String(keyframeIntervalSec)}`);
  }
  const threads =
    settings.threads ?? (codec === 'vp8' ? 1 : Math.max(1, Math.min(2, availableParallelism() - 1)));
  if (!Number.isInteger(threads) || threads < 1 || threads > 16)
    bad(`threads must be an integer in [1, 16], got ${String(threads)}`);
  return { codec, width, height, fps, bitrateKbps, encoder, keyframeIntervalSec, threads };
}

// ---------------------------------------------------------------------------------------------
// Implementations
// ---------------------------------------------------------------------------------------------

type ImplementationName = 'libvpx' | 'libx264' | 'h264_v4l2m2m' | 'h264_vaapi' | 'h264_nvenc';

interface Implementation {
  readonly name: ImplementationName;
  readonly hardware: boolean;
  readonly bitrateUpdate: BitrateUpdateMode;
  /** Input surfaces live in VA-API memory (upload through a hw frames context). */
  readonly vaapi: boolean;
  findCodec(): Codec | null;
  /** Set codec-context fields and return the encoder's private options (FFmpeg names). */
  configure(
    ctx: CodecContext,
    s: ResolvedVideoEncoderSettings,
    kbps: number,
  ): Record<string, string | number>;
}

const CONSTRAINED_BASELINE = (AV_PROFILE_H264_BASELINE | AV_PROFILE_H264_CONSTRAINED) as AVProfile;

const IMPLEMENTATIONS: Readonly<Record<ImplementationName, Implementation>> = {
  libvpx: {
    name: 'libvpx',
    hardware: false,
    bitrateUpdate: 'timestamp-scaling',
    vaapi: false,
    findCodec: () => Codec.findEncoderByName(FF_ENCODER_LIBVPX_VP8),
    configure(ctx, s, kbps) {
      // min = max = target bitrate makes FFmpeg's libvpxenc.c choose rc_end_usage = VPX_CBR.
      ctx.rcMinRate = BigInt(kbps * 1000);
      // libvpxenc.c: rc_buf_initial_sz = rc_initial_buffer_occupancy * 1000 / bit_rate (ms).
      setGenericOption(ctx, 'rc_init_occupancy', Math.round((kbps * RC_INITIAL_BUFFER_MS) / 1000) * 1000);
      return {
        // VPX_DL_REALTIME: the encoder gets one frame interval at most, no multi-pass search.
        deadline: 'realtime',
        // Negative = fixed speed |n| (positive values make libvpx auto-tune speed to a share of the
        // frame time, so CPU use and quality wander with load). Speed 12 is WebRTC's choice for ARM;
        // measured here at 720p: -6 5.6 ms/frame, -12 5.1 ms (−0.04 dB), -16 4.1 ms (−0.3 dB),
        // while +8 (auto) took 10 ms for the same quality.
        'cpu-used': -12,
        // No look-ahead frames: a frame is output as soon as it is encoded (lag = 0 latency).
        'lag-in-frames': 0,
        // Alt-ref frames need look-ahead (and are invisible frames a receiver has to wait for).
        'auto-alt-ref': 0,
        // VPX_ERROR_RESILIENT_DEFAULT: entropy contexts are not carried across frames, so a lost
        // frame does not corrupt the decoding of the following ones.
        'error-resilient': 'default',
        // Temporal denoiser off: costs CPU and smears motion.
        'noise-sensitivity': 0,
        // Bound keyframe size (percent of an average frame) so a PLI-triggered keyframe doesn't
        // flood the link: ~VP8_MAX_KEYFRAME_MS of data at the target rate.
        'max-intra-rate': Math.max(300, Math.round((VP8_MAX_KEYFRAME_MS * s.fps) / 10)),
        // WebRTC's VP8 rate-control tolerances: may undershoot freely, overshoot only 15 %.
        'undershoot-pct': 100,
        'overshoot-pct': 15,
        // Never drop frames inside the encoder: the pipeline drops input frames instead ("latest
        // frame wins"), and a requested keyframe must not vanish.
        'drop-threshold': 0,
      };
    },
  },
  libx264: {
    name: 'libx264',
    hardware: false,
    bitrateUpdate: 'in-place',
    vaapi: false,
    findCodec: () => Codec.findEncoderByName(FF_ENCODER_LIBX264),
    configure(ctx) {
      // libx264.c: thread_type other than SLICE selects frame threads (+1 frame latency per thread).
      ctx.threadType = FF_THREAD_SLICE;
      return {
        // Cheapest analysis: 0.09/0.21/0.39 cores at 480p/720p/1080p@30 on these boards.
        preset: 'ultrafast',
        // No lookahead, no B-frames, sliced threads, no VFR buffering: one frame in, one out.
        tune: 'zerolatency',
        // Constrained baseline (no B-frames, CAVLC, no 8x8dct): decodable by every WebRTC browser
        // including hardware decoders; x264 signals it as 42c0xx (constraint_set0+1).
        profile: 'baseline',
        // A keyframe requested through pict_type I is an IDR (decoder refresh), not an open I-frame.
        'forced-idr': 1,
        // Spelled out although preset/tune imply most of it:
        //   repeat-headers=1  SPS/PPS before every IDR (we never set GLOBAL_HEADER), so a viewer can
        //                     start decoding at any keyframe;
        //   annexb=1          start codes, which the RTP packetizer splits on;
        //   bframes=0, rc-lookahead=0, sync-lookahead=0  no reordering or look-ahead delay;
        //   scenecut=0        no surprise keyframes (bursts) on scene changes;
        //   intra-refresh=0   real IDRs on PLI rather than a rolling intra refresh;
        //   sliced-threads=1  threads split a frame into slices instead of pipelining frames;
        //   aud=0             no access unit delimiters (bytes for nothing over RTP).
        'x264-params':
          'repeat-headers=1:annexb=1:bframes=0:rc-lookahead=0:sync-lookahead=0:scenecut=0:' +
          'intra-refresh=0:sliced-threads=1:aud=0',
      };
    },
  },
  h264_v4l2m2m: {
    name: 'h264_v4l2m2m',
    hardware: true,
    // FFmpeg's v4l2_m2m_enc only sends bitrate/GOP controls at open.
    bitrateUpdate: 'reinit-at-keyframe',
    vaapi: false,
    findCodec: () => Codec.findEncoderByName(FF_ENCODER_H264_V4L2M2M),
    configure(ctx) {
      // Mapped to V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE. Keyframes are forced by
      // pict_type I (V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME). The Raspberry Pi encoder emits SPS/PPS
      // only once: the encoder re-inserts them before keyframes that lack them.
      ctx.profile = CONSTRAINED_BASELINE;
      return {};
    },
  },
  h264_vaapi: {
    name: 'h264_vaapi',
    hardware: true,
    // Upstream FFmpeg's vaapi_encode only reads the bitrate at open.
    bitrateUpdate: 'reinit-at-keyframe',
    vaapi: true,
    findCodec: () => Codec.findEncoderByName(FF_ENCODER_H264_VAAPI),
    configure() {
      return {
        profile: 'constrained_baseline',
        rc_mode: 'CBR',
        // One frame in flight: a frame's packet comes out with the next call at worst.
        async_depth: 1,
        aud: 0,
      };
    },
  },
  h264_nvenc: {
    name: 'h264_nvenc',
    hardware: true,
    // nvenc.c reconfigures the bitrate at runtime (NV_ENC_CAPS_SUPPORT_DYN_BITRATE_CHANGE).
    bitrateUpdate: 'in-place',
    vaapi: false,
    findCodec: () => Codec.findEncoderByName(FF_ENCODER_H264_NVENC),
    configure() {
      return {
        preset: 'p1', // fastest
        tune: 'ull', // ultra-low latency
        profile: 'baseline',
        rc: 'cbr',
        zerolatency: 1, // no reordering delay
        delay: 0, // no output delay (frames buffered before output)
        'rc-lookahead': 0,
        'no-scenecut': 1,
        'forced-idr': 1,
      };
    },
  },
};

const HW_BY_PREFERENCE: Readonly<Record<'v4l2m2m' | 'vaapi' | 'nvenc', ImplementationName>> = {
  v4l2m2m: 'h264_v4l2m2m',
  vaapi: 'h264_vaapi',
  nvenc: 'h264_nvenc',
};

function setGenericOption(ctx: CodecContext, name: string, value: number): void {
  const ret = ctx.setOption(name, value);
  if (ret < 0) throw new Error(`FFmpeg option ${name} rejected: ${FFmpegError.strerror(ret)}`);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function ffCheck(ret: number, what: string): void {
  if (ret < 0) throw new Error(`${what} failed: ${FFmpegError.strerror(ret)} (${ret})`);
}

// ---------------------------------------------------------------------------------------------
// CodecSession: one opened FFmpeg encoder with its reusable frame/packet
// ---------------------------------------------------------------------------------------------

interface RawPacket {
  data: Buffer;
  keyframe: boolean;
  pts: bigint;
}

interface VaapiResources {
  device: HardwareDeviceContext;
  frames: HardwareFramesContext;
  /** Reused surface handle (a new surface from the pool per frame). */
  hwFrame: Frame;
  /** NV12 staging copy of the input, owned by us (VA-API encoders take NV12 surfaces). */
  nv12: Buffer;
  /** Frame whose data pointers alias `nv12` (node-av's fromBuffer does not copy). */
  nv12View: Frame;
}

/**
 * One opened encoder. Input handling: node-av's `Frame.fromBuffer()` does NOT copy – it points the
 * frame's data planes at the JS buffer (av_image_fill_arrays) without holding a reference. So the
 * input is first aliased by `view` (a frame without buffers of its own) and then copied with
 * `av_frame_copy` into `frame`, which owns its (aligned) buffers: the caller's buffer is released
 * when encode() returns synchronously and nothing native points at JS memory afterwards.
 */
class CodecSession {
  private freed = false;

  private constructor(
    readonly impl: Implementation,
    readonly kbps: number,
    private readonly ctx: CodecContext,
    /** Owned yuv420p frame handed to the encoder (software input path). */
    private readonly frame: Frame,
    private readonly view: Frame,
    private readonly packet: Packet,
    private readonly vaapi: VaapiResources | undefined,
  ) {}

  /** Extradata (SPS/PPS for H.264 encoders that set it), Annex B. */
  get extradata(): Buffer | undefined {
    return extradataToAnnexB(this.ctx.extraData);
  }

  static async open(
    impl: Implementation,
    s: ResolvedVideoEncoderSettings,
    kbps: number,
  ): Promise<CodecSession> {
    const codec = impl.findCodec();
    if (!codec) throw new Error('not compiled into node-av’s FFmpeg');
    const ctx = new CodecContext();
    const frame = new Frame();
    const view = new Frame();
    const packet = new Packet();
    let vaapi: VaapiResources | undefined;
    const freeAll = (): void => {
      ctx.freeContext();
      frame.free();
      view.free();
      packet.free();
      if (vaapi) freeVaapi(vaapi);
    };
    try {
      ctx.allocContext3(codec);
      ctx.width = s.width;
      ctx.height = s.height;
      ctx.pixelFormat = AV_PIX_FMT_YUV420P;
      ctx.sampleAspectRatio = new Rational(1, 1);
      // 90 kHz time base; frame rate as a rational (29.97 → 29970/1000).
      ctx.timeBase = new Rational(1, TIME_BASE_HZ);
      ctx.framerate = new Rational(Math.round(s.fps * 1000), 1000);
      const bps = kbps * 1000;
      ctx.bitRate = BigInt(bps);
      // maxrate = bitrate and a small buffer: CBR-like VBV for x264/nvenc/vaapi (x264 logs "assuming
      // CBR"); libvpx additionally gets minrate below.
      ctx.rcMaxRate = BigInt(bps);
      ctx.rcBufferSize = Math.round((bps * RC_BUFFER_MS) / 1000);
      ctx.gopSize =
        s.keyframeIntervalSec > 0
          ? Math.max(1, Math.ceil(s.fps * s.keyframeIntervalSec * GOP_BACKSTOP_FACTOR))
          : GOP_INFINITE;
      ctx.maxBFrames = 0;
      ctx.threadCount = impl.hardware ? 1 : s.threads;
      const privateOptions = impl.configure(ctx, s, kbps);
      // Unknown option names would be silently ignored by avcodec_open2: check them.
      const known = new Set(codec.getOptions().map((o) => o.name));
      for (const name of Object.keys(privateOptions)) {
        if (!known.has(name)) throw new Error(`${impl.name} has no option '${name}'`);
      }
      if (impl.vaapi) {
        vaapi = createVaapi(s);
        ctx.pixelFormat = AV_PIX_FMT_VAAPI;
        ctx.hwFramesCtx = vaapi.frames;
      }
      const dict = Dictionary.fromObject(privateOptions);
      try {
        ffCheck(await ctx.open2(codec, dict), `avcodec_open2(${impl.name})`);
      } finally {
        dict.free();
      }
      frame.alloc();
      frame.format = AV_PIX_FMT_YUV420P;
      frame.width = s.width;
      frame.height = s.height;
      frame.timeBase = new Rational(1, TIME_BASE_HZ);
      ffCheck(frame.allocBuffer(), 'av_frame_get_buffer');
      view.alloc();
      view.format = AV_PIX_FMT_YUV420P;
      view.width = s.width;
      view.height = s.height;
      packet.alloc();
      return new CodecSession(impl, kbps, ctx, frame, view, packet, vaapi);
    } catch (e) {
      freeAll();
      throw e;
    }
  }

  /** Copy a tightly packed I420 buffer into the session's own frame (synchronous). */
  load(i420: Buffer): void {
    if (this.vaapi) {
      i420ToNv12(i420, this.vaapi.nv12, this.frame.width, this.frame.height);
      return;
    }
    ffCheck(this.frame.makeWritable(), 'av_frame_make_writable');
    const n = this.view.fromBuffer(i420); // aliases i420 (returns its size)
    ffCheck(n, 'fill frame arrays');
    ffCheck(this.frame.copy(this.view), 'av_frame_copy');
  }

  /** Take over the frame loaded into another session (used when re-opening). */
  loadFrom(other: CodecSession): void {
    if (this.vaapi && other.vaapi) {
      other.vaapi.nv12.copy(this.vaapi.nv12);
    } else {
      ffCheck(this.frame.makeWritable(), 'av_frame_make_writable');
      ffCheck(this.frame.copy(other.frame), 'av_frame_copy');
    }
  }

  /** Encode the loaded frame and return the packets that are ready. */
  async encode(pts: bigint, duration: bigint, keyframe: boolean): Promise<RawPacket[]> {
    let input = this.frame;
    if (this.vaapi) {
      const { frames, hwFrame, nv12, nv12View } = this.vaapi;
      hwFrame.unref();
      ffCheck(frames.getBuffer(hwFrame, 0), 'av_hwframe_get_buffer');
      ffCheck(nv12View.fromBuffer(nv12), 'fill frame arrays');
      ffCheck(await frames.transferData(hwFrame, nv12View), 'av_hwframe_transfer_data');
      input = hwFrame;
    }
    input.pts = pts;
    input.duration = duration;
    // The way to force a keyframe through FFmpeg's encoders: libvpx → VPX_EFLAG_FORCE_KF,
    // libx264 → X264_TYPE_IDR (forced-idr), v4l2m2m → FORCE_KEY_FRAME, nvenc/vaapi → IDR.
    input.pictType = keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    const out: RawPacket[] = [];
    let ret = await this.ctx.sendFrame(input);
    if (ret === AVERROR_EAGAIN) {
      // Only asynchronous (hardware) encoders: output queue full, drain and resend.
      out.push(...(await this.drain()));
      ret = await this.ctx.sendFrame(input);
    }
    ffCheck(ret, 'avcodec_send_frame');
    out.push(...(await this.drain()));
    return out;
  }

  /** Receive every packet that is ready. */
  async drain(): Promise<RawPacket[]> {
    const out: RawPacket[] = [];
    for (;;) {
      const ret = await this.ctx.receivePacket(this.packet);
      if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) return out;
      ffCheck(ret, 'avcodec_receive_packet');
      const data = this.packet.data;
      // Copy out before unref: the packet object is reused for the next receive.
      if (data) out.push({ data: Buffer.from(data), keyframe: this.packet.isKeyframe, pts: this.packet.pts });
      this.packet.unref();
    }
  }

  /** Signal end of stream and return everything still buffered (hardware encoders). */
  async flush(): Promise<RawPacket[]> {
    const ret = await this.ctx.sendFrame(null);
    if (ret < 0 && ret !== AVERROR_EOF) return [];
    return this.drain();
  }

  /** Bitrate change for 'in-place' implementations; picked up by the wrapper on the next frame. */
  setBitrate(kbps: number): void {
    const bps = kbps * 1000;
    this.ctx.rcBufferSize = Math.round((bps * RC_BUFFER_MS) / 1000);
    this.ctx.rcMaxRate = BigInt(bps);
    this.ctx.bitRate = BigInt(bps);
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.ctx.freeContext();
    this.frame.free();
    this.view.free();
    this.packet.free();
    if (this.vaapi) freeVaapi(this.vaapi);
  }
}

function createVaapi(s: ResolvedVideoEncoderSettings): VaapiResources {
  const device = new HardwareDeviceContext();
  const ret = device.create(AV_HWDEVICE_TYPE_VAAPI, null, null);
  if (ret < 0) {
    device.free();
    throw new Error(`VA-API device: ${FFmpegError.strerror(ret)}`);
  }
  const frames = new HardwareFramesContext();
  const hwFrame = new Frame();
  const nv12View = new Frame();
  try {
    frames.format = AV_PIX_FMT_VAAPI;
    frames.swFormat = AV_PIX_FMT_NV12;
    frames.width = s.width;
    frames.height = s.height;
    frames.initialPoolSize = 8;
    frames.alloc(device);
    ffCheck(frames.init(), 'av_hwframe_ctx_init');
    hwFrame.alloc();
    nv12View.alloc();
    nv12View.format = AV_PIX_FMT_NV12;
    nv12View.width = s.width;
    nv12View.height = s.height;
  } catch (e) {
    hwFrame.free();
    nv12View.free();
    frames.free();
    device.free();
    throw e;
  }
  return { device, frames, hwFrame, nv12: Buffer.alloc((s.width * s.height * 3) / 2), nv12View };
}

function freeVaapi(v: VaapiResources): void {
  v.hwFrame.free();
  v.nv12View.free();
  v.frames.free();
  v.device.free();
}

/** I420 (planar U, V) → NV12 (interleaved UV), both tightly packed. */
function i420ToNv12(src: Buffer, dst: Buffer, width: number, height: number): void {
  const ySize = width * height;
  src.copy(dst, 0, 0, ySize);
  const cSize = ySize / 4;
  for (let i = 0, o = ySize; i < cSize; i++, o += 2) {
    dst[o] = src[ySize + i] ?? 128;
    dst[o + 1] = src[ySize + cSize + i] ?? 128;
  }
}

// ---------------------------------------------------------------------------------------------
// Probing
// ---------------------------------------------------------------------------------------------

/** Recent hardware probe failures by `implementation:WxH@fps`. */
const probeFailures = new Map<string, { reason: string; at: number }>();

interface ProbeResult {
  /** SPS/PPS (Annex B) seen in the test output or extradata, H.264 only. */
  paramSets?: Buffer;
  profileLevelId?: string;
}

/**
 * Open `impl` with the real settings, encode one grey frame, flush, and check that a packet came
 * out. Used for every H.264 candidate (for libx264 it tells the profile-level-id before the first
 * real frame, e.g. for an SDP offer). Throws with the reason on failure.
 */
async function probe(
  impl: Implementation,
  s: ResolvedVideoEncoderSettings,
  kbps: number,
): Promise<ProbeResult> {
  const opening = CodecSession.open(impl, s, kbps);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      resolve('timeout');
    }, PROBE_TIMEOUT_MS);
  });
  const session = await Promise.race([opening, timeout]).finally(() => {
    clearTimeout(timer);
  });
  if (session === 'timeout') {
    opening.then(
      (late) => {
        late.free();
      },
      () => undefined,
    );
    throw new Error(`open timed out after ${PROBE_TIMEOUT_MS} ms`);
  }
  try {
    const grey = Buffer.alloc((s.width * s.height * 3) / 2, 128);
    session.load(grey);
    const packets = await session.encode(0n, BigInt(Math.round(TIME_BASE_HZ / s.fps)), true);
    packets.push(...(await session.flush()));
    if (packets.length === 0) throw new Error('no output for a test frame');
    const stream = Buffer.concat([session.extradata ?? Buffer.alloc(0), ...packets.map((p) => p.data)]);
    const params = collectParamSets(stream);
    return params ? { paramSets: params.annexB, profileLevelId: params.profileLevelId } : {};
  } finally {
    session.free();
  }
}

/** The SPS and PPS of an Annex-B stream, re-serialized with 4-byte start codes. */
function collectParamSets(annexB: Uint8Array): { annexB: Buffer; profileLevelId: string } | undefined {
  let sps: Uint8Array | undefined;
  let pps: Uint8Array | undefined;
  for (const nal of splitAnnexB(annexB)) {
    const t = h264NalType(nal);
    if (t === H264NalType.Sps) sps ??= nal;
    else if (t === H264NalType.Pps) pps ??= nal;
  }
  const profileLevelId = sps && profileLevelIdOfSps(sps);
  if (!sps || !pps || !profileLevelId) return undefined;
  return { annexB: Buffer.concat([ANNEX_B_START_CODE, sps, ANNEX_B_START_CODE, pps]), profileLevelId };
}

// ---------------------------------------------------------------------------------------------
// VideoEncoder
// ---------------------------------------------------------------------------------------------

interface PendingFrame {
  timestampMs: number;
  startedAt: number;
}

/**
 * Encodes the frames of one camera for all of its viewers. Create with {@link VideoEncoder.create};
 * call encode() for each frame (one at a time: check {@link busy} and drop frames while it is
 * true), setBitrate() from congestion control, requestKeyframe() / `encode(f, { keyframe: true })`
 * on PLI/FIR, close() when done.
 */
export class VideoEncoder {
  /** Codec produced. */
  readonly codec: VideoCodec;
  /** FFmpeg encoder in use: `'libvpx'`, `'libx264'`, `'h264_v4l2m2m'`, `'h264_vaapi'` or `'h264_nvenc'`. */
  readonly implementation: string;
  /** Whether {@link implementation} is a hardware encoder. */
  readonly hardware: boolean;
  /** How setBitrate() takes effect with this implementation. */
  readonly bitrateUpdate: BitrateUpdateMode;
  /** Settings with defaults applied (bitrateKbps is the initial bitrate). */
  readonly settings: ResolvedVideoEncoderSettings;
  /** Implementations that were tried before {@link implementation} and why they were skipped. */
  readonly fallbacks: readonly EncoderAttempt[];

  readonly #impl: Implementation;
  #session: CodecSession;
  #h264ProfileLevelId: string | undefined;
  /** Latest SPS+PPS (Annex B), re-inserted before keyframes that lack them. */
  #paramSets: Buffer | undefined;
  #targetKbps: number;
  /** libvpx timestamp scaling: target / session bitrate. */
  #ptsScale = 1;
  /** Target bitrate not yet applied to the session (in-place / reinit modes). */
  #pendingKbps: number | undefined;
  #lastReinitAt = -Infinity;
  #nextPts = 0n;
  #lastInputTs: number | undefined;
  #lastKeyframeTs: number | undefined;
  #keyframeRequested = false;
  #sequence = 0;
  readonly #pending = new Map<bigint, PendingFrame>();
  #inFlight: Promise<EncodedFrame[]> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #stats: VideoEncoderStats;

  private constructor(
    impl: Implementation,
    settings: ResolvedVideoEncoderSettings,
    session: CodecSession,
    probed: ProbeResult,
    fallbacks: readonly EncoderAttempt[],
  ) {
    this.#impl = impl;
    this.codec = settings.codec;
    this.implementation = impl.name;
    this.hardware = impl.hardware;
    this.bitrateUpdate = impl.bitrateUpdate;
    this.settings = settings;
    this.fallbacks = fallbacks;
    this.#session = session;
    this.#targetKbps = settings.bitrateKbps;
    this.#h264ProfileLevelId = probed.profileLevelId;
    this.#paramSets = probed.paramSets;
    this.#stats = {
      framesIn: 0,
      framesOut: 0,
      keyframes: 0,
      keyframesRequested: 0,
      bytesOut: 0,
      lastEncodeMs: 0,
      avgEncodeMs: 0,
      maxEncodeMs: 0,
      busyRejections: 0,
      reinits: 0,
      errors: 0,
      bitrateKbps: settings.bitrateKbps,
    };
  }

  /**
   * Open an encoder. For H.264 each candidate implementation is probed by opening it and encoding a
   * test frame (this also tells {@link h264ProfileLevelId}). Rejects with
   * {@link InvalidEncoderSettingsError} or {@link EncoderUnavailableError}.
   */
  static async create(settings: VideoEncoderSettings): Promise<VideoEncoder> {
    const s = resolveEncoderSettings(settings);
    const attempts: EncoderAttempt[] = [];
    let candidates: ImplementationName[];
    if (s.codec === 'vp8') {
      if (s.encoder !== 'auto' && s.encoder !== 'software') {
        throw new EncoderUnavailableError(
          'vp8',
          s.encoder,
          [],
          `there is no hardware VP8 encoder path (only libvpx); use encoder 'software' or 'auto'`,
        );
      }
      candidates = ['libvpx'];
    } else if (s.encoder === 'auto') {
      candidates = ['h264_v4l2m2m', 'h264_vaapi', 'h264_nvenc', 'libx264'];
    } else if (s.encoder === 'software') {
      candidates = ['libx264'];
    } else {
      candidates = [HW_BY_PREFERENCE[s.encoder]];
    }

    for (const name of candidates) {
      const impl = IMPLEMENTATIONS[name];
      if (!impl.findCodec()) {
        attempts.push({ implementation: name, reason: 'not compiled into node-av’s FFmpeg' });
        continue;
      }
      const failureKey = `${name}:${s.width}x${s.height}@${s.fps}`;
      const recentFailure = probeFailures.get(failureKey);
      if (recentFailure && performance.now() - recentFailure.at < PROBE_FAILURE_TTL_MS) {
        attempts.push({ implementation: name, reason: `${recentFailure.reason} (probed recently)` });
        continue;
      }
      let probed: ProbeResult = {};
      let session: CodecSession;
      try {
        if (s.codec === 'h264') probed = await probe(impl, s, s.bitrateKbps);
        session = await CodecSession.open(impl, s, s.bitrateKbps);
      } catch (e) {
        const reason = errorText(e);
        attempts.push({ implementation: name, reason });
        if (impl.hardware) probeFailures.set(failureKey, { reason, at: performance.now() });
        log('%s unavailable: %s', name, reason);
        continue;
      }
      probeFailures.delete(failureKey);
      log(
        'using %s (%s) for %s %dx%d@%d %d kbit/s%s%s',
        name,
        impl.hardware ? 'hardware' : 'software',
        s.codec,
        s.width,
        s.height,
        s.fps,
        s.bitrateKbps,
        probed.profileLevelId ? ` profile-level-id ${probed.profileLevelId}` : '',
        attempts.length
          ? `; skipped ${attempts.map((a) => `${a.implementation} (${a.reason})`).join(', ')}`
          : '',
      );
      return new VideoEncoder(impl, s, session, probed, attempts);
    }
    throw new EncoderUnavailableError(s.codec, s.encoder, attempts);
  }

  /**
   * H.264 only: the RFC 6184 profile-level-id the encoder really emits (from the SPS of the probe
   * at create(), updated from the SPS of real keyframes), e.g. `'42c01f'`. For the SDP fmtp line.
   */
  get h264ProfileLevelId(): string | undefined {
    return this.#h264ProfileLevelId;
  }

  /** An encode() is running; a further encode() would reject with {@link EncoderBusyError}. */
  get busy(): boolean {
    return this.#inFlight !== undefined;
  }

  /** close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Current target bitrate (kbit/s). */
  get bitrateKbps(): number {
    return this.#targetKbps;
  }

  /** Snapshot of the counters. */
  get stats(): Readonly<VideoEncoderStats> {
    return { ...this.#stats };
  }

  /** Make the next encoded frame a keyframe (e.g. on an RTCP PLI/FIR from any viewer). */
  requestKeyframe(): void {
    this.#keyframeRequested = true;
  }

  /**
   * Change the target bitrate (kbit/s, clamped to [100, 20000]) without recreating the encoder;
   * takes effect from the next frame (see {@link bitrateUpdate} for how). No-op after close().
   */
  setBitrate(kbps: number): void {
    if (!Number.isFinite(kbps) || kbps <= 0) {
      throw new InvalidEncoderSettingsError(`bitrate must be a positive number, got ${String(kbps)}`);
    }
    if (this.#closed) return;
    const target = clampKbps(kbps);
    if (target === this.#targetKbps) return;
    log('bitrate %d → %d kbit/s (%s)', this.#targetKbps, target, this.bitrateUpdate);
    this.#targetKbps = target;
    this.#stats.bitrateKbps = target;
    if (this.bitrateUpdate === 'timestamp-scaling') {
      this.#ptsScale = target / this.#session.kbps;
    } else {
      // Applied by the next encode() (never while the worker thread is inside the codec).
      this.#pendingKbps = target === this.#session.kbps ? undefined : target;
    }
  }

  /**
   * Encode one frame. Resolves with the encoded frames that became ready – for the software
   * encoders exactly one, the frame's own. Only one call may run at a time: a call while
   * {@link busy} rejects with {@link EncoderBusyError} (the caller drops the frame). The frame data
   * is copied before this returns. Rejects with {@link EncoderClosedError},
   * {@link InvalidFrameError} or {@link EncodeFailedError}.
   */
  encode(frame: RawVideoFrame, options: EncodeOptions = {}): Promise<EncodedFrame[]> {
    if (this.#closed) return Promise.reject(new EncoderClosedError());
    if (this.#inFlight) {
      this.#stats.busyRejections += 1;
      return Promise.reject(new EncoderBusyError());
    }
    const s = this.settings;
    if (frame.width !== s.width || frame.height !== s.height) {
      return Promise.reject(
        new InvalidFrameError(
          `frame is ${frame.width}x${frame.height}, the encoder is ${s.width}x${s.height}`,
        ),
      );
    }
    const expected = (s.width * s.height * 3) / 2;
    if (frame.data.byteLength !== expected) {
      return Promise.reject(
        new InvalidFrameError(
          `I420 ${s.width}x${s.height} needs ${expected} bytes, got ${frame.data.byteLength}`,
        ),
      );
    }
    if (!Number.isFinite(frame.timestampMs)) {
      return Promise.reject(
        new InvalidFrameError(`timestampMs must be finite, got ${String(frame.timestampMs)}`),
      );
    }
    const startedAt = performance.now();
    try {
      // Synchronous copy: the caller's buffer is free again when this returns.
      this.#session.load(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength));
    } catch (e) {
      this.#stats.errors += 1;
      return Promise.reject(new EncodeFailedError(`loading the frame failed: ${errorText(e)}`, { cause: e }));
    }
    const run = this.#encodeLoaded(frame.timestampMs, startedAt, options.keyframe === true).finally(() => {
      this.#inFlight = undefined;
    });
    this.#inFlight = run;
    return run;
  }

  async #encodeLoaded(timestampMs: number, startedAt: number, forced: boolean): Promise<EncodedFrame[]> {
    this.#stats.framesIn += 1;
    const requested = forced || this.#keyframeRequested;
    this.#keyframeRequested = false;
    if (requested) this.#stats.keyframesRequested += 1;
    const intervalMs = this.settings.keyframeIntervalSec * 1000;
    // A clock that went backwards (wall clock adjusted) must not postpone periodic keyframes.
    if (this.#lastKeyframeTs !== undefined && timestampMs < this.#lastKeyframeTs)
      this.#lastKeyframeTs = timestampMs;
    const periodic =
      intervalMs > 0 &&
      this.#lastKeyframeTs !== undefined &&
      timestampMs - this.#lastKeyframeTs >= intervalMs - 500 / this.settings.fps;
    let keyframe = requested || periodic;

    const raw: RawPacket[] = [];
    try {
      if (this.#needsReinit(keyframe)) {
        const flushed = await this.#reinit();
        if (flushed) {
          raw.push(...flushed);
          keyframe = false; // a freshly opened encoder starts with a keyframe anyway
        }
      } else if (this.#pendingKbps !== undefined && this.bitrateUpdate === 'in-place') {
        this.#session.setBitrate(this.#pendingKbps);
        this.#pendingKbps = undefined;
      }
      const { pts, duration } = this.#timestamps(timestampMs);
      this.#pending.set(pts, { timestampMs, startedAt });
      raw.push(...(await this.#session.encode(pts, duration, keyframe)));
    } catch (e) {
      this.#stats.errors += 1;
      throw new EncodeFailedError(`${this.implementation} failed to encode: ${errorText(e)}`, { cause: e });
    }
    return raw.map((p) => this.#finish(p));
  }

  /** Whether to re-open the encoder (at the target bitrate) before this frame. */
  #needsReinit(keyframe: boolean): boolean {
    // Re-opens that cost an extra keyframe are rate limited (also retries after a failed re-open).
    const mayForce = performance.now() - this.#lastReinitAt >= 1000;
    if (this.bitrateUpdate === 'timestamp-scaling') {
      const k = this.#ptsScale;
      return (keyframe && Math.abs(k - 1) > 0.05) || (mayForce && (k < 0.25 || k > 4));
    }
    if (this.bitrateUpdate === 'reinit-at-keyframe' && this.#pendingKbps !== undefined) {
      return keyframe || (mayForce && this.#pendingKbps <= this.#session.kbps * 0.8);
    }
    return false;
  }

  /** Re-open at the target bitrate. Returns the old session's leftover packets, or undefined if the
   * new session could not be opened (then the old one stays in use). */
  async #reinit(): Promise<RawPacket[] | undefined> {
    const old = this.#session;
    const kbps = this.#targetKbps;
    let next: CodecSession;
    try {
      next = await CodecSession.open(this.#impl, this.settings, kbps);
    } catch (e) {
      log(
        're-opening %s at %d kbit/s failed, keeping %d: %s',
        this.implementation,
        kbps,
        old.kbps,
        errorText(e),
      );
      this.#lastReinitAt = performance.now();
      return undefined;
    }
    next.loadFrom(old);
    const leftovers = await old.flush().catch(() => []);
    old.free();
    this.#session = next;
    this.#ptsScale = 1;
    this.#pendingKbps = undefined;
    this.#lastReinitAt = performance.now();
    this.#stats.reinits += 1;
    log('re-opened %s at %d kbit/s', this.implementation, kbps);
    return leftovers;
  }

  /**
   * Encoder timestamps (90 kHz) from capture timestamps: strictly increasing (libvpx requires it),
   * each frame lasting the time since the previous frame, bounded to [¼, 4] nominal frame
   * intervals (so a capture stall does not hand one frame seconds worth of bits), times the libvpx
   * bitrate scale.
   */
  #timestamps(timestampMs: number): { pts: bigint; duration: bigint } {
    const nominal = TIME_BASE_HZ / this.settings.fps;
    let ticks = nominal;
    if (this.#lastInputTs !== undefined) {
      const delta = (timestampMs - this.#lastInputTs) * (TIME_BASE_HZ / 1000);
      ticks = delta > 0 ? Math.min(nominal * 4, Math.max(nominal / 4, delta)) : nominal;
    }
    this.#lastInputTs = timestampMs;
    const duration = BigInt(Math.max(1, Math.round(ticks * this.#ptsScale)));
    const pts = this.#nextPts;
    this.#nextPts += duration;
    return { pts, duration };
  }

  #finish(p: RawPacket): EncodedFrame {
    let info = this.#pending.get(p.pts);
    // Forget this frame's entry and any older ones (frames the encoder dropped).
    for (const [pts, pending] of this.#pending) {
      if (pts > p.pts) break;
      info ??= pending;
      this.#pending.delete(pts);
    }
    const now = performance.now();
    const timestampMs = info?.timestampMs ?? this.#lastInputTs ?? 0;
    const encodeMs = info ? now - info.startedAt : 0;
    let data = p.data;
    if (p.keyframe) {
      if (this.codec === 'h264') data = this.#withParamSets(data);
      this.#lastKeyframeTs = timestampMs;
      this.#stats.keyframes += 1;
    }
    const st = this.#stats;
    st.framesOut += 1;
    st.bytesOut += data.length;
    st.lastEncodeMs = encodeMs;
    st.avgEncodeMs = st.framesOut === 1 ? encodeMs : st.avgEncodeMs * 0.9 + encodeMs * 0.1;
    st.maxEncodeMs = Math.max(st.maxEncodeMs, encodeMs);
    return { data, keyframe: p.keyframe, timestampMs, sequence: this.#sequence++, encodeMs };
  }

  /** Make sure an H.264 keyframe starts with SPS and PPS; track the profile-level-id. */
  #withParamSets(data: Buffer): Buffer {
    const params = collectParamSets(data);
    if (params) {
      this.#paramSets = params.annexB;
      if (params.profileLevelId !== this.#h264ProfileLevelId) {
        log('profile-level-id %s (was %s)', params.profileLevelId, this.#h264ProfileLevelId ?? 'unknown');
        this.#h264ProfileLevelId = params.profileLevelId;
      }
      const first = splitAnnexB(data)[0];
      if (first && h264NalType(first) === H264NalType.Sps) return data;
      // Parameter sets present but not first (e.g. after an AUD or SEI): put a copy in front.
      return Buffer.concat([params.annexB, data]);
    }
    const cached = this.#paramSets ?? this.#session.extradata;
    if (!cached) {
      log('keyframe without SPS/PPS and none known');
      return data;
    }
    return Buffer.concat([cached, data]);
  }

  /**
   * Release the encoder. Waits for a running encode() to finish first. Idempotent; encode() after
   * close() rejects with {@link EncoderClosedError}.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight) await this.#inFlight.catch(() => undefined);
    this.#session.free();
    this.#pending.clear();
    log('closed %s after %d frames', this.implementation, this.#stats.framesOut);
  }
}
