// The main viewer flows in both browsers the project supports — Chromium (playwright-core) and
// Firefox (Debian's firefox-esr, puppeteer-core over WebDriver BiDi) — against real signal, sender
// and web processes: plays at the configured size with the right colours, keeps decoding, shows a
// latency readout, keeps playing through a signaling server restart. Then a Firefox tile facing an
// H.264-only sender says why it cannot play. Firefox needs a routable address in the namespace:
// run inside RUN_ISOLATED_ROUTABLE=1 ../shared/netns/run-isolated.sh (the e2e target does).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectedBarColors } from '@robocam/testpattern';
import {
  assertFirefoxCanGather,
  colorDistance,
  findChromium,
  findFirefox,
  isLive,
  launchViewerBrowser,
  readTiles,
  sampleVideoColors,
  waitForTile,
  type BrowserName,
  type ViewerBrowser,
  type ViewerPage,
} from './support/browser.js';
import {
  ARTIFACTS,
  clearArtifacts,
  Service,
  sleep,
  stackOn,
  startSender,
  startSignal,
  startWeb,
  waitFor,
} from './support/services.js';

const SUITE = 'browsers';
const stack = stackOn(56_000);
const CAMERA = 'testpattern';
const WIDTH = 640;
const HEIGHT = 480;
/** Per-channel tolerance for bar colours after VP8 and the browser's YUV → RGB conversion. */
const COLOR_TOLERANCE = 24;

let signal: Service;
let sender: Service;
let web: Service;
/** What the suite measured per browser (artifacts/e2e/browsers-metrics.json). */
const metrics: Record<string, Record<string, number | string>> = {};

beforeAll(async () => {
  findChromium();
  findFirefox();
  assertFirefoxCanGather();
  clearArtifacts(SUITE);
  signal = await startSignal(SUITE, stack);
  [web, sender] = await Promise.all([
    startWeb(SUITE, stack, { PUBLIC_SIGNALING_URL: stack.signalingUrl }),
    startSender(SUITE, stack, { CAMERAS: `testpattern:${WIDTH}x${HEIGHT}@30` }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all(
    [sender, web, signal].map(async (service) => {
      await (service as Service | undefined)?.stop();
    }),
  );
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, `${SUITE}-metrics.json`), `${JSON.stringify(metrics, null, 2)}\n`);
  console.log(`browser e2e measurements: ${JSON.stringify(metrics, null, 2)}`);
}, 30_000);

/** The text of the first element matching `selector` in the page, or null. */
const textOf = (page: ViewerPage, selector: string): Promise<string | null> =>
  page.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);

