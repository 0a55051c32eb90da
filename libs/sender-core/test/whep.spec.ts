import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createSignalingServer, type SignalingServer } from '@robocam/signaling';
import { RTCPeerConnection } from 'werift';
import { Sender } from '../src/index.js';
import { viewerPeerConfig } from './support/werift-viewer.js';

// A WHEP client made of plain HTTP and a werift peer connection, against the real signaling
// server and the real sender: a WHEP viewer is an ordinary viewer (shared encoder, keyframe on
// join). Runs inside ../shared/netns/run-isolated.sh.

let server: SignalingServer;
let base: string;
let sender: Sender;
const pcs: RTCPeerConnection[] = [];

beforeAll(async () => {
  server = await createSignalingServer({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${server.port}`;
  sender = new Sender({
    signalingUrl: server.url,
    name: 'robot',
    cameras: [{ type: 'testpattern', width: 320, height: 240, fps: 30 }],
  });
  await sender.start();
});
afterEach(async () => {
  await Promise.all(pcs.splice(0).map((pc) => pc.close()));
});
afterAll(async () => {
  await sender.close();
  await server.close();
});

async function whepClient(editOffer: (sdp: string) => string = (sdp) => sdp): Promise<{
  pc: RTCPeerConnection;
  answer: string;
  location: string;
  etag: string;
  packets: () => number;
  keyframes: () => number;
}> {
  const pc = new RTCPeerConnection(viewerPeerConfig('vp8'));
  pcs.push(pc);
  let packets = 0;
  let keyframes = 0;
  const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
  transceiver.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => {
      packets += 1;
      // VP8 payload descriptor (4 bytes with picture id) then the VP8 header: key frame when bit 0 is 0.
      const start = (rtp.payload[0]! & 0x10) !== 0;
      if (start && (rtp.payload[4]! & 0x01) === 0) keyframes += 1;
    });
  });
  await pc.setLocalDescription(await pc.createOffer());
  const response = await fetch(`${base}/whep`, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp' },
    body: editOffer(pc.localDescription!.sdp),
  });
  expect(response.status).toBe(201);
  const answer = await response.text();
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('WHEP client did not connect')), 10_000);
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    pc,
    answer,
    location: response.headers.get('location')!,
    etag: response.headers.get('etag')!,
    packets: () => packets,
    keyframes: () => keyframes,
  };
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('WHEP with the real sender', () => {
  it('streams to WHEP viewers from the shared encoder, starting with a keyframe', async () => {
    const first = await whepClient();
    await waitFor(
      () => first.keyframes() > 0 && first.packets() > 30,
      3000,
      'media on the first WHEP viewer',
    );
    const second = await whepClient();
    await waitFor(
      () => second.keyframes() > 0 && second.packets() > 30,
      3000,
      'media on the second WHEP viewer',
    );
    const stats = await sender.stats();
    expect(stats.cameras[0]).toMatchObject({ viewers: 2, encoderStarts: 1 });
    expect(server.stats()).toMatchObject({ viewers: 2, sessions: 2 });

    expect((await fetch(`${base}${first.location}`, { method: 'DELETE' })).status).toBe(200);
    expect((await fetch(`${base}${second.location}`, { method: 'DELETE' })).status).toBe(200);
    await waitFor(() => sender.sessions.size === 0, 3000, 'sessions to end');
    await waitFor(() => !sender.cameras.get('testpattern')!.running, 3000, 'encoder to stop');
  });

  it('takes the DTLS server role unless the offer takes it, and streams either way', async () => {
    // As server the sender waits for the viewer's ClientHello; werift as client would first
    // sleep 100 ms (see ViewerSession.answer).
    const actpass = await whepClient();
    expect(actpass.answer).toMatch(/^a=setup:passive/m);
    const passive = await whepClient((sdp) => sdp.replace(/^a=setup:actpass/gm, 'a=setup:passive'));
    expect(passive.answer).toMatch(/^a=setup:active/m);
    for (const client of [actpass, passive]) {
      await waitFor(() => client.keyframes() > 0, 3000, 'a keyframe');
      await fetch(`${base}${client.location}`, { method: 'DELETE' });
    }
  });

  it('restarts ICE on the running session through PATCH', async () => {
    const client = await whepClient();
    await waitFor(() => client.packets() > 10, 3000, 'media');
    const startsBefore = (await sender.stats()).cameras[0]!.encoderStarts;
    const sessionBefore = [...sender.sessions.values()][0];
    const response = await fetch(`${base}${client.location}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': '*' },
      body: 'a=ice-ufrag:restart1\r\na=ice-pwd:restartpasswordrestartpassword1\r\n',
    });
    expect(response.status).toBe(200);
    const fragment = await response.text();
    expect(fragment).toMatch(/a=ice-ufrag:\S+/);
    expect(fragment).toMatch(/a=candidate:.* typ host/);
    expect(response.headers.get('etag')).not.toBe(client.etag);
    // Same session, same peer connection on the sender: nothing was torn down.
    expect([...sender.sessions.values()]).toEqual([sessionBefore]);
    expect(sessionBefore!.closed).toBe(false);
    expect((await sender.stats()).cameras[0]!.encoderStarts).toBe(startsBefore);
    await fetch(`${base}${client.location}`, { method: 'DELETE' });
  });
});
