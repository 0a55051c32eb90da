// The viewer in a real Chromium against real signal, sender and web processes: first frame, size,
// colours, frame rate, latency, a screenshot, two tabs on one encoder, and recovery from killed
// services. The tests run in order and share the processes (later ones kill and restart them).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectedBarColors } from '@robocam/testpattern';
import type { Browser, Page } from 'playwright-core';
import {
  colorDistance,
  findChromium,
  isLive,
  launchChromium,
  openViewer,
  readTiles,
  sampleVideoColors,
  waitForTile,
} from './support/browser.js';
import { decodePng, lumaDeviation, meanColor } from './support/png.js';
import {
  ARTIFACTS,
  clearArtifacts,
  senderCameraStats,
  senderStats,
  sleep,
  stackOn,
  startSender,
  startSignal,
  startWeb,
  waitFor,
  type Service,
} from './support/services.js';

const SUITE = 'viewer';

/** Polls the tile every 50 ms; stop() returns the longest time seen without a new frame, in ms. */
function watchFrameGaps(target: Page, camera: string): { stop: () => Promise<number> } {
  let longest = 0;
  const state = { running: true };
  const loop = (async () => {
    while (state.running) {
      const { now, tiles } = await readTiles(target);
      const last = tiles.find((tile) => tile.camera === camera)?.lastFrameAt;
      if (last !== undefined && last !== null) longest = Math.max(longest, now - last);
      await sleep(50);
    }
  })();
  return {
    stop: async () => {
      state.running = false;
      await loop;
      return Math.round(longest);
    },
  };
}
const stack = stackOn(18_000);
const CAMERA = 'testpattern';
const WIDTH = 640;
const HEIGHT = 480;
const SENDER_ENV = { CAMERAS: `testpattern:${WIDTH}x${HEIGHT}@30` };
/** Per-channel tolerance for bar colours after VP8 and the browser's YUV → RGB conversion. */
const COLOR_TOLERANCE = 24;

let signal: Service;
let sender: Service;
let web: Service;
let browser: Browser;
let page: Page;
/** What the suite measured, printed at the end (and kept in artifacts/e2e/viewer-metrics.json). */
const metrics: Record<string, number | string> = {};

beforeAll(async () => {
  findChromium(); // fail first, with the installation hint, if there is no browser
  clearArtifacts(SUITE);
  signal = await startSignal(SUITE, stack);
  // The page must use the signaling URL it is given (as behind a reverse proxy).
  [web, sender] = await Promise.all([
    startWeb(SUITE, stack, { PUBLIC_SIGNALING_URL: stack.signalingUrl }),
    startSender(SUITE, stack, SENDER_ENV),
  ]);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  // beforeAll may have failed half-way.
  await (browser as Browser | undefined)?.close();
  await Promise.all(
    [sender, web, signal].map(async (service) => {
      await (service as Service | undefined)?.stop();
    }),
  );
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, `${SUITE}-metrics.json`), `${JSON.stringify(metrics, null, 2)}\n`);
  console.log(`viewer e2e measurements: ${JSON.stringify(metrics, null, 2)}`);
}, 30_000);

