import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createSignalingServer, type SignalingServer } from '@robocam/signaling';
import { Sender, SenderMetrics } from '../src/index.js';
import { ViewerSlots } from '../src/metrics.js';
import { parsePrometheus, sampleValue, type Sample } from './support/prometheus.js';
import { WeriftViewer } from './support/werift-viewer.js';

// A real sender on the test pattern, a werift viewer sending transport-cc feedback, scraped as
// Prometheus would. Run inside ../shared/netns/run-isolated.sh on the project's machines.

let server: SignalingServer;
let sender: Sender | undefined;
let metrics: SenderMetrics | undefined;
const viewers: WeriftViewer[] = [];

beforeAll(async () => {
  server = await createSignalingServer({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  await Promise.all(viewers.splice(0).map((viewer) => viewer.close()));
  metrics?.close();
  await sender?.close();
  sender = undefined;
});

async function scrape(): Promise<Sample[]> {
  if (metrics === undefined) throw new Error('no metrics');
  return parsePrometheus(await metrics.metrics());
}

/** Scrapes until `check` holds (a wait for the session to get there, not a speed bound). */
async function scrapeUntil(
  check: (samples: Sample[]) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<Sample[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const samples = await scrape();
    if (check(samples)) return samples;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function startWatched(): Promise<WeriftViewer> {
  sender = new Sender({
    signalingUrl: server.url,
    cameras: [{ type: 'testpattern', id: 'front', width: 320, height: 240, fps: 15 }],
  });
  metrics = new SenderMetrics(sender);
  await sender.start();
  const viewer = await WeriftViewer.connect(server.url);
  viewers.push(viewer);
  await viewer.watch(await viewer.senderId(), ['front'], 'vp8', { transportFeedback: {} });
  return viewer;
}

describe('SenderMetrics', () => {
  it('exports each camera and each viewer, whose series move and end with the session', async () => {
    const viewer = await startWatched();
    const first = await scrapeUntil(
      (s) =>
        (sampleValue(s, 'robocam_viewer_bytes_sent_total', { viewer: '0' }) ?? 0) > 0 &&
        sampleValue(s, 'robocam_viewer_rtt_seconds', { viewer: '0' }) !== undefined,
      'bytes sent and an RTT',
    );
    expect(sampleValue(first, 'robocam_signaling_connected')).toBe(1);
    expect(sampleValue(first, 'robocam_viewers')).toBe(1);
    expect(sampleValue(first, 'robocam_camera_state', { camera: 'front', state: 'live' })).toBe(1);
    expect(sampleValue(first, 'robocam_camera_state', { camera: 'front', state: 'idle' })).toBe(0);
    expect(sampleValue(first, 'robocam_camera_running', { camera: 'front' })).toBe(1);
    expect(sampleValue(first, 'robocam_camera_encoder_info', { camera: 'front', codec: 'vp8' })).toBe(1);
    expect(sampleValue(first, 'robocam_camera_fps', { camera: 'front' })).toBe(15);
    expect(sampleValue(first, 'robocam_camera_frames_captured_total', { camera: 'front' })).toBeGreaterThan(
      0,
    );
    expect(sampleValue(first, 'robocam_camera_target_bitrate_bps', { camera: 'front' })).toBeGreaterThan(0);
    expect(sampleValue(first, 'robocam_camera_keyframes_total', { camera: 'front', reason: 'first' })).toBe(
      1,
    );
    expect(
      sampleValue(first, 'robocam_camera_frames_dropped_total', { camera: 'front', reason: 'bitrate' }),
    ).toBeGreaterThanOrEqual(0);
    expect(sampleValue(first, 'robocam_camera_encode_seconds_count', { camera: 'front' })).toBeGreaterThan(0);
    expect(sampleValue(first, 'robocam_viewer_connected', { viewer: '0' })).toBe(1);
    expect(sampleValue(first, 'robocam_viewer_rtt_seconds', { viewer: '0' })).toBeGreaterThanOrEqual(0);
    expect(sampleValue(first, 'robocam_viewer_estimated_bandwidth_bps', { viewer: '0' })).toBeGreaterThan(0);
    expect(sampleValue(first, 'robocam_viewer_plis_total', { viewer: '0' })).toBe(0);
    expect(sampleValue(first, 'robocam_sender_process_cpu_seconds_total')).toBeGreaterThan(0);

    // Bytes grow; a forced picture loss is counted on the viewer and answered with a keyframe.
    await viewer.sendPli();
    const bytesBefore = sampleValue(first, 'robocam_viewer_bytes_sent_total', { viewer: '0' }) ?? 0;
    const later = await scrapeUntil(
      (s) =>
        (sampleValue(s, 'robocam_viewer_plis_total', { viewer: '0' }) ?? 0) >= 1 &&
        (sampleValue(s, 'robocam_viewer_bytes_sent_total', { viewer: '0' }) ?? 0) > bytesBefore,
      'the PLI counted and more bytes sent',
    );
    expect(sampleValue(later, 'robocam_viewer_plis_total', { viewer: '0' })).toBe(1);
    const pliKeyframes = await scrapeUntil(
      (s) =>
        (sampleValue(s, 'robocam_camera_keyframes_total', { camera: 'front', reason: 'pli' }) ?? 0) +
          (sampleValue(s, 'robocam_camera_keyframe_requests_coalesced_total', { camera: 'front' }) ?? 0) >=
        1,
      'a keyframe for the PLI',
    );
    expect(pliKeyframes.length).toBeGreaterThan(0);

    // The session ends: its series go (the label's values stay bounded), the camera goes idle.
    await viewer.close();
    viewers.length = 0;
    const after = await scrapeUntil((s) => sampleValue(s, 'robocam_viewers') === 0, 'the session to end');
    expect(after.filter((sample) => sample.labels['viewer'] !== undefined)).toEqual([]);
    const idle = await scrapeUntil(
      (s) => sampleValue(s, 'robocam_camera_state', { camera: 'front', state: 'idle' }) === 1,
      'the camera to go idle',
    );
    expect(
      sampleValue(idle, 'robocam_camera_encoder_info', { camera: 'front', codec: 'vp8' }),
    ).toBeUndefined();
  });

  it('exports teleop commands by result, the lease, and each WHIP publication’s state and attempts', async () => {
    const viewer = await WeriftViewer.connect(server.url);
    viewers.push(viewer);
    sender = new Sender({
      signalingUrl: server.url,
      cameras: [{ type: 'testpattern', id: 'front', width: 320, height: 240, fps: 15 }],
    });
    metrics = new SenderMetrics(sender);
    await sender.start();
    // Nothing listens on port 9: the publication keeps trying (connection refused is retried).
    sender.publish('front', { url: 'http://127.0.0.1:9/whip/endpoint/front' });
    await viewer.watch(await viewer.senderId(), ['front'], 'vp8', { dataChannels: true });
    viewer.events?.send(JSON.stringify({ type: 'hello', client: 'metrics-test-client-0001', name: 'ops' }));
    viewer.events?.send(JSON.stringify({ type: 'lease-request' }));
    await scrapeUntil((s) => sampleValue(s, 'robocam_control_lease_held', {}) === 1, 'the lease');
    viewer.control?.send(JSON.stringify({ seq: 1, sentAt: Date.now(), data: { linear: { x: 0.5 } } }));
    viewer.control?.send(JSON.stringify({ seq: 1, sentAt: Date.now(), data: {} })); // a duplicate
    viewer.control?.send('nonsense');
    const samples = await scrapeUntil(
      (s) =>
        sampleValue(s, 'robocam_control_commands_total', { result: 'applied' }) === 1 &&
        sampleValue(s, 'robocam_control_commands_total', { result: 'out_of_order' }) === 1 &&
        sampleValue(s, 'robocam_control_messages_rejected_total', {}) === 1 &&
        (sampleValue(s, 'robocam_publication_attempts_total', { publication: 'whip-1', camera: 'front' }) ??
          0) >= 1,
      'the commands counted and a publication attempt',
    );
    expect(sampleValue(samples, 'robocam_control_commands_total', { result: 'late' })).toBe(0);
    const state = (name: string): number | undefined =>
      sampleValue(samples, 'robocam_publication_state', {
        publication: 'whip-1',
        camera: 'front',
        state: name,
      });
    expect(state('connected')).toBe(0);
    expect((state('connecting') ?? 0) + (state('reconnecting') ?? 0)).toBe(1);
  });

  it('has every metric the Grafana dashboard queries, in a real scrape', async () => {
    await startWatched();
    const dashboard = readFileSync(new URL('../../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    const queried = new Set(dashboard.match(/\brobocam_[a-z0-9_]+/g));
    expect(queried.size).toBeGreaterThan(30);
    // Wait until the session has sent, been measured and picked a layer: every series then exists.
    const samples = await scrapeUntil(
      (s) =>
        sampleValue(s, 'robocam_viewer_rtt_seconds', { viewer: '0' }) !== undefined &&
        sampleValue(s, 'robocam_viewer_received_bps', { viewer: '0' }) !== undefined &&
        sampleValue(s, 'robocam_viewer_temporal_layer', { viewer: '0', camera: 'front' }) !== undefined,
      'RTT, transport feedback and a layer',
    );
    const present = new Set(samples.map((sample) => sample.name));
    expect([...queried].filter((name) => !present.has(name))).toEqual([]);
  });
});

describe('ViewerSlots', () => {
  it('numbers sessions from 0 up to the cap and reuses the numbers of ended ones', () => {
    const slots = new ViewerSlots(2);
    const rows = (ids: string[]) =>
      slots.assign(ids.map((id) => ({ id }))).map((row) => `${row.session.id}:${row.slot}`);
    expect(rows(['a', 'b', 'c'])).toEqual(['a:0', 'b:1']);
    expect(slots.overflow).toBe(1);
    expect(rows(['b', 'c', 'd'])).toEqual(['b:1', 'c:0']);
    expect(slots.overflow).toBe(1);
    expect(rows(['d'])).toEqual(['d:0']);
    expect(slots.overflow).toBe(0);
  });
});
