/**
 * One I420 frame → JPEG, through FFmpeg's MJPEG encoder (node-av): scaled to the wanted size and
 * converted to full-range YUV (what JPEG viewers assume) by swscale. Opened per call: a snapshot
 * is rare, and an open MJPEG encoder holds buffers for the frame size it was made for.
 */
import { Codec, CodecContext, Frame, Packet, Rational, SoftwareScaleContext } from 'node-av/lib';
import {
  AV_CODEC_FLAG_QSCALE,
  AV_CODEC_ID_MJPEG,
  AV_PIX_FMT_YUV420P,
  AV_PIX_FMT_YUVJ420P,
  AVERROR_EAGAIN,
  AVERROR_EOF,
  FF_QP2LAMBDA,
  SWS_BILINEAR,
} from 'node-av/constants';
import { i420ByteLength, type RawVideoFrame } from '@robocam/types';
import { ffCheck } from '../encoder/implementations.js';

/** The JPEG quantizer (2 best … 31 worst): 4 keeps the test pattern's edges crisp at ~1 bit/pixel. */
const JPEG_QSCALE = 4;

/** The size a snapshot `width` asks for: even, ≤ the frame's, height keeping the aspect ratio. */
export function snapshotSize(
  frameWidth: number,
  frameHeight: number,
  width: number | undefined,
): { width: number; height: number } {
  if (width === undefined || width >= frameWidth) return { width: frameWidth, height: frameHeight };
  const w = Math.max(16, 2 * Math.round(width / 2));
  return { width: w, height: Math.max(2, 2 * Math.round((frameHeight * w) / frameWidth / 2)) };
}

/**
 * Encodes a tightly packed I420 frame as a baseline JPEG of `width` pixels (default: the frame's;
 * never larger), height following the aspect ratio. The frame's bytes are read before the first
 * await, so a source's pooled buffer may be reused afterwards.
 */
export async function encodeJpeg(frame: RawVideoFrame, width?: number): Promise<Buffer> {
  const size = snapshotSize(frame.width, frame.height, width);
  const expected = i420ByteLength(frame.width, frame.height);
  if (frame.data.length < expected)
    throw new Error(`frame has ${frame.data.length} bytes, expected ${expected}`);
  const codec = Codec.findEncoder(AV_CODEC_ID_MJPEG);
  if (codec === null) throw new Error('node-av’s FFmpeg has no MJPEG encoder');
  const source = new Frame();
  const view = new Frame();
  const scaled = new Frame();
  const scaler = new SoftwareScaleContext();
  const ctx = new CodecContext();
  const packet = new Packet();
  try {
    // `view` aliases the caller's buffer (fromBuffer does not copy), so it is copied at once.
    view.alloc();
    view.format = AV_PIX_FMT_YUV420P;
    view.width = frame.width;
    view.height = frame.height;
    ffCheck(
      view.fromBuffer(Buffer.from(frame.data.buffer, frame.data.byteOffset, expected)),
      'fill frame arrays',
    );
    source.alloc();
    source.format = AV_PIX_FMT_YUV420P;
    source.width = frame.width;
    source.height = frame.height;
    ffCheck(source.allocBuffer(), 'av_frame_get_buffer');
    ffCheck(source.copy(view), 'av_frame_copy');
    scaled.alloc();
    scaled.format = AV_PIX_FMT_YUVJ420P;
    scaled.width = size.width;
    scaled.height = size.height;
    ffCheck(scaled.allocBuffer(), 'av_frame_get_buffer');
    scaler.getContext(
      frame.width,
      frame.height,
      AV_PIX_FMT_YUV420P,
      size.width,
      size.height,
      AV_PIX_FMT_YUVJ420P,
      SWS_BILINEAR,
    );
    ffCheck(await scaler.scaleFrame(scaled, source), 'sws_scale_frame');
    ctx.allocContext3(codec);
    ctx.width = size.width;
    ctx.height = size.height;
    ctx.pixelFormat = AV_PIX_FMT_YUVJ420P;
    ctx.timeBase = new Rational(1, 25);
    ctx.flags = AV_CODEC_FLAG_QSCALE;
    ctx.globalQuality = JPEG_QSCALE * FF_QP2LAMBDA;
    ffCheck(await ctx.open2(codec, null), 'avcodec_open2(mjpeg)');
    scaled.quality = JPEG_QSCALE * FF_QP2LAMBDA;
    scaled.pts = 0n;
    packet.alloc();
    ffCheck(await ctx.sendFrame(scaled), 'avcodec_send_frame');
    ffCheck(await ctx.sendFrame(null), 'avcodec_send_frame(flush)');
    for (;;) {
      const ret = await ctx.receivePacket(packet);
      if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) break;
      ffCheck(ret, 'avcodec_receive_packet');
      const data = packet.data;
      if (data !== null) return Buffer.from(data); // copied out before the packet is freed
      packet.unref();
    }
    throw new Error('the MJPEG encoder produced no picture');
  } finally {
    packet.free();
    ctx.freeContext();
    scaler.freeContext();
    scaled.free();
    view.free();
    source.free();
  }
}
