import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createSignalingServer, type SignalingServer } from '@robocam/signaling';
import { expectedBarColors } from '@robocam/testpattern';
import { CameraSnapshots, CameraUnavailableError, Sender } from '../src/index.js';
import { decodeJpeg, rgbAt, type DecodedJpeg } from './support/jpeg-decode.js';
import { WeriftViewer } from './support/werift-viewer.js';

// Real sender, real test pattern, real JPEG encoder and decoder (node-av). The running-camera case
// has a werift viewer: run inside ../shared/netns/run-isolated.sh on the project's machines.

let server: SignalingServer;
let sender: Sender | undefined;
const viewers: WeriftViewer[] = [];

beforeAll(async () => {
  server = await createSignalingServer({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  await Promise.all(viewers.splice(0).map((viewer) => viewer.close()));
  await sender?.close();
  sender = undefined;
});

function newSender(): Sender {
  sender = new Sender({
    signalingUrl: server.url,
    cameras: [{ type: 'testpattern', id: 'front', width: 640, height: 480, fps: 15 }],
  });
  return sender;
}

/** Every color bar at its sample point, scaled from the 640×480 layout to the picture's size. */
function expectBars(picture: DecodedJpeg): void {
  const scale = picture.width / 640;
  for (const point of expectedBarColors(640, 480)) {
    const rgb = rgbAt(
      picture,
      Math.round(point.x * scale),
      Math.round(point.y * scale),
      Math.max(1, Math.floor(point.radius * scale) - 1),
    );
    const expected = [point.rgb.r, point.rgb.g, point.rgb.b];
    for (let i = 0; i < 3; i++) {
      expect({
        bar: point.name,
        channel: i,
        diff: Math.abs((rgb[i] ?? 0) - (expected[i] ?? 0)) < 20,
      }).toEqual({
        bar: point.name,
        channel: i,
        diff: true,
      });
    }
  }
}

describe('CameraSnapshots', () => {
  it('opens an idle camera for one frame: a JPEG with the color bars, the camera idle again', async () => {
    const cameras = newSender().cameras;
    const camera = cameras.get('front');
    const snapshots = new CameraSnapshots(cameras);
    const jpeg = await snapshots.jpeg('front');
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8])); // SOI
    const picture = await decodeJpeg(jpeg);
    expect([picture.width, picture.height]).toEqual([640, 480]);
    expectBars(picture);
    expect(camera?.source.status).toBe('idle');
    expect(camera?.running).toBe(false);

    const thumbnail = await decodeJpeg(await snapshots.jpeg('front', { width: 161 }));
    expect([thumbnail.width, thumbnail.height]).toEqual([162, 122]);
    expectBars(thumbnail);
    // Never larger than the camera.
    const full = await decodeJpeg(await snapshots.jpeg('front', { width: 4000 }));
    expect([full.width, full.height]).toEqual([640, 480]);
    await expect(snapshots.jpeg('rear')).rejects.toThrow(CameraUnavailableError);
  });

  it('takes a running camera’s next frame from the capture its viewers use', async () => {
    const s = newSender();
    await s.start();
    const viewer = await WeriftViewer.connect(server.url);
    viewers.push(viewer);
    await viewer.watch(await viewer.senderId(), ['front'], 'vp8');
    const camera = s.cameras.get('front');
    const before = camera?.stats();
    const snapshots = new CameraSnapshots(s.cameras);
    const [a, b] = await Promise.all([snapshots.jpeg('front'), snapshots.jpeg('front', { width: 320 })]);
    expectBars(await decodeJpeg(a));
    expect((await decodeJpeg(b)).width).toBe(320);
    // Still running on the same capture: no restart of the source or the encoder.
    expect(camera?.running).toBe(true);
    expect(camera?.source.status).toBe('live');
    expect(camera?.stats().encoderStarts).toBe(before?.encoderStarts);
    expect(camera?.stats().framesCaptured).toBeGreaterThan(before?.framesCaptured ?? 0);
  });
});