describe('web viewer, one camera', () => {
  it('serves the page with security and caching headers, and tells it the signaling URL', async () => {
    const html = await fetch(stack.pageUrl, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('cache-control')).toBe('no-cache');
    const csp = html.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ${stack.signalingUrl}`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(html.headers.get('x-content-type-options')).toBe('nosniff');
    expect(html.headers.get('referrer-policy')).toBe('no-referrer');
    const body = await html.text();
    const script = /<script type="module" src="(\/assets\/viewer-[A-Z0-9]+\.js)"/.exec(body)?.[1];
    expect(script).toBeDefined();

    const bundle = await fetch(new URL(script as string, stack.pageUrl), {
      headers: { 'accept-encoding': 'br' },
    });
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(bundle.headers.get('content-encoding')).toBe('br');
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);

    const config = await fetch(new URL('/config.json', stack.pageUrl));
    expect(config.headers.get('cache-control')).toBe('no-store');
    expect(await config.json()).toEqual({ signalingUrl: stack.signalingUrl });
    expect((await fetch(new URL('/healthz', stack.pageUrl))).status).toBe(200);
  });

  it('plays after load, at the configured size, with the right colours', async () => {
    page = await openViewer(browser, stack.pageUrl, SUITE);
    const tile = await waitForTile(page, CAMERA, 'live', isLive, 10_000);
    metrics.timeToFirstFrameMs = Math.round(tile.firstFrameAt ?? NaN);
    // firstFrameAt is on the page's clock: milliseconds since navigation started. Recorded in the
    // metrics, not bounded: time to first frame is measured in bench/.
    expect(tile.firstFrameAt).toBeGreaterThan(0);
    expect(tile.videoWidth).toBe(WIDTH);
    expect(tile.videoHeight).toBe(HEIGHT);
    expect(tile.label).toBe('Test pattern');
    expect(tile.sender).toBe('e2e-robot');

    const expected = expectedBarColors(WIDTH, HEIGHT);
    const seen = await sampleVideoColors(page, CAMERA, expected);
    const bars = expected.map((bar, i) => ({
      bar: bar.name,
      expected: bar.rgb,
      seen: seen[i],
      distance: colorDistance(bar.rgb, seen[i] ?? { r: NaN, g: NaN, b: NaN }),
    }));
    metrics.worstBarColorError = Math.round(Math.max(...bars.map((bar) => bar.distance)) * 10) / 10;
    expect(bars.filter((bar) => !(bar.distance <= COLOR_TOLERANCE))).toEqual([]);
  });

  it('keeps decoding and presenting frames', async () => {
    await waitForTile(page, CAMERA, 'decoding', (tile) => tile.framesDecoded > 0 && isLive(tile));
    // Rates are recorded in the metrics, not bounded (other jobs share these cores).
    const start = await readTiles(page);
    const first = start.tiles.find((tile) => tile.camera === CAMERA);
    if (first === undefined) throw new Error(`no tile for ${CAMERA}`);
    const last = await waitForTile(
      page,
      CAMERA,
      '30 more frames decoded and presented',
      (tile) =>
        tile.framesDecoded >= first.framesDecoded + 30 && tile.framesPresented >= first.framesPresented + 30,
      20_000,
    );
    const end = await readTiles(page);
    const seconds = (end.now - start.now) / 1000;
    metrics.decodedFps = Math.round(((last.framesDecoded - first.framesDecoded) / seconds) * 10) / 10;
    metrics.presentedFps = Math.round(((last.framesPresented - first.framesPresented) / seconds) * 10) / 10;
    expect(last.session).toBe(first.session); // the same session throughout
  }, 30_000);

  it('shows a plausible glass-to-glass latency in the stats overlay', async () => {
    await page.getByRole('button', { name: 'Stats' }).click();
    const readout = page.locator(`.tile[data-camera="${CAMERA}"] [data-stat="latency"]`);
    await readout.waitFor({ state: 'visible' });
    const text = await waitFor('a latency readout in ms', async () => {
      const value = (await readout.textContent()) ?? '';
      return /^\d+ ms$/.test(value) ? value : undefined;
    });
    const shown = Number.parseInt(text, 10);
    const tile = await waitForTile(page, CAMERA, 'latency', (candidate) => candidate.latencyMs !== null);
    metrics.latencyMs = tile.latencyMs ?? NaN;
    metrics.receiveToDisplayMs = tile.receiveToDisplayMs ?? NaN;
    metrics.clockOffsetMs = tile.clockOffsetMs ?? NaN;
    // Plausible means positive (capture, encoding and decoding take time; a wrong clock offset
    // shows as zero or negative); its size is recorded in the metrics, not bounded.
    expect(shown).toBeGreaterThanOrEqual(5);
    expect(tile.latencyMs).toBeGreaterThanOrEqual(5);
    // The other readouts are filled in too (rates need two stats samples: wait for them, as the
    // previous test no longer streams for a fixed 5 s first).
    for (const stat of ['resolution', 'fps', 'bitrate', 'loss', 'rtt', 'jitter', 'codec']) {
      const readout = page.locator(`.tile[data-camera="${CAMERA}"] [data-stat="${stat}"]`);
      const value = await waitFor(`the ${stat} readout`, async () => {
        const text = await readout.textContent();
        return text !== null && text !== '–' ? text : undefined;
      });
      expect({ stat, value }).not.toEqual({ stat, value: '–' });
    }
    expect(await page.locator(`.tile[data-camera="${CAMERA}"] [data-stat="resolution"]`).textContent()).toBe(
      `${WIDTH}×${HEIGHT}`,
    );
    // The sender's side of the link, from its link-stats messages (about once a second).
    const senderReadout = page.locator(`.tile[data-camera="${CAMERA}"] [data-stat="sender"]`);
    const senderLine = await waitFor('the sender readout', async () => {
      const text = (await senderReadout.textContent()) ?? '';
      return /^est \d.* · layer \d/.test(text) ? text : undefined;
    });
    expect(senderLine).toMatch(/^est \d.* · cam \d.* \d+×\d+ · layer \d\/\d · queue \d+ ms · loss \d+ %$/);
    const reported = await waitForTile(page, CAMERA, 'sender stats', (t) => t.senderLayer !== null);
    metrics.senderLine = senderLine;
    expect(reported.senderEstimateKbps).toBeGreaterThan(0);
    expect(reported.senderCameraKbps).toBeGreaterThan(0);
    expect(reported.senderQueueMs).toBeGreaterThanOrEqual(0);
    // The camera's size, or a lower-resolution tier of it.
    expect(reported.senderEncodedWidth).toBeGreaterThan(0);
    expect((reported.senderEncodedWidth ?? 0) * HEIGHT).toBe((reported.senderEncodedHeight ?? 0) * WIDTH);
    expect(reported.senderLayer).toBeLessThanOrEqual(reported.senderMaxLayer ?? -1);
    await page.getByRole('button', { name: 'Stats' }).click(); // off again for the screenshot
  });

  it('takes a screenshot that shows the colour bars', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, `${SUITE}-page.png`) });
    const video = page.locator(`.tile[data-camera="${CAMERA}"] video[data-active]`);
    const png = await video.screenshot({ path: join(ARTIFACTS, `${SUITE}-tile.png`) });
    const image = decodePng(png);
    expect(lumaDeviation(image)).toBeGreaterThan(30); // not a blank or uniform picture

    // Where the 640×480 picture lands inside the element (object-fit: contain).
    const scale = Math.min(image.width / WIDTH, image.height / HEIGHT);
    const left = (image.width - WIDTH * scale) / 2;
    const top = (image.height - HEIGHT * scale) / 2;
    const bars = expectedBarColors(WIDTH, HEIGHT).map((bar) => {
      const seen = meanColor(
        image,
        left + bar.x * scale,
        top + bar.y * scale,
        Math.max(1, bar.radius * scale - 2),
      );
      return { bar: bar.name, expected: bar.rgb, seen, distance: colorDistance(bar.rgb, seen) };
    });
    expect(bars.filter((bar) => !(bar.distance <= COLOR_TOLERANCE))).toEqual([]);
  });

  it('plays in two tabs at once from one encoder', async () => {
    // A second tab of the same browser (headless Chromium keeps both visible).
    const second = await openViewer(page.context(), stack.pageUrl, SUITE);
    try {
      await waitForTile(second, CAMERA, 'live in the second tab', isLive);
      await waitForTile(page, CAMERA, 'still live in the first tab', isLive);
      const camera = await waitFor('two viewers on the sender', async () => {
        const stats = (await senderCameraStats(stack)).find((candidate) => candidate.id === CAMERA);
        return stats !== undefined && stats.viewers === 2 ? stats : undefined;
      });
      expect(camera).toMatchObject({ running: true, viewers: 2, encoderStarts: 1 });
    } finally {
      await second.close({ runBeforeUnload: true });
    }
  });

  it('keeps playing through a signaling server kill and restart, and re-offers to the new one', async () => {
    const before = await waitForTile(page, CAMERA, 'live', isLive);
    // Precondition: the previous test's second tab is gone from the sender. Its bye travels over
    // signaling; killed too early, the sender only notices it through RTCP silence (15 s).
    await waitFor(
      'only this tab’s session on the sender',
      async () => (await senderStats(stack)).sessions.length === 1,
      { timeoutMs: 20_000 },
    );
    const gaps = watchFrameGaps(page, CAMERA);
    try {
      await signal.kill();
      await sleep(1000);
      // Media does not pass through the signaling server: the video keeps playing meanwhile.
      const during = await waitForTile(page, CAMERA, 'still live', isLive);
      expect(during.statusText).toBe('live (signaling reconnecting)');
      const restartedAt = Date.now();
      signal = await startSignal(SUITE, stack);
      // The sender re-registers under a new id; the page re-offers on its running session so
      // that the new server knows the session again.
      const after = await waitForTile(
        page,
        CAMERA,
        'live, bound to the new registration',
        (tile) => isLive(tile) && tile.senderId !== before.senderId && tile.statusText === 'live',
        10_000,
      );
      const sessions = await waitFor('the sender to hold exactly the re-offered session', async () => {
        const stats = await senderStats(stack);
        const camera = stats.cameras.find((candidate) => candidate.id === CAMERA);
        return stats.sessions.length === 1 &&
          stats.sessions[0]?.id === after.session &&
          stats.sessions[0].connectionState === 'connected' &&
          camera?.viewers === 1
          ? stats.sessions
          : undefined;
      });
      metrics.resumeAfterSignalingRestartMs = Date.now() - restartedAt;
      expect(sessions).toHaveLength(1);
      expect(after.videoWidth).toBe(WIDTH);
      await waitForTile(
        page,
        CAMERA,
        'more frames',
        (tile) => tile.framesPresented > after.framesPresented + 10,
      );
    } finally {
      metrics.longestFrameGapDuringSignalingRestartMs = await gaps.stop();
    }
    // The longest gap is recorded in the metrics; frames kept coming after the restart (above).
  });

  it('resumes without a reload when the sender is killed and restarted', async () => {
    const before = await waitForTile(page, CAMERA, 'live', isLive);
    const killedAt = Date.now();
    await sender.kill();
    await waitForTile(page, CAMERA, 'not live', (tile) => tile.status !== 'live', 10_000);
    metrics.senderKillNoticedMs = Date.now() - killedAt;
    metrics.statusWhileSenderDown = (await readTiles(page)).tiles[0]?.statusText ?? 'none';
    const restartedAt = Date.now(); // includes the sender's own start-up
    sender = await startSender(SUITE, stack, SENDER_ENV);
    const after = await waitForTile(
      page,
      CAMERA,
      'live again',
      (tile) => isLive(tile) && tile.session !== before.session && tile.senderId !== before.senderId,
      10_000,
    );
    metrics.resumeAfterSenderRestartMs = Date.now() - restartedAt;
    expect(after.videoWidth).toBe(WIDTH);
  });

  it('says so when the sender stops for good', async () => {
    await waitForTile(page, CAMERA, 'live', isLive);
    await sender.stop();
    const tile = await waitForTile(
      page,
      CAMERA,
      'no sender online',
      (candidate) => candidate.status === 'no-sender',
      10_000,
    );
    expect(tile.statusText).toBe('no sender online');
    await expect(page.locator(`.tile[data-camera="${CAMERA}"] .status`).textContent()).resolves.toBe(
      'no sender online',
    );
  });
});
