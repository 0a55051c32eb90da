// Takes the viewer screenshot of the docs (docs/viewer.png): signal, a sender with two test-pattern
// cameras and the web server on spare ports, headless Chromium at 960 px with the stats overlay on.
// Needs the apps built (`npx nx run-many -t build -p signal sender web`; web's build includes
// @robocam/viewer's page) and Chromium; from the
// repository root:
//
//   ../shared/netns/run-isolated.sh node apps/web/scripts/screenshot.mjs docs/viewer.png
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const output = resolve(process.argv[2] ?? 'docs/viewer.png');
const children = [];
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const start = (app, env) => {
  const child = spawn(process.execPath, [`apps/${app}/dist/main.js`], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
};

try {
  start('signal', { PORT: '38765' });
  start('web', { PORT: '38080', SIGNALING_PORT: '38765' });
  start('sender', {
    SIGNALING_URL: 'ws://127.0.0.1:38765',
    HEALTH_PORT: '38766',
    CAMERAS: 'testpattern:1280x720@30,testpattern:640x360@30',
    SENDER_NAME: 'rover-1',
  });
  await sleep(1500);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--autoplay-policy=no-user-gesture-required',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 960, height: 372 }, deviceScaleFactor: 1 });
    await page.goto('http://127.0.0.1:38080/');
    await page.waitForFunction(
      () =>
        window.robocam?.tiles.length === 2 &&
        window.robocam.tiles.every(
          (tile) => tile.status === 'live' && tile.latencyMs !== null && tile.bitrateKbps !== null,
        ),
      null,
      { timeout: 20_000 },
    );
    await page.getByRole('button', { name: 'Stats' }).click();
    await sleep(4000); // a few seconds of stats
    await page.screenshot({ path: output });
    console.log(`wrote ${output}`);
  } finally {
    await browser.close();
  }
} finally {
  for (const child of children) child.kill('SIGTERM');
  await sleep(500);
}
