// VP8 temporal layers against the real node-av / libvpx encoder and FFmpeg's VP8 decoder (no
// mocks). The labels are checked the way a forwarder relies on them: a decoder that gets only some
// layers must produce, for every frame it gets, exactly the picture the full stream decodes to.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Codec, CodecContext, Frame, Packet } from 'node-av/lib';
import { AV_CODEC_ID_VP8 } from 'node-av/constants';
import { TestPatternGenerator } from '@robocam/testpattern';

import {
  InvalidEncoderSettingsError,
  TEMPORAL_PATTERNS,
  VideoEncoder,
  layerTargetsKbps,
  resolveEncoderSettings,
  tsParameters,
  type EncodedFrame,
  type TemporalLayerCount,
  type VideoEncoderSettings,
} from '../src/encoder/index.js';

const W = 320;
const H = 240;
const FPS = 30;
const FRAME_MS = 1000 / FPS;

const encoders: VideoEncoder[] = [];
afterAll(async () => {
  await Promise.all(encoders.map((e) => e.close()));
});

/** What happens at a frame index of a run. */
interface RunStep {
  keyframe?: boolean;
  /** setBitrate() before encoding this frame. */
  bitrateKbps?: number;
}

/** Encode `frames` frames of the busy (camera-like, moving) test pattern. */
async function encodeRun(
  settings: Omit<VideoEncoderSettings, 'codec' | 'width' | 'height' | 'fps'>,
  frames: number,
  steps: Readonly<Record<number, RunStep>> = {},
): Promise<{ encoder: VideoEncoder; out: EncodedFrame[] }> {
  const encoder = await VideoEncoder.create({ codec: 'vp8', width: W, height: H, fps: FPS, ...settings });
  encoders.push(encoder);
  const generator = new TestPatternGenerator({ width: W, height: H, pattern: 'busy', label: 'LAYERS' });
  const out: EncodedFrame[] = [];
  for (let i = 0; i < frames; i++) {
    const step = steps[i] ?? {};
    if (step.bitrateKbps !== undefined) encoder.setBitrate(step.bitrateKbps);
    const t = i * FRAME_MS;
    const frame = generator.next({ timestampMs: 1_700_000_000_000 + t, counter: i, monotonicMs: t });
    const result = await encoder.encode(frame, { keyframe: step.keyframe === true });
    expect(result).toHaveLength(1);
    out.push(...result);
  }
  return { encoder, out };
}

/**
 * Decode `frames` in order with FFmpeg's VP8 decoder; one entry per input frame: the whole decoded
 * picture (Y, U, V packed), or undefined when the decoder refused the packet or output nothing.
 */
async function decode(frames: readonly EncodedFrame[]): Promise<(Buffer | undefined)[]> {
  const decoder = Codec.findDecoder(AV_CODEC_ID_VP8);
  if (!decoder) throw new Error('no VP8 decoder');
  const ctx = new CodecContext();
  ctx.allocContext3(decoder);
  ctx.threadCount = 1;
  const pkt = new Packet();
  pkt.alloc();
  const frame = new Frame();
  frame.alloc();
  const out: (Buffer | undefined)[] = [];
  try {
    expect(await ctx.open2(decoder, null)).toBe(0);
    for (const f of frames) {
      pkt.data = f.data;
      const sent = await ctx.sendPacket(pkt);
      pkt.unref();
      let picture: Buffer | undefined;
      // VP8 has no reordering: a picture comes out for the packet just sent, or none.
      while (sent >= 0 && (await ctx.receiveFrame(frame)) >= 0) {
        picture = Buffer.from(frame.toBuffer());
        frame.unref();
      }
      out.push(picture);
    }
  } finally {
    ctx.freeContext();
    pkt.free();
    frame.free();
  }
  return out;
}

/**
 * Decodes the frames of `frames` that `keep` selects and returns the indexes (into `frames`) of
 * those whose picture differs from `reference` (the full stream's decode), or that did not decode.
 */
