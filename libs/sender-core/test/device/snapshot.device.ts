/**
 * A snapshot of a real V4L2 camera nobody watches, inside the v4l2vm guest (npx nx run
 * sender-core:test-device): the camera is opened for one frame, encoded as JPEG and closed again.
 * No WebRTC and no video encoder, so the guest's work stays small under TCG emulation.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { CameraSnapshots, Sender } from '../../src/index.js';
import { decodeJpeg } from '../support/jpeg-decode.js';

const CAMERA = 'video0';

// Not started: a snapshot needs the camera, not the signaling server.
const sender = new Sender({
  signalingUrl: 'ws://127.0.0.1:9',
  cameras: [{ type: 'v4l2', device: '/dev/video0', width: 320, height: 180, fps: 5, format: 'yuyv' }],
});

afterAll(async () => {
  await sender.close();
});

describe('snapshot of a V4L2 camera', () => {
  it('opens the idle camera for one frame and closes it again', async () => {
    const camera = sender.cameras.get(CAMERA);
    expect(camera?.source.status).toBe('idle');
    const picture = await decodeJpeg(await new CameraSnapshots(sender.cameras).jpeg(CAMERA, { width: 160 }));
    expect([picture.width, picture.height]).toEqual([160, 90]);
    // vivid's picture (colour bars), not a flat frame: the luma plane varies.
    const luma = picture.yuv.subarray(0, picture.width * picture.height);
    expect(Math.max(...luma) - Math.min(...luma)).toBeGreaterThan(100);
    expect(camera?.source.status).toBe('idle');
    expect(camera?.running).toBe(false);
  });
});
