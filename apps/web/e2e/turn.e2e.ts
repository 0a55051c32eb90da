// Video through a TURN relay, both ends forced to relay: a real coturn (Debian's) checks TURN
// REST credentials; the web server derives short-lived ones for the page from the shared secret
// (ICE_SECRET), the sender uses static ones derived by the test (ICE_USERNAME/ICE_CREDENTIAL);
// ICE_TRANSPORT_POLICY=relay on both. Chromium plays the right colours and its selected candidate
// pair is relay on both sides.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectedBarColors } from '@robocam/testpattern';
import { turnRestCredentials } from '@robocam/viewer';
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
  ARTIFACTS,
  clearArtifacts,
  stackOn,
  startSender,
  startSignal,
  startWeb,
  type Service,
} from './support/services.js';
import { findTurnserver, TurnServer } from './support/turn.js';

const SUITE = 'turn';
const stack = stackOn(54_000);
const TURN_PORT = 54_478;
const SECRET = 'e2e-turn-secret';
const CAMERA = 'testpattern';
const WIDTH = 320;
const HEIGHT = 240;
/** Per-channel tolerance for bar colours after VP8 and the browser's YUV → RGB conversion. */
const COLOR_TOLERANCE = 24;

let turn: TurnServer;
let signal: Service;
let sender: Service;
let web: Service;
let browser: Browser;
const metrics: Record<string, number | string> = {};

beforeAll(async () => {
  findChromium();
  findTurnserver();
  clearArtifacts(SUITE);
  turn = await TurnServer.start(SUITE, { port: TURN_PORT, secret: SECRET });
  signal = await startSignal(SUITE, stack);
  const senderCredentials = turnRestCredentials(SECRET, { name: 'e2e-sender', ttlSec: 3600 });
  [web, sender] = await Promise.all([
    startWeb(SUITE, stack, {
      PUBLIC_SIGNALING_URL: stack.signalingUrl,
      ICE_SERVERS: turn.url,
      ICE_SECRET: SECRET,
      ICE_CREDENTIAL_TTL: '600',
      ICE_TRANSPORT_POLICY: 'relay',
    }),
    startSender(SUITE, stack, {
      CAMERAS: `testpattern:${WIDTH}x${HEIGHT}@15`,
      ICE_SERVERS: turn.url,
      ICE_USERNAME: senderCredentials.username,
      ICE_CREDENTIAL: senderCredentials.credential,
      ICE_TRANSPORT_POLICY: 'relay',
    }),
  ]);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await (browser as Browser | undefined)?.close();
  await Promise.all(
    [sender, web, signal, turn].map(async (service) => {
      await (service as Service | TurnServer | undefined)?.stop();
    }),
  );
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, `${SUITE}-metrics.json`), `${JSON.stringify(metrics, null, 2)}\n`);
  console.log(`TURN e2e measurements: ${JSON.stringify(metrics, null, 2)}`);
}, 30_000);

/** The local and remote candidate types of every peer connection's selected pair. */
function selectedPairs(page: Page): Promise<{ local: string; remote: string; protocol: string }[]> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __robocamPeers: RTCPeerConnection[] }).__robocamPeers;
    const pairs: { local: string; remote: string; protocol: string }[] = [];
    for (const pc of pcs) {
      if (pc.connectionState !== 'connected') continue;
      const stats = new Map<string, Record<string, unknown>>();
      (await pc.getStats()).forEach((report: Record<string, unknown>) => {
        stats.set(report.id as string, report);
      });
      for (const report of stats.values()) {
        if (report.type !== 'transport' || typeof report.selectedCandidatePairId !== 'string') continue;
        const pair = stats.get(report.selectedCandidatePairId);
        const local = stats.get(pair?.localCandidateId as string);
        const remote = stats.get(pair?.remoteCandidateId as string);
        pairs.push({
          local: String(local?.candidateType),
          remote: String(remote?.candidateType),
          protocol: String(local?.protocol),
        });
      }
    }
    return pairs;
  });
}

describe('through a TURN relay (coturn, REST credentials)', () => {
  it('hands the page short-lived TURN credentials and the relay policy', async () => {
    const config = (await (await fetch(new URL('/config.json', stack.pageUrl))).json()) as {
      iceServers: { urls: string[]; username: string; credential: string }[];
      iceTransportPolicy: string;
    };
    expect(config.iceTransportPolicy).toBe('relay');
    expect(config.iceServers).toEqual([
      { urls: [turn.url], username: expect.stringMatching(/^\d+:robocam$/), credential: expect.any(String) },
    ]);
  });

  it('plays through the relay, with the right colours, on a relay-relay candidate pair', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    // Keeps the page's peer connections reachable for getStats (the page itself exposes none).
    await context.addInitScript(() => {
      const Native = window.RTCPeerConnection;
      const peers: RTCPeerConnection[] = [];
      (window as unknown as { __robocamPeers: RTCPeerConnection[] }).__robocamPeers = peers;
      window.RTCPeerConnection = class extends Native {
        constructor(configuration?: RTCConfiguration) {
          super(configuration);
          peers.push(this);
        }
      };
    });
    const page = await openViewer(context, stack.pageUrl, SUITE);
    const tile = await waitForTile(page, CAMERA, 'live through TURN', isLive, 20_000);
    metrics.timeToFirstFrameThroughTurnMs = Math.round(tile.firstFrameAt ?? NaN);
    expect(tile.videoWidth).toBe(WIDTH);

    const expected = expectedBarColors(WIDTH, HEIGHT);
    const seen = await sampleVideoColors(page, CAMERA, expected);
    const wrong = expected.filter(
      (bar, i) => !(colorDistance(bar.rgb, seen[i] ?? { r: NaN, g: NaN, b: NaN }) <= COLOR_TOLERANCE),
    );
    expect(wrong).toEqual([]);

    const pairs = await selectedPairs(page);
    metrics.selectedPair = JSON.stringify(pairs);
    expect(pairs).toEqual([{ local: 'relay', remote: 'relay', protocol: 'udp' }]);
    await waitForTile(page, CAMERA, 'more frames', (t) => t.framesPresented > tile.framesPresented + 10);
    await context.close();
  }, 45_000);
});
