// The busy test pattern makes a real encoder work like a camera does; the colour bars do not.
// Real node-av / libvpx, no mocks.
import { afterAll, describe, expect, it } from '@jest/globals';
import { TestPatternGenerator, type TestPatternKind } from '@robocam/testpattern';
import { VideoEncoder } from '../src/encoder/index.js';

const W = 640;
const H = 480;
const FPS = 30;
const BITRATE_KBPS = 1500;
const FRAMES = 90; // 3 s

const encoders: VideoEncoder[] = [];
afterAll(async () => {
  await Promise.all(encoders.map((e) => e.close()));
});

/** Bytes of the delta frames after the first second (the rate control has settled). */
async function encodedBytes(pattern: TestPatternKind): Promise<number> {
  const encoder = await VideoEncoder.create({
    codec: 'vp8',
    width: W,
    height: H,
    fps: FPS,
    bitrateKbps: BITRATE_KBPS,
    encoder: 'software',
  });
  encoders.push(encoder);
  const generator = new TestPatternGenerator({ width: W, height: H, pattern, label: pattern });
  let bytes = 0;
  for (let i = 0; i < FRAMES; i++) {
    const t = (i * 1000) / FPS;
    const frame = generator.next({ timestampMs: 1_700_000_000_000 + t, counter: i, monotonicMs: t });
    for (const out of await encoder.encode(frame)) {
      if (i >= FPS && !out.keyframe) bytes += out.data.length;
    }
  }
  return bytes;
}

describe('the busy test pattern', () => {
  it('costs a VP8 encoder far more bits than the colour bars at the same target', async () => {
    const bars = await encodedBytes('bars');
    const busy = await encodedBytes('busy');
    const seconds = (FRAMES - FPS) / FPS;
    const kbps = (bytes: number): number => Math.round((bytes * 8) / seconds / 1000);
    console.log(
      `VP8 ${W}x${H}@${FPS}, target ${BITRATE_KBPS} kbit/s: bars ${kbps(bars)} kbit/s, busy ${kbps(busy)} kbit/s`,
    );
    expect(bars).toBeGreaterThan(0);
    expect(busy).toBeGreaterThanOrEqual(2 * bars);
    // …and it spends most of its target on the busy pattern, as on a camera.
    expect(kbps(busy)).toBeGreaterThan(0.7 * BITRATE_KBPS);
  });
});
