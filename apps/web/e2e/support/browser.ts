import { accessSync, appendFileSync, constants, mkdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser as PuppeteerBrowser, type Page as PuppeteerPage } from 'puppeteer-core';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';
import type { RobocamHook, TileSnapshot } from '@robocam/viewer';
import { ARTIFACTS, waitFor } from './services.js';

export type { RobocamHook, TileSnapshot };

declare global {
  interface Window {
    /** The viewer page's test hook (installed by @robocam/viewer's page). */
    robocam?: RobocamHook;
  }
}

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
];

/**
 * The Chromium binary to test with: CHROMIUM_PATH, else a system install. Throws (the suite fails,
 * it is never skipped) with what to do when there is none.
 */
export function findChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  const candidates = fromEnv !== undefined && fromEnv !== '' ? [fromEnv] : CANDIDATES;
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // try the next one
    }
  }
  const install =
    'The web viewer’s end-to-end tests need a real browser: install Chromium with `apt-get install chromium` ' +
    '(Debian/Ubuntu; `bash scripts/install-system-deps.sh` does it), or set CHROMIUM_PATH to a Chromium or Chrome binary.';
  throw new Error(
    fromEnv !== undefined && fromEnv !== ''
      ? `CHROMIUM_PATH=${fromEnv} is not an executable file. ${install}`
      : `No Chromium found (looked at ${CANDIDATES.join(', ')}). ${install}`,
  );
}

/** The flags WebRTC tests need from headless Chromium on a machine without a GPU. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  // Raw host addresses instead of .local names: werift would spend 10 s on an mDNS lookup.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/** Launches headless Chromium with {@link CHROMIUM_ARGS}. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), args: [...CHROMIUM_ARGS] });
}

/**
 * Opens the viewer in a new tab: of `browser` in a fresh context (own storage and window), or of an
 * existing context. The page's console goes to artifacts/e2e/<suite>-browser.log.
 */
export async function openViewer(
  browser: Browser | BrowserContext,
  url: string,
  suite: string,
  options: BrowserContextOptions = {},
): Promise<Page> {
  const context =
    'newContext' in browser
      ? await browser.newContext({ viewport: { width: 1280, height: 720 }, ...options })
      : browser;
  const page = await context.newPage();
  mkdirSync(ARTIFACTS, { recursive: true });
  const log = join(ARTIFACTS, `${suite}-browser.log`);
  page.on('console', (message) => {
    appendFileSync(log, `${new Date().toISOString()} [${message.type()}] ${message.text()}\n`);
  });
  page.on('pageerror', (error) => {
    appendFileSync(log, `${new Date().toISOString()} [pageerror] ${error.message}\n`);
  });
  await page.goto(url);
  return page;
}

/** The test hook's tiles (`window.robocam.tiles`), with the page's clock. */
export async function readTiles(page: Page | ViewerPage): Promise<{ now: number; tiles: TileSnapshot[] }> {
  return viewerPage(page).evaluate(
    () => ({ now: performance.now(), tiles: window.robocam?.tiles ?? [] }),
    undefined,
  );
}

/** The tile of `camera`, waiting for it to exist. */
export async function tileOf(page: Page | ViewerPage, camera: string): Promise<TileSnapshot> {
  return waitFor(
    `a tile for ${camera}`,
    async () => (await readTiles(page)).tiles.find((tile) => tile.camera === camera),
    {
      timeoutMs: 10_000,
    },
  );
}

