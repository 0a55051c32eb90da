import { Codec, CodecContext, Frame, Packet } from 'node-av/lib';
import { AV_CODEC_ID_MJPEG } from 'node-av/constants';

/** A decoded JPEG: its size and packed planar YUV 4:2:0 (full range, as JPEG stores it). */
export interface DecodedJpeg {
  width: number;
  height: number;
  yuv: Buffer;
}

/** Decodes one JPEG with node-av's MJPEG decoder; throws when it is not a decodable JPEG. */
export async function decodeJpeg(jpeg: Buffer): Promise<DecodedJpeg> {
  const codec = Codec.findDecoder(AV_CODEC_ID_MJPEG);
  if (codec === null) throw new Error('no MJPEG decoder');
  const context = new CodecContext();
  const packet = new Packet();
  const frame = new Frame();
  try {
    context.allocContext3(codec);
    const opened = await context.open2(codec, null);
    if (opened < 0) throw new Error(`decoder open failed: ${opened}`);
    packet.alloc();
    frame.alloc();
    packet.data = jpeg;
    const sent = await context.sendPacket(packet);
    if (sent < 0) throw new Error(`not a JPEG: ${sent}`);
    await context.sendPacket(null);
    const received = await context.receiveFrame(frame);
    if (received < 0) throw new Error(`no picture decoded: ${received}`);
    return { width: frame.width, height: frame.height, yuv: Buffer.from(frame.toBuffer()) };
  } finally {
    frame.free();
    packet.free();
    context.freeContext();
  }
}

/** Full-range BT.601 RGB of the mean of a (2r+1)² area of a decoded JPEG around (x, y). */
export function rgbAt(picture: DecodedJpeg, x: number, y: number, r: number): [number, number, number] {
  const { width, height, yuv } = picture;
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  let sy = 0;
  let su = 0;
  let sv = 0;
  let n = 0;
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      const px = x + dx;
      const py = y + dy;
      const c = Math.floor(py / 2) * cw + Math.floor(px / 2);
      sy += yuv[py * width + px] ?? 0;
      su += yuv[width * height + c] ?? 0;
      sv += yuv[width * height + cw * ch + c] ?? 0;
      n += 1;
    }
  }
  const [Y, U, V] = [sy / n, su / n - 128, sv / n - 128];
  const clamp = (value: number): number => Math.min(255, Math.max(0, value));
  return [clamp(Y + 1.402 * V), clamp(Y - 0.344136 * U - 0.714136 * V), clamp(Y + 1.772 * U)];
}
