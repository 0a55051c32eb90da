import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeAll, afterAll, describe, expect, it } from '@jest/globals';
import type { ServerMessageOf, WebSocketConstructor } from '@robocam/protocol';
import { createSignalingServer, type SignalingServer } from '@robocam/signaling';
import { expectedBarColors, i420Layout } from '@robocam/testpattern';
import {
  Sender,
  TestPatternSource,
  type CameraSpec,
  type SessionCloseInfo,
  type VideoCodec,
} from '../src/index.js';
import { startViewerProcess } from './support/viewer-child.js';
import { WeriftViewer, type ReceivedFrame } from './support/werift-viewer.js';

// Real everything: signaling server, sender core, werift viewers decoding with node-av. Run inside
// ../shared/netns/run-isolated.sh on the project's machines (npm test does).

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

async function startSender(
  codec: VideoCodec,
  cameras: CameraSpec[] = [{ type: 'testpattern', width: 640, height: 480, fps: 30 }],
) {
  sender = new Sender({ signalingUrl: server.url, name: 'test-robot', codec, cameras });
  await sender.start();
  return sender;
}

async function watch(codec: VideoCodec, cameras = ['testpattern']): Promise<WeriftViewer> {
  const viewer = await WeriftViewer.connect(server.url);
  viewers.push(viewer);
  await viewer.watch(await viewer.senderId(), cameras, codec);
  return viewer;
}

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
/**
 * Live JS objects and Buffers after a collection: where packets queued for a stalled viewer would
 * pile up. (RSS is useless here: this process also decodes video and runs jest.)
 */
