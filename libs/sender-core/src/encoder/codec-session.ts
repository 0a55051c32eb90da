/**
 * One opened FFmpeg encoder (`CodecSession`) with its reusable frame and packet, the VA-API upload
 * path and the I420 → NV12 conversion it needs. `VideoEncoder` owns one session at a time and
 * replaces it when it re-opens at a new bitrate.
 */
import {
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
  AVERROR_EAGAIN,
  AVERROR_EOF,
} from 'node-av/constants';
import { RTP_VIDEO_CLOCK_RATE_HZ } from '@robocam/types';
import { extradataToAnnexB } from '../h264.js';
import { RC_BUFFER_MS, ffCheck, type Implementation } from './implementations.js';
import type { ResolvedVideoEncoderSettings } from './settings.js';

/** The codec-level GOP: never. Every keyframe is forced by the caller (the keyframe policy), so the
 * codec must not add its own (FFmpeg's default GOP is 12 frames). */
const GOP_INFINITE = 0x3fff_ffff;

/** An encoded packet as it left FFmpeg. */
export interface RawPacket {
  data: Buffer;
  keyframe: boolean;
  pts: bigint;
  /** The first packet this session produced (a fresh codec starts with a keyframe). */
  first: boolean;
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
export class CodecSession {
  private freed = false;
  private produced = false;

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
      ctx.timeBase = new Rational(1, RTP_VIDEO_CLOCK_RATE_HZ);
      ctx.framerate = new Rational(Math.round(s.fps * 1000), 1000);
      const bps = kbps * 1000;
      ctx.bitRate = BigInt(bps);
      // maxrate = bitrate and a small buffer: CBR-like VBV for x264/nvenc/vaapi (x264 logs "assuming
      // CBR"); libvpx additionally gets minrate below.
      ctx.rcMaxRate = BigInt(bps);
      ctx.rcBufferSize = Math.round((bps * RC_BUFFER_MS) / 1000);
      ctx.gopSize = GOP_INFINITE;
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
      frame.timeBase = new Rational(1, RTP_VIDEO_CLOCK_RATE_HZ);
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
      if (data) {
        out.push({
          data: Buffer.from(data),
          keyframe: this.packet.isKeyframe,
          pts: this.packet.pts,
          first: !this.produced,
        });
        this.produced = true;
      }
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