describe.each<BrowserName>(['chromium', 'firefox'])('in %s', (name) => {
  let browser: ViewerBrowser;
  let page: ViewerPage;
  const seen: Record<string, number | string> = {};
  metrics[name] = seen;

  beforeAll(async () => {
    browser = await launchViewerBrowser(name);
  }, 30_000);

  afterAll(async () => {
    await (browser as ViewerBrowser | undefined)?.close();
  });

  it('plays at the configured size, with the right colours', async () => {
    page = await browser.openViewer(stack.pageUrl, SUITE);
    const tile = await waitForTile(page, CAMERA, 'live', isLive, 20_000);
    seen.timeToFirstFrameMs = Math.round(tile.firstFrameAt ?? NaN);
    expect(tile.videoWidth).toBe(WIDTH);
    expect(tile.videoHeight).toBe(HEIGHT);
    const expected = expectedBarColors(WIDTH, HEIGHT);
    const colors = await sampleVideoColors(page, CAMERA, expected);
    const bars = expected.map((bar, i) => ({
      bar: bar.name,
      distance: colorDistance(bar.rgb, colors[i] ?? { r: NaN, g: NaN, b: NaN }),
    }));
    seen.worstBarColorError = Math.round(Math.max(...bars.map((bar) => bar.distance)) * 10) / 10;
    expect(bars.filter((bar) => !(bar.distance <= COLOR_TOLERANCE))).toEqual([]);
  }, 40_000);

  it('keeps decoding and presenting frames', async () => {
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
    // Rates are recorded, not bounded (other jobs share these cores).
    seen.decodedFps = Math.round(((last.framesDecoded - first.framesDecoded) / seconds) * 10) / 10;
    seen.presentedFps = Math.round(((last.framesPresented - first.framesPresented) / seconds) * 10) / 10;
    expect(last.session).toBe(first.session);
  }, 30_000);

  it('shows a plausible glass-to-glass latency in the stats overlay', async () => {
    await page.evaluate(() => {
      document.querySelector<HTMLButtonElement>('.stats-toggle')?.click();
    }, undefined);
    const selector = `.tile[data-camera="${CAMERA}"] [data-stat="latency"]`;
    const text = await waitFor('a latency readout in ms', async () => {
      const value = (await textOf(page, selector)) ?? '';
      return /^\d+ ms$/.test(value) ? value : undefined;
    });
    expect(Number.parseInt(text, 10)).toBeGreaterThanOrEqual(5);
    const tile = await waitForTile(page, CAMERA, 'latency', (candidate) => candidate.latencyMs !== null);
    seen.latencyMs = tile.latencyMs ?? NaN;
    seen.codec = tile.codec ?? 'unknown';
    // Positive: capture, encoding and decoding take time; a wrong clock offset shows as ≤ 0.
    expect(tile.latencyMs).toBeGreaterThanOrEqual(5);
    const resolution = await textOf(page, `.tile[data-camera="${CAMERA}"] [data-stat="resolution"]`);
    expect(resolution).toBe(`${WIDTH}×${HEIGHT}`);
  });

  it('keeps playing through a signaling server restart and re-offers to the new one', async () => {
    const before = await waitForTile(page, CAMERA, 'live', isLive);
    await signal.kill();
    await sleep(1000);
    const during = await waitForTile(page, CAMERA, 'still live', isLive);
    expect(during.statusText).toBe('live (signaling reconnecting)');
    const restartedAt = Date.now();
    signal = await startSignal(SUITE, stack);
    const after = await waitForTile(
      page,
      CAMERA,
      'live, bound to the new registration',
      (tile) => isLive(tile) && tile.senderId !== before.senderId && tile.statusText === 'live',
      15_000,
    );
    seen.resumeAfterSignalingRestartMs = Date.now() - restartedAt;
    await waitForTile(
      page,
      CAMERA,
      'more frames',
      (tile) => tile.framesPresented > after.framesPresented + 10,
    );
    await page.close();
  }, 40_000);
});

describe('Firefox and an H.264-only sender', () => {
  let browser: ViewerBrowser;
  let h264: Service;

  beforeAll(async () => {
    h264 = await Service.start(
      SUITE,
      'sender',
      {
        SIGNALING_URL: stack.signalingUrl,
        HEALTH_PORT: String(stack.healthPort + 1),
        SENDER_NAME: 'e2e-h264-robot',
        CAMERAS: 'h264cam=testpattern:320x240@15',
        CODEC: 'h264',
      },
      `http://127.0.0.1:${stack.healthPort + 1}/healthz`,
      'sender-h264',
    );
    browser = await launchViewerBrowser('firefox');
  }, 60_000);

  afterAll(async () => {
    await (browser as ViewerBrowser | undefined)?.close();
    await (h264 as Service | undefined)?.stop();
  });

  it('says on the tile why it cannot play instead of staying black', async () => {
    const page = await browser.openViewer(stack.pageUrl, SUITE);
    const tile = await waitForTile(page, 'h264cam', 'an error', (t) => t.status === 'error', 20_000);
    expect(tile.statusText).toBe(
      'error: this browser cannot play H.264, the codec this camera sends: open the page in a browser that plays H.264 (e.g. Chromium), or run the sender with CODEC=vp8 (every browser plays VP8)',
    );
    // Shown at the first refusal (refusals are retried only every 8–10 s), on the status line.
    expect(tile.sessionsStarted).toBe(1);
    const line = await page.evaluate(
      () => document.querySelector('.tile[data-camera="h264cam"] .status')?.textContent ?? null,
      undefined,
    );
    expect(line).toBe(tile.statusText);
    // The VP8 camera of the other sender plays in the same page.
    await waitForTile(page, CAMERA, 'the VP8 camera live', isLive, 20_000);
    await page.close();
  }, 60_000);
});