/** Waits until `camera`'s tile satisfies `predicate`; returns that snapshot. */
export async function waitForTile(
  page: Page | ViewerPage,
  camera: string,
  what: string,
  predicate: (tile: TileSnapshot) => boolean,
  timeoutMs = 10_000,
): Promise<TileSnapshot> {
  let last: TileSnapshot | undefined;
  try {
    return await waitFor(
      `${camera}: ${what}`,
      async () => {
        last = (await readTiles(page)).tiles.find((tile) => tile.camera === camera);
        return last !== undefined && predicate(last) ? last : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last state: ${JSON.stringify(last)}`, { cause: error });
  }
}

/** A tile that is live and presenting frames. */
export const isLive = (tile: TileSnapshot): boolean => tile.status === 'live' && tile.framesPresented > 0;

/**
 * Averages the colour of squares of the displayed video of `camera`, drawn at its own size into a
 * canvas (what the decoder produced, before any scaling on screen).
 */
export async function sampleVideoColors(
  page: Page | ViewerPage,
  camera: string,
  points: readonly { x: number; y: number; radius: number }[],
): Promise<{ r: number; g: number; b: number }[]> {
  return viewerPage(page).evaluate(
    ({ camera: id, points: squares }) => {
      const video = document.querySelector<HTMLVideoElement>(`.tile[data-camera="${id}"] video[data-active]`);
      if (video === null) throw new Error(`no active video for ${id}`);
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      if (context === null) throw new Error('no 2d context');
      context.drawImage(video, 0, 0);
      return squares.map(({ x, y, radius }) => {
        const size = 2 * radius + 1;
        const data = context.getImageData(x - radius, y - radius, size, size).data;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let i = 0; i < data.length; i += 4) {
          r += data[i] ?? 0;
          g += data[i + 1] ?? 0;
          b += data[i + 2] ?? 0;
        }
        const n = data.length / 4;
        return { r: r / n, g: g / n, b: b / n };
      });
    },
    { camera, points },
  );
}

/** Largest per-channel difference between two colours. */
export function colorDistance(
  a: { r: number; g: number; b: number },
  b: { r: number; g: number; b: number },
): number {
  return Math.max(Math.abs(a.r - b.r), Math.abs(a.g - b.g), Math.abs(a.b - b.b));
}

// ---- both browsers ---------------------------------------------------------------------------

export type BrowserName = 'chromium' | 'firefox';

/**
 * A viewer tab in either browser: what the browser-agnostic suites need. Chromium is driven by
 * playwright-core, Firefox by puppeteer-core over WebDriver BiDi (playwright-core cannot drive a
 * stock Firefox).
 */
export interface ViewerPage {
  readonly browserName: BrowserName;
  /** Runs `fn(arg)` in the page (serialised: it must not close over test variables). */
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  /** The address bar's URL. */
  url(): string;
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** A running browser that opens viewer tabs, each in a fresh context (own storage). */
export interface ViewerBrowser {
  readonly name: BrowserName;
  /** Opens `url`; the page's console goes to artifacts/e2e/<suite>-<browser>.log. */
  openViewer(url: string, suite: string): Promise<ViewerPage>;
  close(): Promise<void>;
}

/** The playwright page as a {@link ViewerPage} (the helpers above take either). */
export function viewerPage(page: Page | ViewerPage): ViewerPage {
  if ('browserName' in page) return page;
  return {
    browserName: 'chromium',
    evaluate: <R, A>(fn: (arg: A) => R | Promise<R>, arg: A) =>
      page.evaluate(fn as (arg: unknown) => R | Promise<R>, arg as unknown),
    url: () => page.url(),
    reload: async () => {
      await page.reload();
    },
    close: () => page.context().close(),
  };
}

const FIREFOX_CANDIDATES = ['/usr/bin/firefox-esr', '/usr/bin/firefox'];

/**
 * The Firefox binary to test with: FIREFOX_PATH, else Debian's firefox-esr. Throws (the suite
 * fails, it is never skipped) with what to do when there is none.
 */
export function findFirefox(): string {
  const fromEnv = process.env.FIREFOX_PATH;
  const candidates = fromEnv !== undefined && fromEnv !== '' ? [fromEnv] : FIREFOX_CANDIDATES;
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    `No Firefox found (looked at ${candidates.join(', ')}). Install it with \`apt-get install firefox-esr\` ` +
      '(`bash scripts/install-system-deps.sh` does it), or set FIREFOX_PATH.',
  );
}

/**
 * Firefox gathers no UDP host candidate on 127.x (and nothing without a default route): it needs a
 * routable address. Inside ../shared/netns/run-isolated.sh that is RUN_ISOLATED_ROUTABLE=1.
 */
export function assertFirefoxCanGather(): void {
  const routable = Object.values(networkInterfaces())
    .flat()
    .some(
      (address) =>
        address !== undefined &&
        address.family === 'IPv4' &&
        !address.internal &&
        !address.address.startsWith('127.'),
    );
  if (!routable) {
    throw new Error(
      'Firefox gathers no ICE candidate on 127.x addresses and this machine has no other IPv4 address: ' +
        'run the e2e tests with RUN_ISOLATED_ROUTABLE=1 ../shared/netns/run-isolated.sh …',
    );
  }
}

function logTo(suite: string, browser: BrowserName): (line: string) => void {
  mkdirSync(ARTIFACTS, { recursive: true });
  const log = join(ARTIFACTS, `${suite}-${browser}.log`);
  return (line) => {
    appendFileSync(log, `${new Date().toISOString()} ${line}\n`);
  };
}

/** Launches headless Firefox (puppeteer-core, WebDriver BiDi) with the preferences WebRTC tests need. */
export function launchFirefox(): Promise<PuppeteerBrowser> {
  assertFirefoxCanGather();
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: findFirefox(),
    headless: true,
    extraPrefsFirefox: {
      // Raw host addresses instead of .local names: werift would spend 10 s on an mDNS lookup.
      'media.peerconnection.ice.obfuscate_host_addresses': false,
      'media.autoplay.default': 0,
      'media.autoplay.blocking_policy': 0,
      'media.navigator.permission.disabled': true,
    },
  });
}

function firefoxPage(page: PuppeteerPage): ViewerPage {
  return {
    browserName: 'firefox',
    evaluate: <R, A>(fn: (arg: A) => R | Promise<R>, arg: A) =>
      page.evaluate(fn as (arg: unknown) => R | Promise<R>, arg),
    url: () => page.url(),
    reload: async () => {
      await page.reload();
    },
    close: () => page.browserContext().close(),
  };
}

/** Launches `name` (headless) as a {@link ViewerBrowser}. */
export async function launchViewerBrowser(name: BrowserName): Promise<ViewerBrowser> {
  if (name === 'chromium') {
    const browser = await launchChromium();
    return {
      name,
      openViewer: async (url, suite) => viewerPage(await openViewer(browser, url, `${suite}-chromium`)),
      close: () => browser.close(),
    };
  }
  const browser = await launchFirefox();
  return {
    name,
    openViewer: async (url, suite) => {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.setViewport({ width: 1280, height: 720 });
      const log = logTo(suite, 'firefox');
      page.on('console', (message) => {
        log(`[${message.type()}] ${message.text()}`);
      });
      page.on('pageerror', (error) => {
        log(`[pageerror] ${error instanceof Error ? error.message : String(error)}`);
      });
      await page.goto(url);
      return firefoxPage(page);
    },
    close: () => browser.close(),
  };
}
