// Encoder stage tests against the real node-av / FFmpeg (no mocks).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Codec, CodecContext, Frame, Packet } from 'node-av/lib';
import { AV_CODEC_ID_H264, AV_CODEC_ID_VP8 } from 'node-av/constants';

import {
  VideoEncoder,
  defaultBitrateKbps,
  type EncodedFrame,
  type VideoCodec,
  type VideoEncoderSettings,
} from '../src/encoder.js';
import {
  EncoderBusyError,
  EncoderClosedError,
  EncoderUnavailableError,
  InvalidEncoderSettingsError,
  InvalidFrameError,
} from '../src/encoder-errors.js';
import {
  H264NalType,
  extradataToAnnexB,
  h264NalTypes,
  isConstrainedBaseline,
  parseH264ProfileLevelId,
  splitAnnexB,
} from '../src/h264.js';

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

const W = 640;
const H = 480;
const FPS = 30;
const FRAME_MS = 1000 / FPS;

/**
 * Tightly packed I420: a diagonal gradient moving right, a bright moving square, optional noise
 * (xorshift, ±noise/2). Integer arithmetic only: calls to Math.* in hot loops are ~50× slower inside
 * jest's VM context.
 */
function makeI420(width: number, height: number, index: number, noise = 0): Buffer {
  const buf = new Uint8Array((width * height * 3) / 2);
  let seed = (index * 2654435761 + 12345) >>> 0 || 1;
  const sqX = (index * 7) % (width - 64);
  const sqY = (index * 3) % (height - 64);
  for (let y = 0; y < height; y++) {
    const rowBase = (30 + (y * 40) / height) | 0;
    const inSqRow = y >= sqY && y < sqY + 64;
    for (let x = 0; x < width; x++) {
      let v = rowBase + (((((x + index * 4) * 160) / width) | 0) % 180);
      if (inSqRow && x >= sqX && x < sqX + 64) v = 235;
      if (noise > 0) {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        v += (((seed >>> 0) % (noise + 1)) - (noise >> 1)) | 0;
      }
      buf[y * width + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  const cw = width / 2;
  const ch = height / 2;
  const u = width * height;
  const v = u + cw * ch;
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      buf[u + y * cw + x] = 96 + (((x * 64) / cw) | 0);
      buf[v + y * cw + x] = 160 - (((y * 64) / ch) | 0);
    }
  }
  return Buffer.from(buf.buffer);
}

interface DecodedFrame {
  width: number;
  height: number;
  luma: Buffer;
}

/** Decode with node-av's decoder (low-level CodecContext, async API). */
async function decodeAll(codec: VideoCodec, frames: readonly EncodedFrame[]): Promise<DecodedFrame[]> {
  const decoder = Codec.findDecoder(codec === 'vp8' ? AV_CODEC_ID_VP8 : AV_CODEC_ID_H264);
  if (!decoder) throw new Error('no decoder');
  const ctx = new CodecContext();
  ctx.allocContext3(decoder);
  ctx.threadCount = 1;
  const pkt = new Packet();
  pkt.alloc();
  const frame = new Frame();
  frame.alloc();
  const out: DecodedFrame[] = [];
  const drain = async (): Promise<void> => {
    while ((await ctx.receiveFrame(frame)) >= 0) {
      out.push({
        width: frame.width,
        height: frame.height,
        luma: frame.toBuffer().subarray(0, frame.width * frame.height),
      });
      frame.unref();
    }
  };
  try {
    expect(await ctx.open2(decoder, null)).toBe(0);
    for (const f of frames) {
      pkt.data = f.data;
      expect(await ctx.sendPacket(pkt)).toBe(0);
      pkt.unref();
      await drain();
    }
    await ctx.sendPacket(null);
    await drain();
  } finally {
    ctx.freeContext();
    pkt.free();
    frame.free();
  }
  return out;
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    sum += d < 0 ? -d : d;
  }
  return sum / a.length;
}

const encoders: VideoEncoder[] = [];
async function createEncoder(settings: VideoEncoderSettings): Promise<VideoEncoder> {
  const enc = await VideoEncoder.create(settings);
  encoders.push(enc);
  return enc;
}

afterAll(async () => {
  await Promise.all(encoders.map((e) => e.close()));
});

