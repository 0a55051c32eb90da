import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createSignalingServer, type SignalingServer } from '@robocam/signaling';
import { Sender, type SenderStats } from '../src/index.js';
import { WeriftViewer } from './support/werift-viewer.js';

// Congestion control over real sockets with werift viewers that send transport-cc feedback, as
// browsers do. (Narrow links are tested with Chromium behind tbf in apps/web/e2e/congestion.)
// Run inside ../shared/netns/run-isolated.sh.

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

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('congestion control with a viewer that sends transport-wide feedback', () => {
  it('estimates the link from the feedback, paces every frame out, and numbers packets without gaps', async () => {
    sender = new Sender({
      signalingUrl: server.url,
      codec: 'vp8',
      // Camera-like content at a small size: the encoder fills its target, cheaply.
      cameras: [{ type: 'testpattern', pattern: 'busy', width: 320, height: 240, fps: 30 }],
      bitrateKbps: 600,
    });
    await sender.start();
    const viewer = await WeriftViewer.connect(server.url);
    viewers.push(viewer);
    await viewer.watch(await viewer.senderId(), ['busy'], 'vp8', { transportFeedback: {} });
    const track = viewer.tracks[0]!;

    const stats = await waitFor('30 transport-cc feedback packets', async () => {
      const s: SenderStats = await sender!.stats();
      return (s.sessions[0]?.link?.feedbackPackets ?? 0) >= 30 ? s : undefined;
    });
    const session = stats.sessions[0]!;
    const link = session.link!;
    // Loopback carries far more than the camera makes: the estimate is at least the configured
    // bitrate and nothing is lost. (Whether the pacer dropped a frame depends on how the encoder
    // bunched frames on a loaded machine: not asserted; its numbering stays continuous either way.)
    expect(link.estimateKbps).toBeGreaterThanOrEqual(600);
    expect(link.lossFraction).toBe(0);
    expect(link.receivedKbps).toBeGreaterThan(0);
    // Two temporal layers by default, and this viewer gets both.
    expect(stats.cameras[0]).toMatchObject({ temporalLayers: 2, bitrateKbps: 600, encodedWidth: 320 });
    expect(session.tracks[0]).toMatchObject({
      camera: 'busy',
      maxLayer: 1,
      temporalLayer: 1,
      framesSkipped: 0,
    });
    // The viewer's own sequence numbers: continuous, so it never NACKs a packet that was not sent.
    await waitFor('100 packets at the viewer', () => (track.packets > 100 ? true : undefined));
    expect(track.sequenceGaps).toBe(0);
    expect(session.nacksReceived).toBe(0);
    // And it decodes what it gets: frames keep coming with the timecode readable.
    const decoded = track.frames.length;
    await waitFor('10 more decoded frames', () => (track.frames.length >= decoded + 10 ? true : undefined));
    expect(track.frames.at(-1)?.timecode).toBeDefined();
  });

  it('narrows only the constrained viewer: its estimate falls below its bottleneck and it gets the base layer', async () => {
    sender = new Sender({
      signalingUrl: server.url,
      codec: 'vp8',
      cameras: [{ type: 'testpattern', pattern: 'busy', width: 320, height: 240, fps: 30 }],
      bitrateKbps: 600,
    });
    await sender.start();
    const senderId = async (viewer: WeriftViewer) => viewer.senderId();
    const free = await WeriftViewer.connect(server.url);
    const narrow = await WeriftViewer.connect(server.url);
    viewers.push(free, narrow);
    await free.watch(await senderId(free), ['busy'], 'vp8', { transportFeedback: {} });
    // 200 kbit/s with tbf's 400 ms queue, as the sender sees it.
    await narrow.watch(await senderId(narrow), ['busy'], 'vp8', {
      transportFeedback: { capacityKbps: 200, queueMs: 400 },
    });
    const byViewer = (s: SenderStats, viewer: WeriftViewer) =>
      s.sessions.find((session) => session.id === viewer.session);

    const settled = await waitFor(
      'the narrow viewer on the base layer below its bottleneck',
      async () => {
        const s = await sender!.stats();
        const n = byViewer(s, narrow);
        return n?.link !== undefined && n.link.estimateKbps < 200 && n.tracks[0]?.temporalLayer === 0
          ? s
          : undefined;
      },
      30_000,
    );
    const freeSession = byViewer(settled, free)!;
    // The free viewer is not dragged to the narrow one's rate: it keeps every layer, and the
    // camera's one encoder stays above what the narrow link carries.
    expect(freeSession.link!.estimateKbps).toBeGreaterThanOrEqual(600);
    expect(freeSession.tracks[0]).toMatchObject({ temporalLayer: 1, framesSkipped: 0 });
    expect(settled.cameras[0]!.bitrateKbps).toBeGreaterThan(200);
    expect(settled.cameras[0]!.bitrateKbps).toBeLessThan(600);
    expect(byViewer(settled, narrow)!.tracks[0]!.framesSkipped).toBeGreaterThan(0);
    // Both keep decoding what they get: the narrow one every other frame, with its own numbering.
    const counts = [free, narrow].map((viewer) => viewer.tracks[0]!.frames.length);
    await waitFor('both viewers decoding on', () =>
      free.tracks[0]!.frames.length >= counts[0]! + 10 && narrow.tracks[0]!.frames.length >= counts[1]! + 5
        ? true
        : undefined,
    );
    expect(narrow.tracks[0]!.sequenceGaps).toBe(0);
    expect(free.tracks[0]!.sequenceGaps).toBe(0);
  });

  it('a viewer without transport-cc is never limited: the camera keeps its configured bitrate', async () => {
    sender = new Sender({
      signalingUrl: server.url,
      codec: 'vp8',
      cameras: [{ type: 'testpattern', width: 320, height: 240, fps: 30 }],
      bitrateKbps: 500,
    });
    await sender.start();
    const viewer = await WeriftViewer.connect(server.url);
    viewers.push(viewer);
    await viewer.watch(await viewer.senderId(), ['testpattern'], 'vp8');
    await waitFor('20 frames', () => (viewer.tracks[0]!.frames.length >= 20 ? true : undefined));
    const stats = await sender.stats();
    expect(stats.sessions[0]!.link).toMatchObject({ feedbackPackets: 0 });
    expect(stats.cameras[0]).toMatchObject({ bitrateKbps: 500, framesSkippedForBitrate: 0 });
  });
});