async function mismatches(
  frames: readonly EncodedFrame[],
  reference: readonly (Buffer | undefined)[],
  keep: (f: EncodedFrame, i: number) => boolean,
): Promise<{ kept: number[]; bad: number[] }> {
  const kept = frames.flatMap((f, i) => (keep(f, i) ? [i] : []));
  const pictures = await decode(kept.map((i) => frames[i] as EncodedFrame));
  const bad = kept.filter((i, k) => {
    const got = pictures[k];
    const want = reference[i];
    return got === undefined || want === undefined || !got.equals(want);
  });
  return { kept, bad };
}

/** The layer ids the documented pattern gives: restart at every keyframe, keyframes layer 0. */
function expectedLayers(frames: readonly EncodedFrame[], layers: TemporalLayerCount): number[] {
  const ids = TEMPORAL_PATTERNS[layers].layerIds;
  let position = 0;
  return frames.map((f) => {
    if (f.keyframe) position = 0;
    const layer = f.keyframe ? 0 : (ids[position] ?? -1);
    position = (position + 1) % ids.length;
    return layer;
  });
}

function bytesByLayer(frames: readonly EncodedFrame[], layers: number): number[] {
  const bytes = new Array<number>(layers).fill(0);
  for (const f of frames)
    if (!f.keyframe) bytes[f.temporalLayer] = (bytes[f.temporalLayer] ?? 0) + f.data.length;
  return bytes;
}

// ------------------------------------------------------------------------------------------------
// Settings and the libvpx option
// ------------------------------------------------------------------------------------------------

describe('temporal layer settings', () => {
  const base = { width: W, height: H, fps: FPS } as const;

  it('default to 2 layers for VP8 and are always 1 for H.264', () => {
    expect(resolveEncoderSettings({ codec: 'vp8', ...base }).temporalLayers).toBe(2);
    expect(resolveEncoderSettings({ codec: 'vp8', ...base, temporalLayers: 1 }).temporalLayers).toBe(1);
    expect(resolveEncoderSettings({ codec: 'vp8', ...base, temporalLayers: 3 }).temporalLayers).toBe(3);
    expect(resolveEncoderSettings({ codec: 'h264', ...base }).temporalLayers).toBe(1);
    expect(resolveEncoderSettings({ codec: 'h264', ...base, temporalLayers: 3 }).temporalLayers).toBe(1);
  });

  it.each([0, 4, 2.5, Number.NaN, '2'])('refuse temporalLayers %p, for either codec', (value) => {
    for (const codec of ['vp8', 'h264'] as const) {
      expect(() =>
        resolveEncoderSettings({ codec, ...base, temporalLayers: value as TemporalLayerCount }),
      ).toThrow(InvalidEncoderSettingsError);
    }
  });

  it('spell the ts-parameters option with cumulative kbit/s targets and the mode last', () => {
    expect(tsParameters(1, 1000)).toBeUndefined();
    expect(tsParameters(2, 1000)).toBe(
      'ts_number_layers=2:ts_target_bitrate=600,1000:ts_rate_decimator=2,1:ts_periodicity=2:' +
        'ts_layer_id=0,1:ts_layering_mode=2',
    );
    expect(tsParameters(3, 2500)).toBe(
      'ts_number_layers=3:ts_target_bitrate=1000,1500,2500:ts_rate_decimator=4,2,1:ts_periodicity=4:' +
        'ts_layer_id=0,2,1,2:ts_layering_mode=3',
    );
    // libvpx refuses targets that are not strictly increasing: fine down to the encoder's floor.
    for (const layers of [2, 3] as const) {
      const targets = layerTargetsKbps(layers, 100);
      expect(targets.at(-1)).toBe(100);
      targets.slice(1).forEach((t, i) => {
        expect(t).toBeGreaterThan(targets[i] ?? Infinity);
      });
    }
  });

  it('report the layers in effect on the encoder', async () => {
    const vp8 = await VideoEncoder.create({ codec: 'vp8', ...base });
    encoders.push(vp8);
    expect(vp8.temporalLayers).toBe(2);
    expect(vp8.settings.temporalLayers).toBe(2);
    const h264 = await VideoEncoder.create({
      codec: 'h264',
      ...base,
      encoder: 'software',
      temporalLayers: 3,
    });
    encoders.push(h264);
    expect(h264.temporalLayers).toBe(1);
    const [f] = await h264.encode({
      data: Buffer.alloc((W * H * 3) / 2, 128),
      width: W,
      height: H,
      timestampMs: 0,
      monotonicMs: 0,
    });
    expect(f).toMatchObject({ keyframe: true, temporalLayer: 0, layerSync: true });
  });
});