/** Device nodes through which a hardware encoder could work on this machine. */
const devNames = readdirSync('/dev');
const hwDevices = {
  vaapi: existsSync('/dev/dri'),
  v4l2m2m: devNames.some((n) => n.startsWith('video')),
  nvenc: devNames.some((n) => n.startsWith('nvidia')),
};
const anyHw = hwDevices.vaapi || hwDevices.v4l2m2m || hwDevices.nvenc;

// ------------------------------------------------------------------------------------------------
// Per codec
// ------------------------------------------------------------------------------------------------

describe.each([
  ['vp8', 'libvpx'],
  ['h264', 'libx264'],
] as const)('%s encoder', (codec, implementation) => {
  const FRAMES = 40;
  const FORCED = 25;
  const REQUESTED = 35;
  const SCRIBBLED = 30;
  const sources: Buffer[] = [];
  const outputs: EncodedFrame[] = [];
  const perCall: number[] = [];
  let enc: VideoEncoder;

  beforeAll(async () => {
    enc = await createEncoder({
      codec,
      width: W,
      height: H,
      fps: FPS,
      bitrateKbps: 1500,
      encoder: 'software',
    });
    for (let i = 0; i < FRAMES; i++) {
      const data = makeI420(W, H, i);
      sources.push(Buffer.from(data));
      if (i === REQUESTED) enc.requestKeyframe();
      const pending = enc.encode(
        { data, width: W, height: H, timestampMs: 1000 + i * FRAME_MS },
        { keyframe: i === FORCED },
      );
      // The input is copied synchronously: scribbling over it now must not change the output.
      if (i === SCRIBBLED) data.fill(0);
      const result = await pending;
      perCall.push(result.length);
      outputs.push(...result);
    }
  });

  it('uses the software implementation', () => {
    expect(enc.implementation).toBe(implementation);
    expect(enc.codec).toBe(codec);
    expect(enc.hardware).toBe(false);
    expect(enc.settings.bitrateKbps).toBe(1500);
  });

  it('returns exactly the frame it was given, with timestamps and sequence passed through', () => {
    expect(perCall).toEqual(new Array<number>(FRAMES).fill(1));
    expect(outputs.map((f) => f.timestampMs)).toEqual(sources.map((_, i) => 1000 + i * FRAME_MS));
    expect(outputs.map((f) => f.sequence)).toEqual(sources.map((_, i) => i));
    for (const f of outputs) {
      expect(f.data.length).toBeGreaterThan(0);
      expect(f.encodeMs).toBeGreaterThan(0);
    }
  });

  it('starts with a keyframe and makes keyframes exactly where forced or requested', () => {
    const keys = outputs.flatMap((f, i) => (f.keyframe ? [i] : []));
    expect(keys).toEqual([0, FORCED, REQUESTED]);
  });

  it('keeps consistent stats', () => {
    const st = enc.stats;
    expect(st.framesIn).toBe(FRAMES);
    expect(st.framesOut).toBe(FRAMES);
    expect(st.keyframes).toBe(3);
    expect(st.keyframesRequested).toBe(2);
    expect(st.bytesOut).toBe(outputs.reduce((n, f) => n + f.data.length, 0));
    expect(st.lastEncodeMs).toBeGreaterThan(0);
    expect(st.maxEncodeMs).toBeGreaterThanOrEqual(st.lastEncodeMs);
    expect(st.errors).toBe(0);
  });

  it('decodes to frames of the right size whose luma matches the input', async () => {
    const decoded = await decodeAll(codec, outputs);
    expect(decoded).toHaveLength(FRAMES);
    decoded.forEach((d, i) => {
      expect([d.width, d.height]).toEqual([W, H]);
      const source = sources[i];
      if (!source) throw new Error('missing source');
      // Including the frame whose input buffer was overwritten right after encode() was called.
      expect(meanAbsDiff(d.luma, source.subarray(0, W * H))).toBeLessThan(6);
    });
  });

  it('rejects a second encode() while busy ("latest frame wins" is up to the caller)', async () => {
    const e = await createEncoder({ codec, width: 320, height: 240, fps: FPS, encoder: 'software' });
    const first = e.encode({ data: makeI420(320, 240, 0), width: 320, height: 240, timestampMs: 0 });
    expect(e.busy).toBe(true);
    const second = e.encode({ data: makeI420(320, 240, 1), width: 320, height: 240, timestampMs: 33 });
    await expect(second).rejects.toBeInstanceOf(EncoderBusyError);
    await expect(second).rejects.toMatchObject({ code: 'ERR_ENCODER_BUSY' });
    expect((await first)[0]?.keyframe).toBe(true);
    expect(e.busy).toBe(false);
    expect(e.stats.busyRejections).toBe(1);
    expect(e.stats.framesIn).toBe(1);
    // and it keeps working afterwards
    expect(
      await e.encode({ data: makeI420(320, 240, 2), width: 320, height: 240, timestampMs: 67 }),
    ).toHaveLength(1);
  });

  it('makes periodic keyframes by timestamp', async () => {
    const e = await createEncoder({ codec, width: 320, height: 240, fps: FPS, keyframeIntervalSec: 0.5 });
    const keys: number[] = [];
    for (let i = 0; i < 32; i++) {
      const [f] = await e.encode({
        data: makeI420(320, 240, i),
        width: 320,
        height: 240,
        timestampMs: i * FRAME_MS,
      });
      if (f?.keyframe) keys.push(i);
    }
    expect(keys).toEqual([0, 15, 30]);
  });

  it('rejects frames that do not match the settings', async () => {
    const e = await createEncoder({ codec, width: 320, height: 240, fps: FPS });
    await expect(
      e.encode({ data: makeI420(640, 480, 0), width: 640, height: 480, timestampMs: 0 }),
    ).rejects.toBeInstanceOf(InvalidFrameError);
    await expect(
      e.encode({ data: new Uint8Array(10), width: 320, height: 240, timestampMs: 0 }),
    ).rejects.toMatchObject({
      code: 'ERR_ENCODER_INVALID_FRAME',
    });
    await expect(
      e.encode({ data: makeI420(320, 240, 0), width: 320, height: 240, timestampMs: Number.NaN }),
    ).rejects.toBeInstanceOf(InvalidFrameError);
    expect(e.busy).toBe(false);
    expect(e.stats.framesIn).toBe(0);
  });

  it('changes the bitrate without recreating the encoder', async () => {
    const e = await createEncoder({ codec, width: W, height: H, fps: FPS, bitrateKbps: 3000 });
    const sizes: number[] = [];
    for (let i = 0; i < 120; i++) {
      if (i === 60) e.setBitrate(300);
      const data = makeI420(W, H, i, 60);
      for (const f of await e.encode({ data, width: W, height: H, timestampMs: i * FRAME_MS }))
        sizes.push(f.data.length);
    }
    expect(sizes).toHaveLength(120);
    expect(e.implementation).toBe(implementation);
    expect(e.bitrateKbps).toBe(300);
    expect(e.stats.framesIn).toBe(120);
    expect(e.stats.bitrateKbps).toBe(300);
    const kbps = (from: number, to: number): number =>
      (sizes.slice(from, to).reduce((a, b) => a + b, 0) * 8) / ((to - from) / FPS) / 1000;
    const before = kbps(15, 60);
    const after = kbps(75, 120);
    expect(before).toBeGreaterThan(1500);
    expect(after).toBeLessThan(before * 0.3);
    expect(after).toBeLessThan(450);
  });

  it('closes idempotently, waits for a running encode, and rejects encode() afterwards', async () => {
    const e = await createEncoder({ codec, width: 320, height: 240, fps: FPS });
    const running = e.encode({ data: makeI420(320, 240, 0), width: 320, height: 240, timestampMs: 0 });
    const closing = e.close();
    expect(e.closed).toBe(true);
    expect(await running).toHaveLength(1);
    await Promise.all([closing, e.close()]);
    await e.close();
    const after = e.encode({ data: makeI420(320, 240, 1), width: 320, height: 240, timestampMs: 33 });
    await expect(after).rejects.toBeInstanceOf(EncoderClosedError);
    await expect(after).rejects.toMatchObject({ code: 'ERR_ENCODER_CLOSED', name: 'InvalidStateError' });
    expect(() => {
      e.setBitrate(500);
    }).not.toThrow();
  });
});

