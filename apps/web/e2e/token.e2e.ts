// The viewer page against a signaling server with VIEWER_TOKEN set, in a real Chromium: the page
// asks for the token, refuses a wrong one with a clear message, plays with the right one, keeps it
// for the tab's session only, and takes one from a `#token=…` link out of the address bar.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectedBarColors } from '@robocam/testpattern';
import type { Browser, Page } from 'playwright-core';
import {
  colorDistance,
  findChromium,
  isLive,
  launchChromium,
  openViewer,
  sampleVideoColors,
  waitForTile,
} from './support/browser.js';
import {
  clearArtifacts,
  stackOn,
  startSender,
  startSignal,
  startWeb,
  waitFor,
  type Service,
} from './support/services.js';

const SUITE = 'token';
const stack = stackOn(52_000);
const CAMERA = 'testpattern';
const WIDTH = 320;
const HEIGHT = 240;
const TOKEN = 'right-token-Zq3';
/** Per-channel tolerance for bar colours after VP8 and the browser's YUV → RGB conversion. */
const COLOR_TOLERANCE = 24;

let signal: Service;
let sender: Service;
let web: Service;
let browser: Browser;

beforeAll(async () => {
  findChromium();
  clearArtifacts(SUITE);
  signal = await startSignal(SUITE, stack, { VIEWER_TOKEN: TOKEN });
  [web, sender] = await Promise.all([
    startWeb(SUITE, stack, { PUBLIC_SIGNALING_URL: stack.signalingUrl }),
    startSender(SUITE, stack, { CAMERAS: `testpattern:${WIDTH}x${HEIGHT}@15` }),
  ]);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await (browser as Browser | undefined)?.close();
  await Promise.all(
    [sender, web, signal].map(async (service) => {
      await (service as Service | undefined)?.stop();
    }),
  );
}, 30_000);

/** The token form's message once it shows `pattern`. */
async function formMessage(page: Page, pattern: RegExp): Promise<string> {
  const form = page.getByRole('form', { name: 'Viewer token required' });
  await form.waitFor({ state: 'visible' });
  return waitFor(`the token form to say ${String(pattern)}`, async () => {
    const text = (await form.getByRole('alert').textContent()) ?? '';
    return pattern.test(text) ? text : undefined;
  });
}

async function expectRightColors(page: Page): Promise<void> {
  const expected = expectedBarColors(WIDTH, HEIGHT);
  const seen = await sampleVideoColors(page, CAMERA, expected);
  const wrong = expected.filter(
    (bar, i) => !(colorDistance(bar.rgb, seen[i] ?? { r: NaN, g: NaN, b: NaN }) <= COLOR_TOLERANCE),
  );
  expect(wrong).toEqual([]);
}

const storedToken = (page: Page): Promise<string | null> =>
  page.evaluate(() => sessionStorage.getItem('robocam.token'));

describe('viewer token', () => {
  let page: Page;

  it('asks for a token when the server requires one', async () => {
    page = await openViewer(browser, stack.pageUrl, SUITE);
    const message = await formMessage(page, /needs a viewer token/);
    expect(message).toBe('This robot’s signaling server needs a viewer token. Enter the one you were given.');
    await expect(page.getByRole('status').textContent()).resolves.toMatch(/viewer token is required/);
    expect(await page.evaluate(() => window.robocam?.tiles.length)).toBe(0);
  });

  it('refuses a wrong token with a clear message and does not keep it', async () => {
    await page.getByLabel('Viewer token', { exact: true }).fill('wrong-token');
    await page.getByRole('button', { name: 'Connect' }).click();
    const message = await formMessage(page, /refused/);
    expect(message).toBe('The signaling server refused this token. Check it and try again.');
    expect(await storedToken(page)).toBeNull();
    expect(await page.evaluate(() => window.robocam?.tiles.length)).toBe(0);
  });

  it('plays with the right token, with the right colours, and keeps it for the tab’s session', async () => {
    await page.getByLabel('Viewer token', { exact: true }).fill(TOKEN);
    await page.getByRole('button', { name: 'Connect' }).click();
    await waitForTile(page, CAMERA, 'live', isLive, 15_000);
    await expect(page.getByRole('form', { name: 'Viewer token required' }).isVisible()).resolves.toBe(false);
    await expectRightColors(page);
    expect(await storedToken(page)).toBe(TOKEN);
    expect(await page.evaluate(() => localStorage.getItem('robocam.token'))).toBeNull();
    // A reload in the same tab plays without asking again.
    await page.reload();
    await waitForTile(page, CAMERA, 'live after a reload', isLive, 15_000);
    await page.context().close();
  });

  it('takes a token from the URL fragment and removes it from the address bar', async () => {
    const linked = await openViewer(browser, `${stack.pageUrl}#token=${encodeURIComponent(TOKEN)}`, SUITE);
    try {
      await waitForTile(linked, CAMERA, 'live from a #token link', isLive, 15_000);
      expect(linked.url()).toBe(stack.pageUrl);
      expect(await linked.evaluate(() => window.location.hash)).toBe('');
      expect(await storedToken(linked)).toBe(TOKEN);
      await expectRightColors(linked);
    } finally {
      await linked.context().close();
    }
  });

  it('asks again when a linked token is wrong', async () => {
    const linked = await openViewer(browser, `${stack.pageUrl}#token=nope`, SUITE);
    try {
      await formMessage(linked, /refused/);
      expect(linked.url()).toBe(stack.pageUrl);
      expect(await storedToken(linked)).toBeNull();
    } finally {
      await linked.context().close();
    }
  });
});
