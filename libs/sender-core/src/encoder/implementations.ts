/**
 * The implementation table: every FFmpeg encoder robocam can use, with the codec-context fields and
 * private options that make it a low-latency WebRTC encoder, and how it takes bitrate changes.
 * Data-driven: adding an encoder is adding a row.
 */
import { Codec, FFmpegError, type CodecContext } from 'node-av/lib';
import {
  AV_PROFILE_H264_BASELINE,
  AV_PROFILE_H264_CONSTRAINED,
  FF_ENCODER_H264_NVENC,
  FF_ENCODER_H264_V4L2M2M,
  FF_ENCODER_H264_VAAPI,
  FF_ENCODER_LIBVPX_VP8,
  FF_ENCODER_LIBX264,
  FF_THREAD_SLICE,
  type AVProfile,
} from 'node-av/constants';
import type { BitrateUpdateMode, EncoderPreference, ResolvedVideoEncoderSettings } from './settings.js';
import { baseFrameBudgetRatio, tsParameters } from './temporal-layers.js';

/** FFmpeg names of the encoders robocam uses. */
export type ImplementationName = 'libvpx' | 'libx264' | 'h264_v4l2m2m' | 'h264_vaapi' | 'h264_nvenc';

/** One row of the table. */
export interface Implementation {
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

/** Rate-control buffer (libvpx rc_buf_sz, x264 vbv-bufsize): the largest burst the encoder may
 * produce above the target rate; at the target link rate this is also the worst-case queueing
 * delay it can cause. 0.5 s keeps keyframe bursts short while leaving room for a decent IDR. */
export const RC_BUFFER_MS = 500;
/** libvpx rc_buf_initial_sz (the rc_buf_optimal_sz is 5/6 of rc_buf_sz, set by FFmpeg). */
const RC_INITIAL_BUFFER_MS = 400;
/** Bound of a VP8 keyframe's size, expressed as transmission time at the target rate; turned into
 * libvpx's max-intra-rate (percent of an average frame). 5 frames at 30 fps. */
const VP8_MAX_KEYFRAME_MS = 167;

const CONSTRAINED_BASELINE = (AV_PROFILE_H264_BASELINE | AV_PROFILE_H264_CONSTRAINED) as AVProfile;

export const IMPLEMENTATIONS: Readonly<Record<ImplementationName, Implementation>> = {
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
      // Temporal layers (see temporal-layers.ts): per-layer targets are absolute kbit/s, so they are
      // recomputed at every (re-)open; between re-opens the timestamp scaling moves every layer's
      // budget by the same factor (libvpx derives each layer's frame rate from the timestamps).
      const layers = tsParameters(s.temporalLayers, kbps);
      return {
        ...(layers === undefined ? {} : { 'ts-parameters': layers }),
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
        // frame does not corrupt the decoding of the following ones. Temporal layers depend on it:
        // a viewer that is not sent the upper layers must not miss probability updates they carry.
        'error-resilient': 'default',
        // Temporal denoiser off: costs CPU and smears motion.
        'noise-sensitivity': 0,
        // Bound keyframe size (percent of an average frame) so a PLI-triggered keyframe doesn't
        // flood the link: ~VP8_MAX_KEYFRAME_MS of data at the target rate. With temporal layers
        // libvpx takes the percentage of a base-layer frame's budget (1.2× / 1.6× an average
        // frame with 2 / 3 layers): scaled down so the bound stays the same number of bytes.
        'max-intra-rate': Math.round(
          Math.max(300, (VP8_MAX_KEYFRAME_MS * s.fps) / 10) / baseFrameBudgetRatio(s.temporalLayers),
        ),
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

const HW_BY_PREFERENCE: Readonly<
  Record<Exclude<EncoderPreference, 'auto' | 'software'>, ImplementationName>
> = {
  v4l2m2m: 'h264_v4l2m2m',
  vaapi: 'h264_vaapi',
  nvenc: 'h264_nvenc',
};

/** The implementations to try, in order, for a codec and preference. */
export function candidatesFor(s: ResolvedVideoEncoderSettings): ImplementationName[] {
  if (s.codec === 'vp8') return ['libvpx'];
  if (s.encoder === 'auto') return ['h264_v4l2m2m', 'h264_vaapi', 'h264_nvenc', 'libx264'];
  if (s.encoder === 'software') return ['libx264'];
  return [HW_BY_PREFERENCE[s.encoder]];
}

function setGenericOption(ctx: CodecContext, name: string, value: number): void {
  const ret = ctx.setOption(name, value);
  if (ret < 0) throw new Error(`FFmpeg option ${name} rejected: ${FFmpegError.strerror(ret)}`);
}

/** Throws with FFmpeg's text for a negative return code. */
export function ffCheck(ret: number, what: string): void {
  if (ret < 0) throw new Error(`${what} failed: ${FFmpegError.strerror(ret)} (${ret})`);
}