describe('VP8 bitrate changes by timestamp scaling', () => {
  it('lowers the rate from the next frame on, without a keyframe or re-open', async () => {
    const e = await createEncoder({ codec: 'vp8', width: W, height: H, fps: FPS, bitrateKbps: 1500 });
    expect(e.bitrateUpdate).toBe('timestamp-scaling');
    const sizes: number[] = [];
    const keys: number[] = [];
    for (let i = 0; i < 90; i++) {
      if (i === 45) e.setBitrate(600);
      const [f] = await e.encode({
        data: makeI420(W, H, i, 60),
        width: W,
        height: H,
        timestampMs: i * FRAME_MS,
      });
      if (!f) throw new Error('no output');
      sizes.push(f.data.length);
      if (f.keyframe) keys.push(i);
    }
    expect(keys).toEqual([0]);
    expect(e.stats.reinits).toBe(0);
    const sum = (a: number, b: number): number => sizes.slice(a, b).reduce((x, y) => x + y, 0);
    expect(sum(60, 90) / sum(15, 45)).toBeLessThan(0.6);
    // The next keyframe re-opens libvpx at the new rate (and that keyframe is the only one).
    const [k] = await e.encode(
      { data: makeI420(W, H, 90, 60), width: W, height: H, timestampMs: 90 * FRAME_MS },
      { keyframe: true },
    );
    expect(k?.keyframe).toBe(true);
    expect(e.stats.reinits).toBe(1);
    expect(e.stats.keyframes).toBe(2);
    expect(e.implementation).toBe('libvpx');
  });
});

