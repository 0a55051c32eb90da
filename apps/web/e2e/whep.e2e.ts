// WHEP interop: a WHEP player this project did not write (@eyevinn/webrtc-player, bundled locally
// with esbuild, no CDN) plays the sender's camera in real Chromium through the signaling server's
// WHEP endpoint. A WHEP viewer is an ordinary viewer for the sender.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openViewer } from './support/browser.js';
import {
  clearArtifacts,
  REPO_ROOT,
  senderCameraStats,
  stackOn,
  startSender,
  startSignal,
  waitFor,
  type Service,
} from './support/services.js';

const SUITE = 'whep';
const stack = stackOn(38_000);
const services: Service[] = [];
let browser: Browser;
let pageServer: Server;
let pageUrl: string;

beforeAll(async () => {
  clearArtifacts(SUITE);
  services.push(await startSignal(SUITE, stack));
  services.push(await startSender(SUITE, stack, { CAMERAS: 'testpattern:640x480@30' }));
  const bundle = await build({
    stdin: {
      contents: "import { WebRTCPlayer } from '@eyevinn/webrtc-player'; window.WebRTCPlayer = WebRTCPlayer;",
      resolveDir: REPO_ROOT,
    },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  const player = bundle.outputFiles[0]?.text ?? '';
  const html =
    '<!doctype html><meta charset="utf-8"><video id="video" muted autoplay playsinline></video><script src="/player.js"></script>';
  pageServer = createServer((request, response) => {
    if (request.url === '/player.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      response.end(player);
    } else {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(html);
    }
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}/`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser.close();
  await new Promise((resolve) => pageServer.close(resolve));
  for (const service of services.reverse()) await service.stop();
});

async function whepSessions(): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${stack.signalPort}/metrics`)).text();
  return Number(/^robocam_whep_sessions (\d+)/m.exec(metrics)?.[1] ?? NaN);
}

describe('WHEP with @eyevinn/webrtc-player in Chromium', () => {
  it('plays the camera, counts as a viewer, and ends the session on unload', async () => {
    const page: Page = await openViewer(browser, pageUrl, SUITE);
    const whepUrl = `http://127.0.0.1:${stack.signalPort}/whep`;
    await page.evaluate(async (url) => {
      const w = window as unknown as {
        WebRTCPlayer: new (options: object) => { load(url: URL): Promise<void>; unload(): Promise<void> };
        player: { unload(): Promise<void> };
        frames: number;
      };
      const video = document.getElementById('video') as HTMLVideoElement;
      w.frames = 0;
      const count = (): void => {
        w.frames += 1;
        video.requestVideoFrameCallback(count);
      };
      video.requestVideoFrameCallback(count);
      w.player = new w.WebRTCPlayer({ video, type: 'whep', iceServers: [] });
      await (w.player as unknown as { load(url: URL): Promise<void> }).load(new URL(url));
    }, whepUrl);

    await waitFor(
      'the WHEP player to show video',
      () => page.evaluate(() => (document.getElementById('video') as HTMLVideoElement).videoWidth === 640),
      { timeoutMs: 15_000 },
    );
    const size = await page.evaluate(() => {
      const video = document.getElementById('video') as HTMLVideoElement;
      return [video.videoWidth, video.videoHeight];
    });
    expect(size).toEqual([640, 480]);
    const before = await page.evaluate(() => (window as unknown as { frames: number }).frames);
    const startedAt = performance.now();
    await waitFor(
      'the WHEP player to present 30 more frames',
      async () =>
        (await page.evaluate(() => (window as unknown as { frames: number }).frames)) >= before + 30,
      { timeoutMs: 20_000 },
    );
    const fps = (30 * 1000) / (performance.now() - startedAt);
    process.stdout.write(
      `whep: @eyevinn/webrtc-player presented ${fps.toFixed(1)} fps (printed, not asserted)\n`,
    );

    expect(await whepSessions()).toBe(1);
    const [camera] = await senderCameraStats(stack);
    expect(camera).toMatchObject({ running: true, viewers: 1 });

    // unload() ends the session with DELETE on the Location the endpoint gave.
    await page.evaluate(async () => {
      await (window as unknown as { player: { unload(): Promise<void> } }).player.unload();
    });
    await waitFor('the WHEP session to end', async () => (await whepSessions()) === 0, { timeoutMs: 10_000 });
    await waitFor('the encoder to stop', async () => (await senderCameraStats(stack))[0]?.running === false, {
      timeoutMs: 10_000,
    });
    await page.close();
  }, 60_000);
});
