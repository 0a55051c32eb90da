/**
 * One open V4L2 device, read with node-av: FFmpeg's v4l2 demuxer (mmap buffers, blocking
 * VIDIOC_DQBUF on a libuv worker thread), a decoder (MJPEG, or rawvideo which wraps the driver
 * buffer without copying) and swscale writing I420 straight into the caller's buffer.
 *
 * node-av is imported lazily, so the package loads (and its pure parts run) without FFmpeg.
 */
import type { Logger } from '@robocam/types';
import type * as NodeAvLib from 'node-av/lib';
import type { CodecContext, FormatContext, Frame, Packet, SoftwareScaleContext } from 'node-av/lib';
import type * as NodeAvConstants from 'node-av/constants';
import type { AVPixelFormat } from 'node-av/constants';
import type { CaptureStream, CapturedPacket, OpenedMode } from './capture-backend.js';
import { avErrorName, openError, streamError } from './error-mapping.js';
import { CaptureFailedError } from './errors.js';
import { buildInputOptions } from './ffmpeg-options.js';
import type { PlannedMode } from './mode-negotiation.js';

type Lib = typeof NodeAvLib;
type Constants = typeof NodeAvConstants;

let modules: Promise<{ lib: Lib; constants: Constants }> | undefined;

function loadNodeAv(): Promise<{ lib: Lib; constants: Constants }> {
  modules ??= Promise.all([import('node-av/lib'), import('node-av/constants')]).then(([lib, constants]) => ({
    lib,
    constants,
  }));
  return modules;
}

/** A packet of this stream: node-av's Packet plus the timestamp read from it. */
class NodeAvPacket implements CapturedPacket {
  constructor(
    readonly packet: Packet,
    readonly timestampUs: number | undefined,
  ) {}
}

export class NodeAvCaptureStream implements CaptureStream {
  readonly device: string;
  readonly opened: OpenedMode;
  readonly #lib: Lib;
  readonly #constants: Constants;
  readonly #input: FormatContext;
  readonly #decoder: CodecContext;
  readonly #frame: Frame;
  /** Driver timestamps are in stream time base units; this converts them to µs. */
  readonly #usPerTick: number;
  readonly #logger: Logger;
  #scaler: SoftwareScaleContext | undefined;
  #scalerKey = '';
  #closing: Promise<void> | undefined;

  private constructor(
    device: string,
    lib: Lib,
    constants: Constants,
    input: FormatContext,
    decoder: CodecContext,
    opened: OpenedMode,
    usPerTick: number,
    logger: Logger,
  ) {
    this.device = device;
    this.#logger = logger;
    this.#lib = lib;
    this.#constants = constants;
    this.#input = input;
    this.#decoder = decoder;
    this.opened = opened;
    this.#usPerTick = usPerTick;
    this.#frame = new lib.Frame();
    this.#frame.alloc();
  }

  /** Opens `device` in `mode` and starts streaming. */
  static async open(device: string, mode: PlannedMode, logger: Logger): Promise<NodeAvCaptureStream> {
    const { lib, constants } = await loadNodeAv();
    const inputFormat = lib.InputFormat.findInputFormat('v4l2');
    if (inputFormat === null)
      throw new CaptureFailedError(device, 'opening', "this FFmpeg build has no 'v4l2' input device");
    const options = buildInputOptions(mode);
    const input = new lib.FormatContext();
    const started = performance.now();
    const ret = await input.openInput(device, inputFormat, lib.Dictionary.fromObject({ ...options }));
    if (ret < 0) {
      const errno = avErrorName(ret);
      const text = lib.FFmpegError.strerror(ret);
      logger.debug({ device, options, errno, err: text }, 'opening the device failed');
      if (errno === 'EINVAL') {
        throw new CaptureFailedError(
          device,
          'opening',
          `the driver refused ${JSON.stringify(options)} (EINVAL: ${text})`,
          'EINVAL',
        );
      }
      throw openError(device, errno, { text });
    }
    try {
      const stream = input.streams[0];
      if (stream === undefined)
        throw new CaptureFailedError(device, 'opening', 'FFmpeg found no video stream');
      const { codecpar } = stream;
      const compressed = codecpar.codecId === constants.AV_CODEC_ID_MJPEG;
      if (!compressed && codecpar.codecId !== constants.AV_CODEC_ID_RAWVIDEO) {
        const name = lib.avGetCodecName(codecpar.codecId) ?? String(codecpar.codecId);
        throw new CaptureFailedError(
          device,
          'opening',
          `the device delivers ${name}, which this library does not decode (EINVAL)`,
          'EINVAL',
        );
      }
      const pixelFormat = compressed
        ? 'mjpeg'
        : (lib.avGetPixFmtName(codecpar.format as AVPixelFormat) ?? 'unknown');
      const rate = stream.avgFrameRate;
      const fps = rate.den > 0 && rate.num > 0 ? rate.num / rate.den : mode.fps;
      const codec = lib.Codec.findDecoder(codecpar.codecId);
      if (codec === null)
        throw new CaptureFailedError(device, 'opening', `FFmpeg has no decoder for ${pixelFormat}`);
      const decoder = new lib.CodecContext();
      decoder.allocContext3(codec);
      const copied = decoder.parametersToContext(codecpar);
      if (copied < 0)
        throw new CaptureFailedError(device, 'opening', `decoder setup failed (${avErrorName(copied)})`);
      // One thread: frame threading would hold frames back (latency) to decode them in parallel.
      decoder.threadCount = 1;
      decoder.pktTimebase = stream.timeBase;
      const opened = await decoder.open2(codec, null);
      if (opened < 0) {
        decoder.freeContext();
        throw new CaptureFailedError(device, 'opening', `decoder open failed (${avErrorName(opened)})`);
      }
      const usPerTick = (stream.timeBase.num * 1_000_000) / stream.timeBase.den;
      const mode_ = { pixelFormat, width: codecpar.width, height: codecpar.height, fps };
      logger.debug(
        { device, openMs: Math.round(performance.now() - started), options, opened: mode_ },
        'device opened',
      );
      return new NodeAvCaptureStream(device, lib, constants, input, decoder, mode_, usPerTick, logger);
    } catch (error) {
      await input.closeInput();
      throw error;
    }
  }