describe('H.264 output', () => {
  let enc: VideoEncoder;
  const outputs: EncodedFrame[] = [];

  beforeAll(async () => {
    enc = await createEncoder({ codec: 'h264', width: W, height: H, fps: FPS, encoder: 'software' });
    for (let i = 0; i < 20; i++) {
      outputs.push(
        ...(await enc.encode(
          { data: makeI420(W, H, i), width: W, height: H, timestampMs: i * FRAME_MS },
          { keyframe: i === 10 },
        )),
      );
    }
  });

  it('is an Annex-B stream whose keyframes begin with SPS and PPS', () => {
    expect(outputs.filter((f) => f.keyframe)).toHaveLength(2);
    for (const f of outputs) {
      const startCode =
        f.data.subarray(0, 4).equals(Buffer.of(0, 0, 0, 1)) ||
        f.data.subarray(0, 3).equals(Buffer.of(0, 0, 1));
      expect(startCode).toBe(true);
      const types = h264NalTypes(f.data);
      if (f.keyframe) {
        expect(types.slice(0, 2)).toEqual([H264NalType.Sps, H264NalType.Pps]);
        expect(types).toContain(H264NalType.Idr);
      } else {
        expect(types).not.toContain(H264NalType.Sps);
        expect(types).not.toContain(H264NalType.Idr);
        expect(types).toContain(H264NalType.Slice);
      }
    }
  });

  it('reports the profile-level-id of its SPS (known at create) as constrained baseline', () => {
    const first = outputs[0];
    if (!first) throw new Error('no output');
    const fromSps = parseH264ProfileLevelId(first.data);
    expect(fromSps).toMatch(/^[0-9a-f]{6}$/);
    expect(enc.h264ProfileLevelId).toBe(fromSps);
    const plid = fromSps ?? '';
    expect(plid.slice(0, 2)).toBe('42'); // profile_idc 66
    expect(parseInt(plid.slice(2, 4), 16) & 0x40).toBe(0x40); // constraint_set1_flag
    expect(isConstrainedBaseline(plid)).toBe(true);
  });

  it('knows the profile-level-id right after create()', async () => {
    const e = await createEncoder({ codec: 'h264', width: 1280, height: 720, fps: FPS, encoder: 'software' });
    expect(e.h264ProfileLevelId).toMatch(/^42[0-9a-f]{2}[0-9a-f]{2}$/);
    expect(isConstrainedBaseline(e.h264ProfileLevelId ?? '')).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------------
// Creation, implementation choice, settings
// ------------------------------------------------------------------------------------------------

describe('VideoEncoder.create', () => {
  it("resolves 'auto' for H.264 to a working encoder (software on this machine)", async () => {
    const e = await createEncoder({ codec: 'h264', width: 320, height: 240, fps: FPS });
    expect(e.settings.encoder).toBe('auto');
    if (!anyHw) {
      expect(e.implementation).toBe('libx264');
      expect(e.hardware).toBe(false);
      // The compiled-in hardware encoders were tried and skipped, with a reason each.
      expect(e.fallbacks.map((f) => f.implementation)).toEqual(['h264_v4l2m2m', 'h264_vaapi', 'h264_nvenc']);
      for (const f of e.fallbacks) expect(f.reason.length).toBeGreaterThan(0);
    }
    expect(
      await e.encode({ data: makeI420(320, 240, 0), width: 320, height: 240, timestampMs: 0 }),
    ).toHaveLength(1);
  });

  it("uses libvpx for VP8 'auto'", async () => {
    const e = await createEncoder({ codec: 'vp8', width: 320, height: 240, fps: FPS });
    expect(e.implementation).toBe('libvpx');
    expect(e.settings.threads).toBe(1);
    expect(e.h264ProfileLevelId).toBeUndefined();
  });

  it.each([
    ['vaapi', 'h264_vaapi'],
    ['v4l2m2m', 'h264_v4l2m2m'],
    ['nvenc', 'h264_nvenc'],
  ] as const)(
    'rejects an explicitly requested but unusable %s encoder with a typed error',
    async (pref, name) => {
      if (hwDevices[pref]) return; // the hardware might really be there
      const creating = VideoEncoder.create({
        codec: 'h264',
        width: 320,
        height: 240,
        fps: FPS,
        encoder: pref,
      });
      await expect(creating).rejects.toBeInstanceOf(EncoderUnavailableError);
      const err = await creating.catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_ENCODER_UNAVAILABLE', codec: 'h264', requested: pref });
      expect((err as EncoderUnavailableError).attempts.map((a) => a.implementation)).toEqual([name]);
    },
  );

  it('rejects a hardware preference for VP8', async () => {
    await expect(
      VideoEncoder.create({ codec: 'vp8', width: 320, height: 240, fps: FPS, encoder: 'vaapi' }),
    ).rejects.toMatchObject({ code: 'ERR_ENCODER_UNAVAILABLE', codec: 'vp8' });
  });

  it.each<[string, Partial<VideoEncoderSettings>]>([
    ['odd width', { width: 321 }],
    ['tiny height', { height: 8 }],
    ['fps 0', { fps: 0 }],
    ['NaN bitrate', { bitrateKbps: Number.NaN }],
    ['negative keyframe interval', { keyframeIntervalSec: -1 }],
    ['0 threads', { threads: 0 }],
    ['unknown codec', { codec: 'av1' as VideoCodec }],
  ])('rejects invalid settings: %s', async (_, patch) => {
    await expect(
      VideoEncoder.create({ codec: 'vp8', width: 320, height: 240, fps: FPS, ...patch }),
    ).rejects.toBeInstanceOf(InvalidEncoderSettingsError);
  });

  it('defaults and bounds the bitrate', async () => {
    expect(defaultBitrateKbps(1280, 720, 30)).toBe(2500);
    expect(defaultBitrateKbps(640, 480, 30)).toBeGreaterThan(900);
    expect(defaultBitrateKbps(640, 480, 30)).toBeLessThan(1300);
    const low = await createEncoder({ codec: 'vp8', width: 320, height: 240, fps: FPS, bitrateKbps: 10 });
    expect(low.bitrateKbps).toBe(100);
    const high = await createEncoder({ codec: 'h264', width: 320, height: 240, fps: FPS, bitrateKbps: 1e6 });
    expect(high.bitrateKbps).toBe(20_000);
    high.setBitrate(50);
    expect(high.bitrateKbps).toBe(100);
    expect(() => {
      high.setBitrate(Number.NaN);
    }).toThrow(InvalidEncoderSettingsError);
    expect(high.settings.keyframeIntervalSec).toBe(10);
  });
});

// ------------------------------------------------------------------------------------------------
// Event loop
// ------------------------------------------------------------------------------------------------

describe('event loop', () => {
  it('stays responsive during a 720p encode burst (encoding runs off the main thread)', async () => {
    const e = await createEncoder({ codec: 'vp8', width: 1280, height: 720, fps: FPS });
    const frames = Array.from({ length: 8 }, (_, i) => makeI420(1280, 720, i, 40));
    await e.encode({ data: frames[0] ?? Buffer.alloc(0), width: 1280, height: 720, timestampMs: 0 }); // warm-up
    let ticks = 0;
    let last = performance.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks += 1;
    }, 1);
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    const N = 30;
    // Behaviour, not timing: with the encode on a worker thread, a callback queued right after
    // encode() runs before the encode resolves; a synchronous encoder resolves first, every time.
    // (A worker can finish first when the main thread is descheduled on a loaded machine: most, not
    // all, frames must show it.)
    let loopRanFirst = 0;
    for (let i = 1; i <= N; i++) {
      const data = frames[i % frames.length] ?? Buffer.alloc(0);
      let encoded = false;
      const encoding = e.encode({ data, width: 1280, height: 720, timestampMs: i * FRAME_MS }).then((out) => {
        encoded = true;
        return out;
      });
      const encodedWhenLoopRan = await new Promise<boolean>((resolve) =>
        setImmediate(() => resolve(encoded)),
      );
      if (!encodedWhenLoopRan) loopRanFirst += 1;
      expect(await encoding).toHaveLength(1);
    }
    const elapsed = performance.now() - t0;
    const elu = performance.eventLoopUtilization(elu0);
    clearInterval(timer);
    console.log(
      `720p VP8 burst: ${(elapsed / N).toFixed(1)} ms a frame, ${ticks} ticks of a 1 ms timer, longest gap ` +
        `${maxGap.toFixed(1)} ms, event loop utilization ${elu.utilization.toFixed(2)}`,
    );
    expect(loopRanFirst).toBeGreaterThan(N / 2);
  });
});

// ------------------------------------------------------------------------------------------------
// H.264 helpers
// ------------------------------------------------------------------------------------------------

describe('h264 helpers', () => {
  const sps = [0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40];
  const pps = [0x68, 0xce, 0x3c, 0x80];
  const idr = [0x65, 0x88, 0x84, 0x00, 0x33];

  it('parses the profile-level-id from the SPS of an Annex-B stream', () => {
    expect(
      parseH264ProfileLevelId(Uint8Array.from([0, 0, 0, 1, ...sps, 0, 0, 0, 1, ...pps, 0, 0, 1, ...idr])),
    ).toBe('42c01f');
    expect(
      parseH264ProfileLevelId(Uint8Array.from([0, 0, 1, ...pps, 0, 0, 1, 0x67, 0x42, 0xe0, 0x0c, 0x01])),
    ).toBe('42e00c');
    expect(parseH264ProfileLevelId(Uint8Array.from([0, 0, 1, 0x67, 0x64, 0x00, 0x28, 0xac]))).toBe('640028');
    expect(parseH264ProfileLevelId(Uint8Array.from([0, 0, 0, 1, ...pps, 0, 0, 1, ...idr]))).toBeUndefined();
    expect(parseH264ProfileLevelId(Uint8Array.from([0, 0, 1, 0x67, 0x42]))).toBeUndefined(); // truncated
    expect(parseH264ProfileLevelId(new Uint8Array(0))).toBeUndefined();
    expect(parseH264ProfileLevelId(Uint8Array.from([1, 2, 3, 4, 5]))).toBeUndefined();
  });

  it('splits NAL units and drops the zero byte of 4-byte start codes', () => {
    const nals = splitAnnexB(Uint8Array.from([0, 0, 0, 1, ...sps, 0, 0, 0, 1, ...pps, 0, 0, 1, ...idr]));
    expect(nals.map((n) => Array.from(n))).toEqual([sps, pps, idr]);
    expect(h264NalTypes(Uint8Array.from([0, 0, 1, ...sps, 0, 0, 1, ...pps, 0, 0, 1, ...idr]))).toEqual([
      7, 8, 5,
    ]);
  });

  it('recognizes constrained baseline profile-level-ids', () => {
    expect(isConstrainedBaseline('42c01f')).toBe(true);
    expect(isConstrainedBaseline('42e01f')).toBe(true);
    expect(isConstrainedBaseline('42001f')).toBe(false); // plain baseline
    expect(isConstrainedBaseline('4d401f')).toBe(false); // main
    expect(isConstrainedBaseline('640c1f')).toBe(false); // high
    expect(isConstrainedBaseline('nope')).toBe(false);
  });

  it('converts avcC extradata to Annex B', () => {
    const avcc = Uint8Array.from([
      1,
      0x42,
      0xc0,
      0x1f,
      0xff,
      0xe1,
      0,
      sps.length,
      ...sps,
      1,
      0,
      pps.length,
      ...pps,
    ]);
    const annexB = extradataToAnnexB(avcc);
    expect(annexB && Array.from(annexB)).toEqual([0, 0, 0, 1, ...sps, 0, 0, 0, 1, ...pps]);
    const already = Uint8Array.from([0, 0, 0, 1, ...sps]);
    expect(extradataToAnnexB(already)?.equals(already)).toBe(true);
    expect(extradataToAnnexB(null)).toBeUndefined();
    expect(extradataToAnnexB(Uint8Array.from([1, 0x42, 0xc0, 0x1f, 0xff, 0xe1, 0, 40, 1]))).toBeUndefined(); // truncated
  });
});
