import { expect, it } from '@jest/globals';
import { networkInterfaces } from 'node:os';
import { createSignalingServer } from '@robocam/signal-app';
import { Sender } from '../../src/index.js';
import { WeriftViewer } from '../support/werift-viewer.js';

it('loopback only', async () => {
  console.log(JSON.stringify(networkInterfaces()));
  const server = await createSignalingServer({ port: 0, host: '127.0.0.1' });
  const sender = new Sender({ signalingUrl: server.url, cameras: [{ type: 'testpattern', width: 320, height: 240, fps: 30 }], peer: { announcedAddresses: ['127.0.0.1'] } });
  await sender.start();
  const viewer = await WeriftViewer.connect(server.url);
  try {
    await viewer.watch(await viewer.senderId(), ['testpattern'], 'vp8');
    await new Promise((r) => setTimeout(r, 2000));
    console.log('frames', viewer.tracks[0]!.frames.length);
    expect(viewer.tracks[0]!.frames.length).toBeGreaterThan(10);
  } finally {
    await viewer.close();
    await sender.close();
    await server.close();
  }
});