  async read(): Promise<CapturedPacket> {
    const packet = new this.#lib.Packet();
    packet.alloc();
    for (;;) {
      if (this.#closing !== undefined) {
        packet.free();
        throw streamError(this.device, 'EOF');
      }
      const ret = await this.#input.readFrame(packet);
      if (ret >= 0) {
        const pts = packet.pts;
        const timestampUs =
          pts === this.#constants.AV_NOPTS_VALUE ? undefined : Number(pts) * this.#usPerTick;
        return new NodeAvPacket(packet, timestampUs);
      }
      const errno = avErrorName(ret);
      if (errno === 'EAGAIN' || errno === 'EINTR') {
        await new Promise((resolve) => setTimeout(resolve, 2));
        continue;
      }
      packet.free();
      throw streamError(this.device, errno, this.#lib.FFmpegError.strerror(ret));
    }
  }

  async convert(captured: CapturedPacket, target: Uint8Array, width: number, height: number): Promise<void> {
    const { packet } = ownPacket(captured);
    const sent = await this.#decoder.sendPacket(packet);
    if (sent < 0) throw new CaptureFailedError(this.device, 'decoding a frame from', avErrorName(sent));
    const received = await this.#decoder.receiveFrame(this.#frame);
    if (received < 0)
      throw new CaptureFailedError(this.device, 'decoding a frame from', avErrorName(received));
    const frame = this.#frame;
    try {
      const planes = frame.data;
      if (planes === null) throw new CaptureFailedError(this.device, 'decoding a frame from', 'empty frame');
      const yuv420p = this.#constants.AV_PIX_FMT_YUV420P;
      const lumaBytes = width * height;
      const y = target.subarray(0, lumaBytes);
      const u = target.subarray(lumaBytes, lumaBytes + lumaBytes / 4);
      const v = target.subarray(lumaBytes + lumaBytes / 4, (lumaBytes * 3) / 2);
      if ((frame.format as AVPixelFormat) === yuv420p && frame.width === width && frame.height === height) {
        copyPlane(planes[0], frame.linesize[0], y, width, height);
        copyPlane(planes[1], frame.linesize[1], u, width / 2, height / 2);
        copyPlane(planes[2], frame.linesize[2], v, width / 2, height / 2);
        return;
      }
      const scaler = this.#scalerFor(frame.width, frame.height, frame.format as AVPixelFormat, width, height);
      const strides = frame.linesize.slice(0, planes.length);
      const rows = await scaler.scale(planes, strides, 0, frame.height, [y, u, v].map(asBuffer), [
        width,
        width / 2,
        width / 2,
      ]);
      if (rows <= 0)
        throw new CaptureFailedError(this.device, 'converting a frame from', `swscale returned ${rows}`);
    } finally {
      frame.unref();
    }
  }

  release(captured: CapturedPacket): void {
    ownPacket(captured).packet.free();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const started = performance.now();
      // Waits for a readFrame in progress (node-av serializes them): at most one frame interval.
      await this.#input.closeInput();
      this.#decoder.freeContext();
      this.#frame.free();
      this.#scaler?.freeContext();
      this.#logger.debug(
        { device: this.device, closeMs: Math.round(performance.now() - started) },
        'device closed',
      );
    })();
    return this.#closing;
  }

  #scalerFor(
    srcWidth: number,
    srcHeight: number,
    srcFormat: AVPixelFormat,
    width: number,
    height: number,
  ): SoftwareScaleContext {
    const key = `${srcWidth}x${srcHeight}/${srcFormat}->${width}x${height}`;
    if (this.#scaler !== undefined && this.#scalerKey === key) return this.#scaler;
    this.#scaler?.freeContext();
    const scaler = new this.#lib.SoftwareScaleContext();
    scaler.getContext(
      srcWidth,
      srcHeight,
      srcFormat,
      width,
      height,
      this.#constants.AV_PIX_FMT_YUV420P,
      this.#constants.SWS_BILINEAR,
    );
    this.#scaler = scaler;
    this.#scalerKey = key;
    this.#logger.debug({ device: this.device, conversion: key }, 'converting with swscale');
    return scaler;
  }
}

function ownPacket(captured: CapturedPacket): NodeAvPacket {
  if (!(captured instanceof NodeAvPacket)) throw new TypeError('packet from another capture stream');
  return captured;
}

function asBuffer(view: Uint8Array): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function copyPlane(
  source: Buffer | undefined,
  stride: number | undefined,
  target: Uint8Array,
  width: number,
  height: number,
): void {
  if (source === undefined || stride === undefined) throw new RangeError('missing plane');
  if (stride === width) {
    target.set(source.subarray(0, width * height));
    return;
  }
  for (let row = 0; row < height; row += 1) {
    target.set(source.subarray(row * stride, row * stride + width), row * width);
  }
}
