// The connectivity doctor (issue #15) against failures provoked for real, in Chromium and robocam in
// one process (apps/robocam): a camera that is lost, a robot that offers only addresses the browser
// cannot reach, and a DTLS handshake that fails. Each tile's panel (and `window.robocam`) must name
// the failure; the robot's `GET /doctor` names what the robot itself can tell (the lost camera).
// one-process.e2e.ts covers the playing verdict and a network without any UDP.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { findChromium, isLive, launchChromium, openViewer, waitForTile } from './support/browser.js';
import { clearArtifacts, Service, stackOn } from './support/services.js';
import { assertCanShape, blockUdpPorts, clearShaping } from './support/shaping.js';

const SUITE = 'doctor';
const { webPort: port, pageUrl } = stackOn(62_000);
const CAMERA = 'testpattern';
/** A V4L2 camera whose device does not exist: lost from the start, the sender keeps retrying. */
const GONE = 'gone';
const GONE_DEVICE = '/dev/robocam-e2e-no-such-camera';
/**
 * The sender's UDP ports: an aligned power-of-two block (`blockUdpPorts` cuts it with one mask),
 * outside the kernel's ephemeral range (32768–60999) so no browser socket shares it.
 */
const RTC_PORT_BASE = 62_464;
const RTC_PORT_COUNT = 64;
/** TEST-NET-1 (RFC 5737): an address nobody answers at, as a wrong ANNOUNCED_IPS would be. */
const UNREACHABLE = '192.0.2.1';

let robocam: Service;
let browser: Browser;
let page: Page;

interface DoctorBody {
  verdict: { code: string; ok: boolean; summary: string };
}

const panelOf = (p: Page, camera: string) => p.locator(`.tile[data-camera="${camera}"] .doctor`);

beforeAll(async () => {
  findChromium(); // fail first, with the installation hint, if there is no browser
  assertCanShape(); // the unreachable-address test cuts the sender's ports: inside run-isolated.sh only
  clearArtifacts(SUITE);
  robocam = await Service.start(
    SUITE,
    'robocam',
    {
      PORT: String(port),
      CAMERAS: `${CAMERA}:320x240@15,${GONE}=${GONE_DEVICE}:320x240@15`,
      SENDER_NAME: 'e2e-robot',
      RTC_PORT_RANGE: `${RTC_PORT_BASE}-${RTC_PORT_BASE + RTC_PORT_COUNT - 1}`,
      ANNOUNCED_IPS: UNREACHABLE,
    },
    new URL('/healthz', pageUrl).href,
  );
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  clearShaping();
  await (browser as Browser | undefined)?.close();
  await (robocam as Service | undefined)?.stop();
}, 30_000);

describe('the connectivity doctor', () => {
  it('says the camera is lost, on its tile and on the robot’s /doctor', async () => {
    page = await openViewer(browser, pageUrl, SUITE);
    const tile = await waitForTile(
      page,
      GONE,
      'the doctor’s verdict',
      (t) => t.doctor?.verdict.code === 'camera-lost',
      20_000,
    );
    expect(tile.doctor?.verdict.ok).toBe(false);
    expect(tile.doctor?.verdict.summary).toContain(GONE_DEVICE);
    const panel = panelOf(page, GONE);
    expect(await panel.getAttribute('data-verdict')).toBe('camera-lost');
    expect(await panel.locator('summary').textContent()).toContain('The camera is lost on the robot');
    expect(await panel.locator('.next-step').textContent()).toContain('Check its cable and power');
    // The robot's side says so too, naming the camera.
    const robot = (await (await fetch(new URL('/doctor', pageUrl))).json()) as DoctorBody;
    expect(robot.verdict).toMatchObject({ code: 'camera-lost', ok: false });
    expect(robot.verdict.summary).toContain(GONE);
    // The other camera of the same robot plays, over one of the robot's real addresses (the
    // announced one is offered as well but never answers).
    const live = await waitForTile(
      page,
      CAMERA,
      'playing',
      (t) => isLive(t) && t.doctor?.verdict.code === 'playing',
      20_000,
    );
    expect(live.doctor?.facts.remoteCandidates.map((c) => c.address)).toContain(UNREACHABLE);
    expect(live.doctor?.facts.selectedPair?.remote.address).not.toBe(UNREACHABLE);
    await page.context().close();
  }, 60_000);

  it('says no UDP path, naming the unreachable address the robot announced', async () => {
    // The robot's own addresses cut off (as its private addresses are behind NAT): all it offers
    // that could work is ANNOUNCED_IPS, and nobody answers there.
    blockUdpPorts(RTC_PORT_BASE, RTC_PORT_COUNT);
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
      expect(tile.doctor?.verdict.nextStep).toContain('ANNOUNCED_IPS');
      expect(tile.doctor?.facts.remoteCandidates.map((c) => c.address)).toContain(UNREACHABLE);
      expect(tile.doctor?.facts.packetsReceived).toBe(0);
      const panel = panelOf(blocked, CAMERA);
      expect(await panel.getAttribute('data-ok')).toBe('false');
      const summary = await panel.locator('summary').textContent();
      expect(summary).toContain('No UDP path');
      expect(summary).toContain(`${UNREACHABLE}:`);
      await blocked.context().close();
    } finally {
      clearShaping();
    }
  }, 60_000);

  it('says DTLS failed when the handshake cannot be verified', async () => {
    // The answer's certificate fingerprint altered on its way into the page (an init script around
    // setRemoteDescription), as a middlebox rewriting the handshake would: ICE connects, then the
    // browser refuses the robot's certificate.
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    await context.addInitScript(() => {
      type SetRemote = (this: RTCPeerConnection, description: RTCSessionDescriptionInit) => Promise<void>;
      const prototype = RTCPeerConnection.prototype;
      const native = Object.getOwnPropertyDescriptor(prototype, 'setRemoteDescription')?.value as SetRemote;
      const tamper: SetRemote = function (description) {
        const sdp = description.sdp?.replace(
          /^(a=fingerprint:\S+ )([0-9A-F]{2})/gim,
          (_, prefix: string, byte: string) =>
            `${prefix}${((parseInt(byte, 16) + 1) & 0xff).toString(16).padStart(2, '0').toUpperCase()}`,
        );
        return native.call(this, { type: description.type, sdp });
      };
      Object.defineProperty(prototype, 'setRemoteDescription', {
        value: tamper,
        configurable: true,
        writable: true,
      });
    });
    const tampered = await openViewer(context, pageUrl, SUITE);
    const tile = await waitForTile(
      tampered,
      CAMERA,
      'the doctor’s verdict',
      (t) => t.doctor !== null && !t.doctor.verdict.ok,
      30_000,
    );
    expect(tile.doctor?.verdict.code).toBe('dtls-failed');
    expect(tile.doctor?.facts.dtlsState).toBe('failed');
    // ICE found its path first: the failure is the handshake's, not the network's.
    expect(tile.doctor?.facts.timings['ice:connected']).toBeDefined();
    expect(tile.doctor?.facts.iceState).not.toMatch(/^(new|checking|failed)$/);
    expect(tile.doctor?.facts.packetsReceived).toBe(0);
    const panel = panelOf(tampered, CAMERA);
    expect(await panel.getAttribute('data-verdict')).toBe('dtls-failed');
    expect(await panel.locator('summary').textContent()).toContain('DTLS handshake over it failed');
    await context.close();
  }, 60_000);
});
