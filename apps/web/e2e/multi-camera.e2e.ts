// Two cameras on one sender: two tiles playing at their own sizes, a tile hidden behind an enlarged
// one and a tab in the background stop watching (the sender's encoders stop), a phone-sized screen.
// The page finds the signaling server by itself here (its own host, SIGNALING_PORT).
import { mkdirSync } from 'node:fs';
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
import {
  ARTIFACTS,
  clearArtifacts,
  senderCameraStats,
  stackOn,
  startSender,
  startSignal,
  startWeb,
  waitFor,
  type Service,
} from './support/services.js';

const SUITE = 'multi-camera';
const stack = stackOn(28_000);
const CAMERAS = [
  { id: 'testpattern', width: 640, height: 480 },
  { id: 'testpattern-2', width: 320, height: 240 },
] as const;

let signal: Service;
let sender: Service;
let web: Service;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  findChromium();
  clearArtifacts(SUITE);
  signal = await startSignal(SUITE, stack);
  [web, sender] = await Promise.all([
    startWeb(SUITE, stack, { SIGNALING_PORT: String(stack.signalPort) }),
    startSender(SUITE, stack, {
      CAMERAS: CAMERAS.map((camera) => `testpattern:${camera.width}x${camera.height}@30`).join(','),
    }),
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
}, 30_000);

/** Waits until the sender reports `viewers` for `camera` (and a stopped encoder at 0). */
async function expectSenderViewers(camera: string, viewers: number): Promise<void> {
  await waitFor(`${viewers} viewer(s) of ${camera} at the sender`, async () => {
    const stats = (await senderCameraStats(stack)).find((candidate) => candidate.id === camera);
    return stats !== undefined && stats.viewers === viewers && stats.running === viewers > 0;
  });
}

/** Makes the page see itself hidden or visible, as when its tab goes to the background and back. */
async function setPageVisibility(target: Page, state: 'hidden' | 'visible'): Promise<void> {
  await target.evaluate((visibility) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => visibility === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
}

describe('web viewer, two cameras', () => {
  it('derives the signaling URL from the page’s own host', async () => {
    const response = await fetch(new URL('/config.json', stack.pageUrl));
    expect(await response.json()).toEqual({ signalingUrl: `ws://127.0.0.1:${stack.signalPort}` });
    const csp = (await fetch(stack.pageUrl)).headers.get('content-security-policy');
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${stack.signalPort};`);
  });

  it('shows one tile per camera, each playing at its own size with the right colours', async () => {
    page = await openViewer(browser, stack.pageUrl, SUITE);
    for (const camera of CAMERAS) {
      const tile = await waitForTile(page, camera.id, 'live', isLive, 10_000);
      expect([tile.videoWidth, tile.videoHeight]).toEqual([camera.width, camera.height]);
      const expected = expectedBarColors(camera.width, camera.height);
      const seen = await sampleVideoColors(page, camera.id, expected);
      const bad = expected
        .map((bar, i) => ({
          bar: bar.name,
          distance: colorDistance(bar.rgb, seen[i] ?? { r: NaN, g: NaN, b: NaN }),
        }))
        .filter((bar) => !(bar.distance <= 28));
      expect(bad).toEqual([]);
    }
    expect((await readTiles(page)).tiles.map((tile) => tile.camera)).toEqual(
      CAMERAS.map((camera) => camera.id),
    );
    const boxes = await Promise.all(
      CAMERAS.map((camera) => page.locator(`.tile[data-camera="${camera.id}"]`).boundingBox()),
    );
    // A grid: side by side on a 1280 px wide window.
    expect(boxes[0]?.y).toBe(boxes[1]?.y);
    expect(boxes[1]?.x).toBeGreaterThan((boxes[0]?.x ?? 0) + (boxes[0]?.width ?? 0) - 1);
    await expectSenderViewers('testpattern-2', 1);
  });

  it('enlarges a tile on click and stops watching the camera hidden meanwhile', async () => {
    await page.locator('.tile[data-camera="testpattern"]').click();
    await waitForTile(page, 'testpattern-2', 'paused', (tile) => tile.status === 'paused', 5000);
    await expectSenderViewers('testpattern-2', 0);
    const big = await page.locator('.tile[data-camera="testpattern"]').boundingBox();
    expect(big?.width).toBeGreaterThan(1000);
    await waitForTile(page, 'testpattern', 'still live', isLive);

    await page.keyboard.press('Escape');
    await waitForTile(page, 'testpattern-2', 'live again', isLive, 10_000);
    await expectSenderViewers('testpattern-2', 1);
  });

  it('stops watching while the tab is in the background and resumes when it is back', async () => {
    // Headless Chromium keeps every tab visible (switching tabs or minimizing changes nothing), so
    // the browser's side is simulated: visibilityState reads 'hidden' and the event fires.
    await setPageVisibility(page, 'hidden');
    for (const camera of CAMERAS)
      await waitForTile(page, camera.id, 'paused', (tile) => tile.status === 'paused');
    expect((await readTiles(page)).tiles[0]?.statusText).toBe('paused (tab in background)');
    for (const camera of CAMERAS) await expectSenderViewers(camera.id, 0);

    await setPageVisibility(page, 'visible');
    for (const camera of CAMERAS) await waitForTile(page, camera.id, 'live again', isLive, 10_000);
    for (const camera of CAMERAS) await expectSenderViewers(camera.id, 1);
  });

  it('fits a phone screen: one column, inline muted playback', async () => {
    const phone = await openViewer(browser, stack.pageUrl, SUITE, {
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    try {
      for (const camera of CAMERAS) await waitForTile(phone, camera.id, 'live on the phone', isLive, 10_000);
      const boxes = await Promise.all(
        CAMERAS.map((camera) => phone.locator(`.tile[data-camera="${camera.id}"]`).boundingBox()),
      );
      expect(boxes[0]?.x).toBe(boxes[1]?.x);
      expect(boxes[1]?.y).toBeGreaterThan(boxes[0]?.y ?? 0);
      expect(boxes[0]?.width).toBeGreaterThan(340);
      expect(boxes[0]?.width).toBeLessThanOrEqual(390);
      const video = phone.locator('.tile[data-camera="testpattern"] video[data-active]');
      expect(
        await video.evaluate((element: HTMLVideoElement) => [
          element.muted,
          element.playsInline,
          element.autoplay,
        ]),
      ).toEqual([true, true, true]);
      mkdirSync(ARTIFACTS, { recursive: true });
      await phone.screenshot({ path: join(ARTIFACTS, `${SUITE}-phone.png`) });
    } finally {
      await phone.context().close();
    }
  });
});
