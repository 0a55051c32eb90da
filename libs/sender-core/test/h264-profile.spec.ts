// Bug 7 of issue #11: a multi-camera H.264 session declared the first camera's profile-level-id
// for every track, so a 720p track behind a 320x240 one was announced at the small one's level.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSignalingServer, type SignalingServer } from '@robocam/signaling';
import type { CameraPipeline } from '../src/camera-pipeline.js';
import { isConstrainedBaseline, sessionProfileLevelId, withH264Level } from '../src/h264.js';
import { Sender } from '../src/index.js';
import { WeriftViewer } from './support/werift-viewer.js';

describe('sessionProfileLevelId', () => {
  it('keeps the profile and takes the highest level', () => {
    expect(sessionProfileLevelId(['42e00d', '42e01f'])).toEqual({
      profileLevelId: '42e01f',
      mixedProfiles: false,
    });
    expect(sessionProfileLevelId(['42E01F'])).toEqual({ profileLevelId: '42e01f', mixedProfiles: false });
    expect(sessionProfileLevelId(['42e01f', '4d0028'])).toEqual({
      profileLevelId: '42e028',
      mixedProfiles: true,
    });
    expect(sessionProfileLevelId(['nonsense'])).toBeUndefined();
    expect(sessionProfileLevelId([])).toBeUndefined();
  });
});

describe('withH264Level', () => {
  it('rewrites the level where the fmtp allows level asymmetry, keeping the profile', () => {
    const sdp = [
      'a=rtpmap:102 H264/90000',
      'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
      'a=fmtp:104 packetization-mode=1;profile-level-id=42e01f',
      '',
    ].join('\r\n');
    const out = withH264Level(sdp, 0x28);
    expect(out).toContain(
      'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e028',
    );
    expect(out).toContain('a=fmtp:104 packetization-mode=1;profile-level-id=42e01f');
  });
});

describe('a two-camera H.264 session', () => {
  let server: SignalingServer;
  let sender: Sender;
  let viewer: WeriftViewer | undefined;

  beforeAll(async () => {
    server = await createSignalingServer({ port: 0, host: '127.0.0.1' });
    sender = new Sender({
      signalingUrl: server.url,
      name: 'two-cameras',
      codec: 'h264',
      cameras: [
        { type: 'testpattern', id: 'small', width: 320, height: 240, fps: 15 },
        { type: 'testpattern', id: 'large', width: 1280, height: 720, fps: 60 },
      ],
    });
    await sender.start();
  });
  afterAll(async () => {
    await viewer?.close();
    await sender.close();
    await server.close();
  });

  it('declares a level that covers every track, not the first camera’s', async () => {
    viewer = await WeriftViewer.connect(server.url);
    let answer = '';
    await viewer.watch(await viewer.senderId(), ['small', 'large'], 'h264', {
      rewriteAnswer: (sdp) => (answer = sdp),
    });
    const levelOf = (id: string): number => parseInt(id.slice(4, 6), 16);
    const cameraIds = ['small', 'large'].map(
      (id) => (sender.cameras.get(id) as CameraPipeline).h264ProfileLevelId ?? '',
    );
    // libx264 picks the level from the frame size and rate: 3.2 for 720p60, above the 3.1 that
    // Chromium and werift offer, and above the small camera's.
    expect(levelOf(cameraIds[1]!)).toBeGreaterThan(levelOf(cameraIds[0]!));
    const declared = [...answer.matchAll(/profile-level-id=([0-9a-f]{6})/gi)].map((m) => m[1]!.toLowerCase());
    expect(declared.length).toBeGreaterThanOrEqual(2);
    // Every m-section alike (one bundled payload type), at the larger camera's level.
    expect(new Set(declared).size).toBe(1);
    for (const id of declared) {
      expect(levelOf(id)).toBeGreaterThanOrEqual(levelOf(cameraIds[1]!));
      expect(isConstrainedBaseline(id)).toBe(isConstrainedBaseline(cameraIds[1]!));
    }
  });
});
