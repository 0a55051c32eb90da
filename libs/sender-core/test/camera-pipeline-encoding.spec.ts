// The encoding half of a camera pipeline with real objects (test pattern → encoder → packetizer →
// sinks), no peers: bitrate changes and the attribution of every keyframe to its reason.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { RtpPacket } from 'werift';
import { CameraPipeline } from '../src/camera-pipeline.js';
import { InvalidEncoderSettingsError, TestPatternSource } from '../src/index.js';

const pipelines: CameraPipeline[] = [];
afterEach(async () => {
  await Promise.all(pipelines.splice(0).map((p) => p.close()));
});

function pipeline(settings: Partial<ConstructorParameters<typeof CameraPipeline>[0]> = {}): CameraPipeline {
  const p = new CameraPipeline({
    id: 'cam',
    source: new TestPatternSource({ width: 320, height: 240, fps: 30 }),
    codec: 'vp8',
    ...settings,
  });
  pipelines.push(p);
  return p;
}

/** Resolves after `count` more frames were encoded. */
function encodedFrames(p: CameraPipeline, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onEncoded = (): void => {
      seen += 1;
      if (seen < count) return;
      p.off('encoded', onEncoded);
      resolve();
    };
    p.on('encoded', onEncoded);
  });
}

describe('CameraPipeline bitrate', () => {
  it.each([-5, 0, Number.NaN, Number.POSITIVE_INFINITY])(
    'rejects setBitrate(%p) at the call and stays usable for later viewers',
    async (kbps) => {
      const p = pipeline();
      const thrown = (() => {
        try {
          p.setBitrate(kbps);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(thrown).toBeInstanceOf(InvalidEncoderSettingsError);
      expect(thrown).toMatchObject({ code: 'invalid-encoder-settings' });
      await p.acquire();
      // Frames are encoded only while a viewer is attached (until then the latest one is held).
      p.attach({ sendFrame: () => undefined, availableBps: undefined });
      await encodedFrames(p, 3);
      expect(p.stats().bitrateKbps).toBeGreaterThan(0);
      await p.release();
    },
  );
});

describe('CameraPipeline keyframes', () => {
  it('counts the first keyframe, a joining viewer and a bitrate re-open each under its own reason', async () => {
    const p = pipeline({ bitrateKbps: 2000, keyframeIntervalSec: 0 });
    const packets: RtpPacket[] = [];
    await p.acquire();
    // The first viewer's keyframe is the encoder's first frame ('first'); a second viewer joins.
    p.attach({ sendFrame: () => undefined, availableBps: undefined });
    await encodedFrames(p, 3);
    p.attach({ sendFrame: (frame) => packets.push(...frame.packets), availableBps: undefined });
    await encodedFrames(p, 3);
    expect(packets.length).toBeGreaterThan(0);
    // libvpx: a change beyond 4× re-opens the encoder at once; its first frame is a keyframe.
    p.setBitrate(300);
    await encodedFrames(p, 3);
    const { keyframes } = p.stats();
    expect(keyframes).toMatchObject({ first: 1, join: 1, reopen: 1, periodic: 0, pli: 0, fir: 0 });
    await p.release();
  });
});