// ------------------------------------------------------------------------------------------------
// Layered streams: labels checked by decoding
// ------------------------------------------------------------------------------------------------

/**
 * 48 frames: forced keyframes at 13 (an odd position, so a pattern that did not restart would be
 * visible) and 41; at 20 the target drops 6× (beyond 4×: an immediate re-open, a `reopen` keyframe);
 * at 30 it rises 3× (timestamp scaling, then a re-open at the forced keyframe of 41).
 */
const FRAMES = 48;
const STEPS: Readonly<Record<number, RunStep>> = {
  13: { keyframe: true },
  20: { bitrateKbps: 100 },
  30: { bitrateKbps: 300 },
  41: { keyframe: true },
};

describe.each([2, 3] as const)('%i temporal layers', (layers) => {
  let encoder: VideoEncoder;
  let out: EncodedFrame[];
  let full: (Buffer | undefined)[];

  beforeAll(async () => {
    ({ encoder, out } = await encodeRun({ bitrateKbps: 600, temporalLayers: layers }, FRAMES, STEPS));
    full = await decode(out);
  });

  it('restart the layer pattern at every keyframe: forced, start and re-open', () => {
    expect(encoder.temporalLayers).toBe(layers);
    expect(out.flatMap((f, i) => (f.keyframe ? [[i, f.keyframeCause]] : []))).toEqual([
      [0, 'start'],
      [13, 'forced'],
      [20, 'reopen'],
      [41, 'forced'],
    ]);
    expect(encoder.stats.reinits).toBe(2);
    const labels = out.map((f) => f.temporalLayer);
    expect(labels).toEqual(expectedLayers(out, layers));
    // Spelled out around the odd-positioned keyframe at 13 and the re-open at 20.
    const around = labels.slice(11, 24);
    expect(around).toEqual(
      layers === 2 ? [1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1] : [2, 0, 0, 2, 1, 2, 0, 2, 1, 0, 2, 1, 2],
    );
  });

  it('mark keyframes and the upper-layer frames that reference only the base layer as sync', () => {
    const sync = TEMPORAL_PATTERNS[layers].sync;
    let position = 0;
    for (const f of out) {
      if (f.keyframe) position = 0;
      expect(f.layerSync).toBe(f.keyframe || (sync[position] ?? false));
      if (f.temporalLayer === 0) expect(f.layerSync).toBe(f.keyframe);
      position = (position + 1) % sync.length;
    }
  });

  it('decodes the whole stream', () => {
    expect(full.every((p) => p?.length === (W * H * 3) / 2)).toBe(true);
  });

  it.each(Array.from({ length: layers - 1 }, (_, k) => k))(
    'decodes layers 0..%i alone to the same pictures, bit for bit',
    async (maxLayer) => {
      const { kept, bad } = await mismatches(out, full, (f) => f.temporalLayer <= maxLayer);
      expect(kept.length).toBeGreaterThan(FRAMES / (layers === 2 ? 2 : 4));
      expect(kept.length).toBeLessThan(FRAMES);
      expect(bad).toEqual([]);
    },
  );

  it('would not decode correctly had the pattern not restarted at the forced keyframe', async () => {
    // The check above has teeth: labels that run on through the keyframe at 13 (as if FFmpeg had
    // not restarted its counter) put the wrong frames in the base layer, and it shows.
    const ids = TEMPORAL_PATTERNS[layers].layerIds;
    const unrestarted = out.map((f, i) => {
      const sinceOpen = i >= 20 ? i - 20 : i; // restarted by the re-open at 20 only
      return f.keyframe ? 0 : (ids[sinceOpen % ids.length] ?? 0);
    });
    const { bad } = await mismatches(out, full, (_, i) => unrestarted[i] === 0);
    expect(bad.length).toBeGreaterThan(0);
  });

  it('lets a base-layer-only decoder join the upper layers at a sync frame', async () => {
    // Base layer only up to `join`, everything from there on; every sync frame between the re-open
    // keyframe at 20 and the forced one at 41 is tried.
    for (const join of out.flatMap((f, i) => (i > 22 && i < 40 && f.layerSync && !f.keyframe ? [i] : []))) {
      const { bad } = await mismatches(out, full, (f, i) => (i < join ? f.temporalLayer === 0 : true));
      expect({ join, bad }).toEqual({ join, bad: [] });
    }
  });

  if (layers === 3) {
    it('does not let it join at the layer-2 frame that references a layer-1 frame (no sync)', async () => {
      const join = out.findIndex((f, i) => i > 22 && f.temporalLayer === 2 && !f.layerSync);
      expect(join).toBeGreaterThan(22);
      const { bad } = await mismatches(out, full, (f, i) => (i < join ? f.temporalLayer === 0 : true));
      expect(bad).toContain(join);
    });

    it('lets a layers-0..1 decoder join layer 2 at a sync frame', async () => {
      const join = out.findIndex((f, i) => i > 22 && f.temporalLayer === 2 && f.layerSync);
      const { bad } = await mismatches(out, full, (f, i) => (i < join ? f.temporalLayer <= 1 : true));
      expect(bad).toEqual([]);
    });
  }
});

