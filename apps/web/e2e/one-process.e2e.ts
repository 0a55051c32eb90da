// robocam in one process (apps/robocam, `npm start -- --one-process`) in a real Chromium: the page,
// signaling and the sender on one port, one /healthz for all three, the sender's and signaling's
// metrics in one /metrics and the camera's snapshot behind METRICS_TOKEN, and a clean SIGTERM; and
// the connectivity doctor's verdict on each tile, for a session that plays and for one on a network
// that drops UDP.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { findChromium, isLive, launchChromium, openViewer, waitForTile } from './support/browser.js';
import { clearArtifacts, Service, stackOn, waitFor } from './support/services.js';
import { assertCanShape, blockUdp, clearShaping } from './support/shaping.js';

const SUITE = 'one-process';
const { webPort: port, pageUrl } = stackOn(58_000);
const CAMERA = 'testpattern';
const TOKEN = 'e2e-metrics-token';
const bearer = { authorization: `Bearer ${TOKEN}` };

let robocam: Service;
let browser: Browser;
let page: Page;

interface Health {
  status: string;
  rssBytes: number;
  signaling: { senders: number; viewers: number; sessions: number };
  sender: { signaling: string; sessions: number; cameras: { id: string }[] };
}
/** One sample's value from a Prometheus text exposition; undefined when absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const escaped = `${name}${labels === '' ? '' : `{${labels}}`}`.replace(/[{}()[\].*+?^$|\\]/g, '\\$&');
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return match === null ? undefined : Number(match[1]);
}

const health = async (): Promise<{ status: number; body: Health }> => {
  const response = await fetch(new URL('/healthz', pageUrl));
  return { status: response.status, body: (await response.json()) as Health };
};

beforeAll(async () => {
  findChromium(); // fail first, with the installation hint, if there is no browser
  assertCanShape(); // the doctor's test blocks UDP: inside run-isolated.sh only
  clearArtifacts(SUITE);
  // Ready once /healthz answers 200: the sender registered with the signaling in its own process.
  robocam = await Service.start(
    SUITE,
    'robocam',
    { PORT: String(port), CAMERAS: `${CAMERA}:640x480@30`, SENDER_NAME: 'e2e-robot', METRICS_TOKEN: TOKEN },
    new URL('/healthz', pageUrl).href,
  );
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await (browser as Browser | undefined)?.close();
  await (robocam as Service | undefined)?.stop();
}, 30_000);

describe('robocam in one process', () => {
  it('serves the page and tells it to signal on its own port', async () => {
    expect((await fetch(pageUrl)).status).toBe(200);
    const config = (await (await fetch(new URL('/config.json', pageUrl))).json()) as { signalingUrl: string };
    expect(config.signalingUrl).toBe(`ws://127.0.0.1:${port}/signal`);
    expect((await fetch(new URL('/metrics', pageUrl))).status).toBe(401);
    const metrics = await (await fetch(new URL('/metrics', pageUrl), { headers: bearer })).text();
    expect(metrics).toMatch(/^robocam_connected_senders 1$/m);
  });

  it('answers one /healthz for signaling, page and sender', async () => {
    const { status, body } = await health();
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.signaling.senders).toBe(1);
    expect(body.sender.signaling).toBe('open');
    expect(body.sender.cameras.map((camera) => camera.id)).toEqual([CAMERA]);
    expect(body.rssBytes).toBeGreaterThan(0);
  });

  it('plays in Chromium', async () => {
    page = await openViewer(browser, pageUrl, SUITE);
    const live = await waitForTile(page, CAMERA, 'live', isLive, 20_000);
    expect(live.videoWidth).toBe(640);
    expect(live.videoHeight).toBe(480);
    // Frames keep coming, and both halves of the process see the session.
    await waitForTile(
      page,
      CAMERA,
      'more frames',
      (tile) => tile.framesPresented > live.framesPresented + 10,
    );
    await waitFor('the session in /healthz', async () => {
      const { body } = await health();
      return body.sender.sessions === 1 && body.signaling.sessions === 1 ? body : undefined;
    });
    // The robot's side of the doctor, for scripts.
    const doctor = await waitFor('the doctor endpoint saying streaming', async () => {
      const body = (await (await fetch(new URL('/doctor', pageUrl), { headers: bearer })).json()) as {
        verdict: { code: string; ok: boolean };
        facts: { sessions: { connectionState: string }[] };
      };
      return body.verdict.code === 'playing' ? body : undefined;
    });
    expect(doctor.verdict.ok).toBe(true);
    expect(doctor.facts.sessions.map((session) => session.connectionState)).toEqual(['connected']);
  }, 40_000);

  it('serves signaling’s and the sender’s metrics in one text, and a snapshot, behind METRICS_TOKEN', async () => {
    expect((await fetch(new URL('/metrics', pageUrl))).status).toBe(401);
    expect((await fetch(new URL('/doctor', pageUrl))).status).toBe(401);
    const text = await (await fetch(new URL('/metrics', pageUrl), { headers: bearer })).text();
    // The session as signaling sees it and as the sender sees it.
    expect(sample(text, 'robocam_sessions')).toBe(1);
    expect(sample(text, 'robocam_connected_viewers')).toBe(1);
    expect(sample(text, 'robocam_viewers')).toBe(1);
    expect(sample(text, 'robocam_viewer_connected', 'viewer="0"')).toBe(1);
    expect(sample(text, 'robocam_camera_running', `camera="${CAMERA}"`)).toBe(1);
    // One set of process metrics, the sender's.
    expect(sample(text, 'robocam_sender_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(text).not.toMatch(/^robocam_signal_/m);

    const snapshot = new URL(`/cameras/${CAMERA}/snapshot.jpg?width=320`, pageUrl);
    expect((await fetch(snapshot)).status).toBe(401);
    snapshot.searchParams.set('token', TOKEN);
    // Decoded by Chromium's own JPEG decoder, from the page's origin.
    const size = await page.evaluate(async (href) => {
      const response = await fetch(href);
      const bitmap = await createImageBitmap(await response.blob());
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        width: bitmap.width,
        height: bitmap.height,
      };
    }, snapshot.href);
    expect(size).toEqual({ status: 200, type: 'image/jpeg', width: 320, height: 240 });
    // Taken from the capture the session runs: no second encoder start.
    const after = await (await fetch(new URL('/metrics', pageUrl), { headers: bearer })).text();
    expect(sample(after, 'robocam_camera_encoder_starts_total', `camera="${CAMERA}"`)).toBe(1);
  });

  it('the doctor says playing, over the pair ICE selected', async () => {
    const tile = await waitForTile(
      page,
      CAMERA,
      'a doctor verdict',
      (t) => t.doctor?.verdict.code === 'playing',
    );
    const facts = tile.doctor?.facts;
    expect(facts?.iceState).toMatch(/^(connected|completed)$/);
    expect(facts?.dtlsState).toBe('connected');
    expect(facts?.selectedPair?.remote).toMatchObject({ type: 'host', protocol: 'udp' });
    expect(facts?.remoteCandidates.length).toBeGreaterThan(0);
    expect(facts?.packetsReceived).toBeGreaterThan(0);
    expect(facts?.framesDecoded).toBeGreaterThan(0);
    expect(facts?.timings['ice:connected']).toBeDefined();
    const panel = page.locator(`.tile[data-camera="${CAMERA}"] .doctor`);
    expect(await panel.getAttribute('data-verdict')).toBe('playing');
    expect(await panel.locator('summary').textContent()).toMatch(
      /Playing over \w+\/udp ipv4 ↔ host\/udp ipv4/,
    );
  }, 20_000);

  it('the doctor tells a network without UDP what to open', async () => {
    blockUdp();
    try {
      const blocked = await openViewer(browser, pageUrl, SUITE);
      // The page gives the session up after its 10 s connect timeout; the panel keeps its verdict.
      const tile = await waitForTile(
        blocked,
        CAMERA,
        'the doctor’s verdict',
        (t) => t.doctor !== null && !t.doctor.verdict.ok,
        30_000,
      );
      expect(tile.status).not.toBe('live');
      expect(tile.doctor?.verdict.code).toBe('no-udp-path');
      expect(tile.doctor?.verdict.nextStep).toContain('RTC_PORT_RANGE');
      expect(tile.doctor?.facts.remoteCandidates.length).toBeGreaterThan(0);
      expect(tile.doctor?.facts.packetsReceived).toBe(0);
      const panel = blocked.locator(`.tile[data-camera="${CAMERA}"] .doctor`);
      expect(await panel.getAttribute('data-ok')).toBe('false');
      expect(await panel.locator('summary').textContent()).toContain('No UDP path');
      await blocked.context().close();
    } finally {
      clearShaping();
    }
    // The first viewer lost its path meanwhile; with UDP back it plays again.
    await waitForTile(
      page,
      CAMERA,
      'live again with UDP back',
      (t) => isLive(t) && t.doctor?.verdict.ok === true,
      30_000,
    );
  }, 75_000);

  it('stops cleanly on SIGTERM, closing the viewer’s session', async () => {
    const exit = await robocam.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    await waitForTile(page, CAMERA, 'no longer live', (tile) => tile.status !== 'live');
  }, 20_000);
});