function retainedAfterGc(): number {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Mean of a (2r+1)² area of one plane around (x, y). */
function planeMean(frame: ReceivedFrame, plane: 'y' | 'u' | 'v', x: number, y: number, r: number): number {
  const layout = i420Layout(frame.width, frame.height);
  const [offset, stride, px, py, pr] =
    plane === 'y'
      ? [0, frame.width, x, y, r]
      : [
          plane === 'u' ? layout.uOffset : layout.vOffset,
          layout.uvWidth,
          x >> 1,
          y >> 1,
          Math.max(0, r >> 1),
        ];
  let sum = 0;
  let n = 0;
  for (let dy = -pr; dy <= pr; dy++) {
    for (let dx = -pr; dx <= pr; dx++) {
      sum += frame.i420[offset + (py + dy) * stride + px + dx] ?? 0;
      n += 1;
    }
  }
  return sum / n;
}

describe.each(['vp8', 'h264'] as const)('sender with %s', (codec) => {
  // Rates and latencies are printed, not asserted (a loaded machine made "≥ 28 fps" flake); they
  // are measured in bench/ (sender.bench.mjs, ttff).
  it('streams decodable color bars with a timecode, keyframe first', async () => {
    const s = await startSender(codec);
    const viewer = await watch(codec);
    const track = viewer.tracks[0]!;
    await waitFor(() => track.frames.length > 0, 10_000, 'first decoded frame');
    // The first frame after connecting is a keyframe.
    expect(track.encodedFrames[0]?.keyframe).toBe(true);
    const firstFrameMs = track.encodedFrames[0]!.receivedAtMono - viewer.connectedAtMono!;

    const startCount = track.frames.length;
    const started = performance.now();
    await waitFor(() => track.frames.length >= startCount + 60, 20_000, '60 more decoded frames');
    const fps = ((track.frames.length - startCount) * 1000) / (performance.now() - started);

    const frame = track.frames.at(-1)!;
    expect([frame.width, frame.height]).toEqual([640, 480]);
    expect(frame.i420.length).toBe(i420Layout(640, 480).byteLength);
    for (const point of expectedBarColors(640, 480)) {
      expect(Math.abs(planeMean(frame, 'y', point.x, point.y, 2) - point.bar.yuv.y)).toBeLessThan(12);
      expect(Math.abs(planeMean(frame, 'u', point.x, point.y, 2) - point.bar.yuv.u)).toBeLessThan(12);
      expect(Math.abs(planeMean(frame, 'v', point.x, point.y, 2) - point.bar.yuv.v)).toBeLessThan(12);
    }

    // The strip decodes on (nearly) every frame, timestamps increase, latency is plausible.
    const recent = track.frames.slice(-60);
    const decoded = recent.filter((f) => f.timecode !== undefined);
    expect(decoded.length).toBeGreaterThanOrEqual(recent.length - 2);
    for (let i = 1; i < decoded.length; i++) {
      expect(decoded[i]!.timecode!.timestampMs).toBeGreaterThan(decoded[i - 1]!.timecode!.timestampMs);
    }
    const latencies = decoded.map((f) => f.receivedAt - f.timecode!.timestampMs).sort((a, b) => a - b);
    expect(latencies[0]).toBeGreaterThanOrEqual(0); // decoded after it was captured
    console.log(
      `${codec}: first frame ${Math.round(firstFrameMs)} ms after connecting, ${fps.toFixed(1)} fps decoded, ` +
        `capture → decoded median ${latencies[Math.floor(latencies.length / 2)]} ms`,
    );

    const stats = await s.stats();
    expect(stats.cameras[0]).toMatchObject({ running: true, viewers: 1, encoderStarts: 1 });
    expect(stats.sessions[0]).toMatchObject({ connectionState: 'connected' });
    // Counts agree: the viewer decoded no more frames than were encoded, got no more packets than sent.
    expect(track.frames.length).toBeLessThanOrEqual(stats.cameras[0]!.framesEncoded);
    expect(track.packets).toBeLessThanOrEqual(stats.sessions[0]!.packetsSent);
    expect(track.packets).toBeGreaterThanOrEqual(track.frames.length);
  });

  it('encodes once for five viewers, and stops the encoder when the last one leaves', async () => {
    const s = await startSender(codec);
    const first = await watch(codec);
    const second = await watch(codec);
    await waitFor(() => second.tracks[0]!.frames.length > 0, 10_000, 'second viewer frames');
    let stats = await s.stats();
    expect(stats.cameras[0]).toMatchObject({ viewers: 2, encoderStarts: 1 });

    const more = await Promise.all([watch(codec), watch(codec), watch(codec)]);
    for (const viewer of more) await waitFor(() => viewer.tracks[0]!.frames.length > 0, 10_000, 'frames');
    const before = (await s.stats()).cameras[0]!;
    await sleep(1000);
    stats = await s.stats();
    const camera = stats.cameras[0]!;
    expect(camera.viewers).toBe(5);
    expect(camera.encoderStarts).toBe(1);
    // One encode per captured frame, not per viewer: only frames dropped while busy differ.
    expect(camera.framesEncoded + camera.framesDropped).toBeGreaterThanOrEqual(camera.framesCaptured - 1);
    // …and never more encodes than captured frames (five encodes per frame would show here).
    expect(camera.framesEncoded - before.framesEncoded).toBeLessThanOrEqual(
      camera.framesCaptured - before.framesCaptured + 1,
    );
    expect(camera.framesEncoded).toBeGreaterThan(before.framesEncoded);
    console.log(
      `${codec}, 5 viewers: ${camera.framesEncoded - before.framesEncoded} frames encoded in 1 s (camera at 30 fps)`,
    );
    for (const viewer of [first, second, ...more]) {
      expect(viewer.tracks[0]!.frames.length).toBeGreaterThan(0);
    }

    const running: boolean[] = [];
    s.cameras.get('testpattern')!.on('running', (value) => running.push(value));
    for (const viewer of viewers.splice(0)) await viewer.close();
    await waitFor(() => s.sessions.size === 0, 10_000, 'sessions to end');
    await waitFor(() => !s.cameras.get('testpattern')!.running, 10_000, 'encoder to stop');
    expect(running).toEqual([false]);
    const idle = (await s.stats()).cameras[0]!;
    await sleep(300);
    expect((await s.stats()).cameras[0]!.framesCaptured).toBe(idle.framesCaptured);
  });

  it('answers a PLI with one keyframe, and a burst of PLIs with one', async () => {
    const s = await startSender(codec);
    const viewer = await watch(codec);
    const track = viewer.tracks[0]!;
    await waitFor(() => track.frames.length > 5, 10_000, 'frames');
    await sleep(600); // past the coalescing window of the join keyframe
    const keyframesBefore = track.encodedFrames.filter((f) => f.keyframe).length;
    const plisAnswered = s.cameras.get('testpattern')!.stats().keyframes.pli;
    const sentAt = performance.now();
    await viewer.sendPli();
    await waitFor(
      () => track.encodedFrames.filter((f) => f.keyframe).length > keyframesBefore,
      10_000,
      'PLI keyframe',
    );
    expect(s.cameras.get('testpattern')!.stats().keyframes.pli).toBe(plisAnswered + 1);
    const keyframe = track.encodedFrames.filter((f) => f.keyframe).at(-1)!;
    console.log(`${codec}: PLI → keyframe at the viewer ${Math.round(keyframe.receivedAtMono - sentAt)} ms`);

    await sleep(1_100); // a viewer causes at most one keyframe a second (viewer-link.ts)
    const plisBefore = (await s.stats()).cameras[0]!.keyframes.pli;
    for (let i = 0; i < 10; i++) await viewer.sendPli();
    await waitFor(
      () => s.cameras.get('testpattern')!.stats().keyframes.pli > plisBefore,
      10_000,
      'the burst keyframe',
    );
    await sleep(250); // a second keyframe for the same burst would show by now
    const afterBurst = (await s.stats()).cameras[0]!;
    expect(afterBurst.keyframes.pli - plisBefore).toBe(1);
    // The viewer's own track lets one PLI through and ignores the rest while that keyframe is on
    // its way (a congested viewer repeats its PLIs; each would cost every viewer a keyframe).
    const session = (await s.stats()).sessions[0]!;
    expect(afterBurst.keyframeRequestsCoalesced + session.tracks[0]!.plisIgnored).toBeGreaterThanOrEqual(9);
    expect(session.tracks[0]!.plisIgnored).toBeGreaterThanOrEqual(1);
    expect(session.plisReceived).toBeGreaterThanOrEqual(11);

    await sleep(1_100); // a viewer causes at most one keyframe a second (viewer-link.ts)
    const firsBefore = (await s.stats()).cameras[0]!.keyframes.fir;
    await viewer.sendFir();
    await waitFor(
      () => s.cameras.get('testpattern')!.stats().keyframes.fir > firsBefore,
      10_000,
      'FIR keyframe',
    );
  });
});

describe('viewer liveness', () => {
  it('closes the session of a viewer that went silent (frozen process)', async () => {
    sender = new Sender({
      signalingUrl: server.url,
      cameras: [{ type: 'testpattern', width: 320, height: 240, fps: 30 }],
      peer: { silenceTimeoutMs: 1500 },
    });
    await sender.start();
    const s = sender;
    const child = await startViewerProcess(server.url);
    try {
      expect(s.sessions.size).toBe(1);
      const closed = new Promise<SessionCloseInfo>((resolve) =>
        s.once('session-closed', (_session, info) => resolve(info)),
      );
      child.kill('SIGSTOP');
      const stoppedAt = performance.now();
      expect(await closed).toMatchObject({ origin: 'failure', code: 'viewer-silent' });
      console.log(
        `silent viewer's session closed ${Math.round(performance.now() - stoppedAt)} ms after SIGSTOP`,
      );
      await waitFor(() => !s.cameras.get('testpattern')!.running, 10_000, 'encoder to stop');
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('slow viewer', () => {
  it('keeps streaming to the others when one viewer stops reading', async () => {
    sender = new Sender({
      signalingUrl: server.url,
      cameras: [{ type: 'testpattern', width: 640, height: 480, fps: 30 }],
      peer: { silenceTimeoutMs: 60_000 },
    });
    await sender.start();
    const s = sender;
    const healthy = await WeriftViewer.connect(server.url);
    viewers.push(healthy);
    healthy.keepPixels = false; // its decoded pictures would otherwise dominate the memory reading
    await healthy.watch(await healthy.senderId(), ['testpattern'], 'vp8');
    const track = healthy.tracks[0]!;
    await waitFor(() => track.frames.length > 30, 10_000, 'frames');
    const child = await startViewerProcess(server.url);
    try {
      const latency = (from: number) => {
        const values = track.frames
          .filter((f) => f.receivedAtMono >= from && f.timecode !== undefined)
          .map((f) => f.receivedAt - f.timecode!.timestampMs)
          .sort((a, b) => a - b);
        return {
          p50: values[Math.floor(values.length / 2)]!,
          p95: values[Math.floor(values.length * 0.95)]!,
          n: values.length,
        };
      };
      // Two equal periods, normal then with the other viewer frozen: memory growth caused by the
      // frozen viewer would show as extra growth in the second (the first includes warm-up).
      const rssStart = retainedAfterGc();
      let mark = performance.now();
      await sleep(5000);
      const before = latency(mark);
      const rssBefore = retainedAfterGc();

      child.kill('SIGSTOP'); // stops reading: its socket buffer fills, datagrams to it are dropped
      mark = performance.now();
      await sleep(5000);
      const during = latency(mark);
      const rssDuring = retainedAfterGc();
      expect(s.sessions.size).toBe(2);
      process.stdout.write(
        `slow viewer: healthy viewer latency p50/p95 ${before.p50}/${before.p95} ms before, ${during.p50}/${during.p95} ms while the other is frozen; ` +
          `retained memory growth ${Math.round((rssBefore - rssStart) / 2 ** 20)} MiB in 5 s before, ${Math.round((rssDuring - rssBefore) / 2 ** 20)} MiB in 5 s frozen\n`,
      );
      // The healthy viewer went on decoding, in order, while the other was frozen. Its latency is
      // printed above, not asserted (bounds on it flaked on loaded machines).
      expect(during.n).toBeGreaterThan(0);
      const frozenPeriod = track.frames.filter((f) => f.receivedAtMono >= mark && f.timecode !== undefined);
      const stamps = frozenPeriod.map((f) => f.timecode!.timestampMs);
      expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
      // Retained memory is reported, not asserted: in this process it is dominated by the healthy
      // viewer's own decoding (tens of MiB of noise), far above what packets queued for a frozen
      // viewer would be (≈ 0.7 MiB in 5 s at this bitrate). The sender's memory over time is
      // measured in its own process by bench/soak.mjs and bench/long-run.mjs.
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/** A camera that can be unplugged by the test: the test pattern, silenced and reported lost. */
class UnpluggableCamera extends TestPatternSource {
  #unplugged = false;
  #statusOverride: 'lost' | undefined;

  constructor() {
    super({ width: 320, height: 240, fps: 30 });
    const emit = this.emit.bind(this);
    // Frames stop while unplugged, as a vanished device's would.
    this.emit = (event: string, ...args: unknown[]) =>
      event === 'frame' && this.#unplugged ? false : emit(event as 'frame', ...(args as [never]));
  }

  override get status() {
    return this.#statusOverride ?? super.status;
  }

  unplug(): void {
    this.#unplugged = true;
    this.#statusOverride = 'lost';
    this.emit('status', 'lost', 'device unplugged');
  }

  replug(): void {
    this.#unplugged = false;
    this.#statusOverride = undefined;
    this.emit('status', 'live');
  }
}

describe('camera lost', () => {
  it('shows a "camera lost" picture instead of freezing, and tells viewers', async () => {
    const camera = new UnpluggableCamera();
    sender = new Sender({
      signalingUrl: server.url,
      cameras: [{ type: 'source', id: 'arm', label: 'Arm', source: camera }],
    });
    await sender.start();
    const viewer = await watch('vp8', ['arm']);
    const track = viewer.tracks[0]!;
    await waitFor(() => track.frames.length > 10, 10_000, 'frames');

    const statuses: string[] = [];
    viewer.client.on('sender-online', ({ sender: info }) =>
      statuses.push(`${info.cameras[0]!.status}:${info.cameras[0]!.detail ?? ''}`),
    );
    camera.unplug();
    const lostAt = performance.now();
    const during = (): typeof track.frames => track.frames.filter((f) => f.receivedAtMono > lostAt + 200);
    // The card keeps the stream going, with a live timecode.
    await waitFor(() => during().length >= 10, 10_000, '10 frames of the card');
    expect(during().every((f) => f.timecode !== undefined)).toBe(true);
    const stamps = during().map((f) => f.timecode!.timestampMs);
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    await waitFor(() => statuses.includes('lost:device unplugged'), 10_000, 'the viewer to hear "lost"');
    expect(statuses).toContain('lost:device unplugged');
    expect([...viewer.client.senders.values()][0]!.cameras[0]).toMatchObject({ status: 'lost' });

    camera.replug();
    await waitFor(() => statuses.at(-1) === 'live:', 10_000, 'live again');
    const count = track.frames.length;
    await waitFor(() => track.frames.length > count + 10, 10_000, 'frames after the replug');
  });
});

describe('sender with several cameras', () => {
  it('serves two cameras as two tracks with their own encoders', async () => {
    const s = await startSender('vp8', [
      { type: 'testpattern', id: 'front', width: 640, height: 480, fps: 30 },
      { type: 'testpattern', id: 'rear', width: 320, height: 240, fps: 15 },
    ]);
    const viewer = await watch('vp8', ['front', 'rear']);
    await waitFor(() => viewer.tracks.every((t) => t.frames.length > 3), 10_000, 'frames on both tracks');
    expect([viewer.tracks[0]!.frames[0]!.width, viewer.tracks[1]!.frames[0]!.width]).toEqual([640, 320]);
    const stats = await s.stats();
    expect(stats.cameras.map((c) => [c.id, c.running, c.encoderStarts])).toEqual([
      ['front', true, 1],
      ['rear', true, 1],
    ]);
  });

  it('tells each connected viewer what it sees of that viewer’s link, per camera', async () => {
    const s = await startSender('vp8', [
      { type: 'testpattern', id: 'front', width: 640, height: 480, fps: 30 },
      { type: 'testpattern', id: 'rear', width: 320, height: 240, fps: 15 },
    ]);
    const both = await watch('vp8', ['front', 'rear']);
    const rearOnly = await watch('vp8', ['rear']);
    const received = new Map<WeriftViewer, ServerMessageOf<'link-stats'>[]>();
    for (const viewer of [both, rearOnly]) {
      const list: ServerMessageOf<'link-stats'>[] = [];
      received.set(viewer, list);
      viewer.client.on('message', (message) => {
        if (message.type === 'link-stats') list.push(message);
      });
    }
    await waitFor(
      () => [...received.values()].every((list) => list.length >= 2),
      15_000,
      'two link-stats messages per viewer',
    );
    for (const [viewer, list] of received) {
      // Each viewer hears about its own session only, from the sender.
      expect(new Set(list.map((m) => [m.session, m.from].join()))).toEqual(
        new Set([[viewer.session, s.peerId].join()]),
      );
    }
    const last = received.get(both)!.at(-1)!;
    expect(last.estimateKbps).toBeGreaterThan(0);
    expect(last.pacerQueueMs).toBeGreaterThanOrEqual(0);
    expect(last.lossPct).toBeGreaterThanOrEqual(0);
    expect(last.cameras.map((c) => c.camera)).toEqual(['front', 'rear']);
    const stats = await s.stats();
    for (const [index, entry] of last.cameras.entries()) {
      const camera = stats.cameras.find((c) => c.id === entry.camera)!;
      expect(entry.maxKbps).toBe(camera.maxBitrateKbps);
      expect(entry.targetKbps).toBeGreaterThan(0);
      expect(entry.targetKbps).toBeLessThanOrEqual(entry.maxKbps!);
      // The camera's size, or a lower-resolution tier of it.
      const [width, height] = index === 0 ? [640, 480] : [320, 240];
      expect(entry.encodedWidth).toBeLessThanOrEqual(width);
      expect(entry.encodedWidth! * height).toBe(entry.encodedHeight! * width);
      expect(entry.maxTemporalLayer).toBe(camera.temporalLayers - 1);
      expect(entry.temporalLayer).toBeGreaterThanOrEqual(0);
      expect(entry.temporalLayer).toBeLessThanOrEqual(entry.maxTemporalLayer);
    }
    expect(
      received
        .get(rearOnly)!
        .at(-1)!
        .cameras.map((c) => c.camera),
    ).toEqual(['rear']);
  });

  it('stops sending link stats to a signaling server that predates them', async () => {
    let attempts = 0;
    /** Answers link-stats as a server without the message type does: `bad-message`, ref = its id. */
    class OldServerSocket extends WebSocket {
      override send(data: string): void {
        const message = JSON.parse(data) as { type: string; id?: string };
        if (message.type !== 'link-stats') {
          super.send(data);
          return;
        }
        attempts += 1;
        const refusal = { type: 'error', code: 'bad-message', message: 'invalid message', ref: message.id };
        setTimeout(() => {
          this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(refusal) }));
        }, 0);
      }
    }
    sender = new Sender({
      signalingUrl: server.url,
      name: 'test-robot',
      cameras: [{ type: 'testpattern', width: 320, height: 240, fps: 15 }],
      // Node's WebSocket types its handlers with DOM events; the client only reads `data`.
      WebSocket: OldServerSocket as unknown as WebSocketConstructor,
    });
    await sender.start();
    const viewer = await watch('vp8');
    await waitFor(() => attempts > 0, 10_000, 'a first link-stats message');
    await sleep(2500);
    expect(attempts).toBe(1);
    expect(viewer.tracks[0]!.packets).toBeGreaterThan(0); // the session itself is unaffected
  });

  it('does not capture a camera nobody watches', async () => {
    const s = await startSender('vp8', [
      { type: 'testpattern', id: 'front', width: 320, height: 240, fps: 30 },
      { type: 'testpattern', id: 'rear', width: 320, height: 240, fps: 30 },
    ]);
    const viewer = await watch('vp8', ['front']);
    await waitFor(() => viewer.tracks[0]!.frames.length > 3, 10_000, 'frames');
    expect(s.cameras.get('rear')!.stats()).toMatchObject({ running: false, framesCaptured: 0 });
  });

  it('refuses an offer for an unknown camera with a bye and keeps serving others', async () => {
    await startSender('vp8');
    const rogue = await WeriftViewer.connect(server.url);
    viewers.push(rogue);
    // The server already refuses unknown camera ids; a sender must not rely on that.
    await expect(rogue.watch(await rogue.senderId(), ['nope'], 'vp8')).rejects.toThrow();
    const viewer = await watch('vp8');
    await waitFor(() => viewer.tracks[0]!.frames.length > 0, 10_000, 'frames');
  });
});