// ------------------------------------------------------------------------------------------------
// Rate control with layers
// ------------------------------------------------------------------------------------------------

describe.each([1, 2, 3] as const)('rate control with %i temporal layer(s)', (layers) => {
  const START_KBPS = 500;
  const LOWER_KBPS = 200;
  let out: EncodedFrame[];
  let encoder: VideoEncoder;

  beforeAll(async () => {
    // 4 s; the target falls 2.5× after 2 s (timestamp scaling, no re-open, no keyframe).
    ({ encoder, out } = await encodeRun({ bitrateKbps: START_KBPS, temporalLayers: layers }, 120, {
      60: { bitrateKbps: LOWER_KBPS },
    }));
  });

  const kbps = (from: number, to: number): number =>
    (out.slice(from, to).reduce((n, f) => n + f.data.length, 0) * 8) / ((to - from) / FPS) / 1000;

  it('follows setBitrate', () => {
    expect(encoder.stats.reinits).toBe(0);
    expect(out.filter((f) => f.keyframe)).toHaveLength(1);
    const before = kbps(15, 60);
    const after = kbps(75, 120);
    const shares = (from: number, to: number): string => {
      const bytes = bytesByLayer(out.slice(from, to), layers);
      const total = bytes.reduce((a, b) => a + b, 0);
      return bytes.map((b) => `${Math.round((100 * b) / total)} %`).join(' / ');
    };
    console.log(
      `VP8 ${W}x${H}@${FPS} busy, ${layers} temporal layer(s): ${START_KBPS} kbit/s target → ${Math.round(before)} ` +
        `(layers ${shares(15, 60)}); ${LOWER_KBPS} → ${Math.round(after)} (layers ${shares(75, 120)})`,
    );
    // The busy pattern spends most of the target, and the rate follows the new one.
    expect(before).toBeGreaterThan(0.7 * START_KBPS);
    expect(before).toBeLessThan(1.3 * START_KBPS);
    expect(after).toBeLessThan(0.6 * before);
    expect(after).toBeGreaterThan(0.6 * LOWER_KBPS);
    expect(after).toBeLessThan(1.3 * LOWER_KBPS);
  });

  if (layers === 1) {
    it('labels every frame layer 0, sync only at the keyframe', () => {
      expect(out.every((f) => f.temporalLayer === 0 && f.layerSync === f.keyframe)).toBe(true);
    });
    return;
  }

  it('splits the bytes between the layers roughly as configured, before and after the change', () => {
    const shares = TEMPORAL_PATTERNS[layers].cumulativeShare;
    const own = shares.map((s, i) => s - (i > 0 ? (shares[i - 1] ?? 0) : 0));
    for (const [from, to] of [
      [15, 60],
      [75, 120],
    ] as const) {
      const bytes = bytesByLayer(out.slice(from, to), layers);
      const total = bytes.reduce((a, b) => a + b, 0);
      bytes.forEach((b, layer) => {
        const share = b / total;
        const configured = own[layer] ?? 0;
        // Loose: libvpx's per-layer rate control, a few seconds, content that varies.
        expect({ layer, from, share: Math.abs(share - configured) < 0.15 }).toEqual({
          layer,
          from,
          share: true,
        });
      });
    }
  });
});
