// Firefox beside Chromium (issue #15): the real apps (signal, sender, web from their dist/) and the
// real viewer page in each browser, one at a time, on one 1280x720@30 VP8 test-pattern camera.
// Per browser: presented fps and glass-to-glass latency of every presented frame (bench/lib/page-probe.mjs:
// requestVideoFrameCallback + the timecode strip, one clock), plus the page's own latency readout.
//   npx nx run-many -t build -p signal sender web
//   flock /tmp/robocam-heavy.lock node bench/browsers.mjs [--seconds 20]
// Runs itself inside ../shared/netns/run-isolated.sh with RUN_ISOLATED_ROUTABLE=1 (Firefox gathers
// no ICE candidate on 127.x). Chromium via playwright-core, Firefox (Debian's firefox-esr) via
// puppeteer-core over WebDriver BiDi.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  argument,
  isolate,
  launchChromium,
  percentile,
  requireBuilt,
  root,
  startApp,
  startStack,
  waitForHttp,
} from './lib/harness.mjs';
import { drainProbe, probeScript } from './lib/page-probe.mjs';

process.env.RUN_ISOLATED_ROUTABLE = '1';
isolate(import.meta.url, process.argv.slice(2));
requireBuilt();

const seconds = Number(argument(process.argv, '--seconds') ?? 20);
const WARMUP_MS = 5000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const stack = await startStack({ signalPort: 47_650, cameras: 'testpattern:1280x720@30' });
const webPort = 47_660;
const web = startApp('web', {
  PORT: String(webPort),
  HOST: '127.0.0.1',
  PUBLIC_SIGNALING_URL: stack.signalingUrl,
});
await waitForHttp(`http://127.0.0.1:${webPort}/healthz`);
const pageUrl = `http://127.0.0.1:${webPort}/`;
const script = await probeScript();

/** Opens the viewer with the probe in `name`; returns { page, close }. */
async function open(name) {
  if (name === 'chromium') {
    const browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    await context.addInitScript({ content: script });
    const page = await context.newPage();
    await page.goto(pageUrl);
    return { page, version: browser.version(), close: () => browser.close() };
  }
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
    headless: true,
    extraPrefsFirefox: {
      'media.peerconnection.ice.obfuscate_host_addresses': false,
      'media.autoplay.default': 0,
      'media.autoplay.blocking_policy': 0,
    },
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 720 });
  await page.evaluateOnNewDocument(script);
  await page.goto(pageUrl);
  return { page, version: await browser.version(), close: () => browser.close() };
}

const results = [];
try {
  for (const name of ['chromium', 'firefox']) {
    const { page, version, close } = await open(name);
    try {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const live = await page.evaluate(() => window.robocam?.tiles[0]?.status === 'live');
        if (live) break;
        await sleep(200);
      }
      await sleep(WARMUP_MS);
      await drainProbe(page);
      const started = Date.now();
      await sleep(seconds * 1000);
      const { frames } = await drainProbe(page);
      const elapsed = (Date.now() - started) / 1000;
      const active = frames.filter((frame) => frame[2] === 1);
      const latencies = active
        .map((frame) => frame[1])
        .filter((value) => value !== null)
        .sort((a, b) => a - b);
      const readout = await page.evaluate(() => window.robocam?.tiles[0]?.latencyMs ?? null);
      const row = {
        browser: name,
        version,
        fps: Math.round((active.length / elapsed) * 10) / 10,
        latencyP50Ms: Math.round(percentile(latencies, 0.5)),
        latencyP95Ms: Math.round(percentile(latencies, 0.95)),
        framesWithTimecode: latencies.length,
        pageReadoutMs: readout === null ? null : Math.round(readout),
      };
      results.push(row);
      console.log(JSON.stringify(row));
    } finally {
      await close();
    }
  }
} finally {
  await web.stop();
  await stack.stop();
}

writeFileSync(
  resolve(root, 'bench/browsers-results.json'),
  `${JSON.stringify({ seconds, results }, null, 2)}\n`,
);
console.log('\n| browser | fps | latency p50 / p95 ms | page readout ms |\n| --- | ---: | ---: | ---: |');
for (const row of results) {
  console.log(
    `| ${row.browser} ${row.version} | ${row.fps} | ${row.latencyP50Ms} / ${row.latencyP95Ms} | ${row.pageReadoutMs ?? '–'} |`,
  );
}
