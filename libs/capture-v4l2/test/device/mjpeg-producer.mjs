// Feeds MJPEG into a v4l2loopback node (default /dev/video10) like a USB webcam would deliver it:
// node-av's mjpeg encoder (moving luma gradient, flat chroma U=90 V=200 full range) written with
// FFmpeg's v4l2 output device. Usage: node mjpeg-producer.mjs [/dev/video10] [1280] [720] [25]
import { Codec, CodecContext, Dictionary, FormatContext, Frame, Packet, Rational } from 'node-av/lib';
import { AV_CODEC_ID_MJPEG, AV_PIX_FMT_YUVJ420P } from 'node-av/constants';

const [device = '/dev/video10', widthArg = '1280', heightArg = '720', fpsArg = '25'] = process.argv.slice(2);
const width = Number(widthArg);
const height = Number(heightArg);
const fps = Number(fpsArg);

const codec = Codec.findEncoder(AV_CODEC_ID_MJPEG);
const encoder = new CodecContext();
encoder.allocContext3(codec);
encoder.width = width;
encoder.height = height;
encoder.pixelFormat = AV_PIX_FMT_YUVJ420P;
encoder.timeBase = new Rational(1, fps);
encoder.framerate = new Rational(fps, 1);
if ((await encoder.open2(codec, Dictionary.fromObject({ q: '5' }))) < 0)
  throw new Error('mjpeg encoder open failed');

const output = new FormatContext();
if (output.allocOutputContext2(null, 'v4l2', device) < 0)
  throw new Error(`cannot create v4l2 output for ${device}`);
const stream = output.newStream(null);
encoder.parametersFromContext(stream.codecpar);
stream.timeBase = new Rational(1, fps);
if ((await output.writeHeader()) < 0) throw new Error(`cannot write to ${device}`);
process.stderr.write(`mjpeg-producer: ${width}x${height}@${fps} MJPEG -> ${device}\n`);

const frame = new Frame();
frame.alloc();
frame.width = width;
frame.height = height;
frame.format = AV_PIX_FMT_YUVJ420P;
frame.getBuffer(0);
const packet = new Packet();
packet.alloc();
let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});
const started = performance.now();
for (let index = 0; !stopping; index += 1) {
  const wait = started + (index * 1000) / fps - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  frame.makeWritable();
  const [y, u, v] = frame.data;
  const [yStride] = frame.linesize;
  for (let row = 0; row < height; row += 1)
    y.fill((row + index * 4) % 256, row * yStride, row * yStride + width);
  u.fill(90);
  v.fill(200);
  frame.pts = BigInt(index);
  await encoder.sendFrame(frame);
  while ((await encoder.receivePacket(packet)) >= 0) {
    packet.streamIndex = 0;
    packet.rescaleTs(encoder.timeBase, stream.timeBase);
    if ((await output.writeFrame(packet)) < 0) throw new Error(`writing to ${device} failed`);
    packet.unref();
  }
}
await output.writeTrailer();
output.freeContext();
