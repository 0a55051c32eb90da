// Driving a robot from the page: real signal, sender and web processes, real Chromium tabs, and a
// "robot" that is a UDP socket on the sender's bridge (CONTROL_UDP, TELEMETRY_UDP_PORT). The lease,
// keys held, 1,000 commands at 50 Hz, telemetry, a second tab, the deadman (tab closed, browser
// killed, link cut), bad messages, and CONTROL_TOKEN.
import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type BrowserServer, type Page } from 'playwright-core';
import {
  CHROMIUM_ARGS,
  findChromium,
  isLive,
  launchChromium,
  openViewer,
  waitForTile,
  type TileSnapshot,
} from './support/browser.js';
import {
  clearArtifacts,
  sleep,
  stackOn,
  startSender,
  startSignal,
  startWeb,
  waitFor,
  type Service,
} from './support/services.js';
import { assertCanShape, blockUdpPorts, clearShaping } from './support/shaping.js';

const SUITE = 'teleop';
const stack = stackOn(58_000);
const CAMERA = 'testpattern';
const TELEMETRY_PORT = 58_871;
/** The sender's media ports: 0xa000–0xa03f. */
const RTC_PORT_BASE = 40_960;
const RTC_PORT_COUNT = 64;

interface Datagram {
  type: string;
  seq?: number;
  ageMs?: number;
  viewer?: string;
  reason?: string;
  idleMs?: number;
  data?: { linear?: { x?: number }; angular?: { z?: number } };
  at: number;
}

let signal: Service;
let sender: Service;
let web: Service;
let browser: Browser;
let robot: Socket;
const datagrams: Datagram[] = [];

beforeAll(async () => {
  findChromium();
  clearArtifacts(SUITE);
  robot = createSocket('udp4');
  robot.on('message', (message) => {
    datagrams.push({ ...(JSON.parse(message.toString()) as Omit<Datagram, 'at'>), at: performance.now() });
  });
  await new Promise<void>((resolve) => robot.bind(0, '127.0.0.1', resolve));
  signal = await startSignal(SUITE, stack);
  [web, sender] = await Promise.all([
    startWeb(SUITE, stack, { SIGNALING_PORT: String(stack.signalPort) }),
    startSender(SUITE, stack, senderEnv()),
  ]);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await (browser as Browser | undefined)?.close();
  await Promise.all(
    [signal, sender, web].map((service) => (service as Service | undefined)?.stop() ?? Promise.resolve()),
  );
  robot.close();
}, 30_000);

function senderEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    // Small frames: the video only has to play beside the commands.
    CAMERAS: 'testpattern:320x240@15',
    CONTROL_UDP: `127.0.0.1:${robot.address().port}`,
    TELEMETRY_UDP_PORT: String(TELEMETRY_PORT),
    // One aligned block of ports, so that the link-cut test can drop exactly the media and data
    // channels (support/shaping.ts, blockUdpPorts).
    RTC_PORT_RANGE: `${RTC_PORT_BASE}-${RTC_PORT_BASE + RTC_PORT_COUNT - 1}`,
    ...extra,
  };
}

async function restartSender(extra: Record<string, string> = {}): Promise<void> {
  await sender.stop();
  sender = await startSender(SUITE, stack, senderEnv(extra));
}

interface ControlStats {
  lease: { name: string } | undefined;
  commandsReceived: number;
  commandsApplied: number;
  commandsLate: number;
  commandsOutOfOrder: number;
  commandsWithoutLease: number;
  commandsRateLimited: number;
  messagesRejected: number;
}

async function controlStats(): Promise<ControlStats> {
  const response = await fetch(stack.statsUrl, { signal: AbortSignal.timeout(3000) });
  return ((await response.json()) as { control: ControlStats }).control;
}

async function openLiveViewer(query = '', target: Browser = browser): Promise<Page> {
  const page = await openViewer(target, `${stack.pageUrl}${query}`, SUITE);
  await waitForTile(
    page,
    CAMERA,
    'live with its control channels',
    (tile) => isLive(tile) && tile.control.available,
    30_000,
  );
  return page;
}

function control(
  page: Page,
  what: string,
  predicate: (control: TileSnapshot['control']) => boolean,
): Promise<TileSnapshot> {
  return waitForTile(page, CAMERA, what, (tile) => predicate(tile.control), 15_000);
}

async function takeControl(page: Page): Promise<void> {
  await page.getByRole('button', { name: /take control/i }).click();
  await control(page, 'driving', (c) => c.you);
}

const commands = (since: number): Datagram[] =>
  datagrams.filter((d) => d.type === 'command' && d.at >= since);
const stops = (since: number): Datagram[] => datagrams.filter((d) => d.type === 'stop' && d.at >= since);

/** The browser's process and every process below it (renderers, the network service). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const all: number[] = [];
  const walk = (pid: number): void => {
    all.push(pid);
    for (const child of children.get(pid) ?? []) walk(child);
  };
  walk(root);
  return all;
}

/** Signals every process of `pids` that still exists. */
function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

describe('teleop from the page', () => {
  it('takes the lease and sends the held key’s command to the robot at a steady rate, then zeros', async () => {
    const page = await openLiveViewer();
    const before = await control(page, 'nobody drives', (c) => c.holder === null);
    expect(before.control.you).toBe(false);
    await takeControl(page);
    await expect(page.getByRole('button', { name: /release control/i }).isVisible()).resolves.toBe(true);

    const start = performance.now();
    await page.keyboard.down('ArrowUp');
    await sleep(2000);
    await page.keyboard.up('ArrowUp');
    const released = performance.now();
    await sleep(500);

    const forward = commands(start).filter((d) => d.data?.linear?.x === 1);
    // 20 Hz for 2 s is 40; a loaded machine may send fewer, never none.
    expect(forward.length).toBeGreaterThan(10);
    const seqs = commands(start).map((d) => d.seq ?? 0);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const ages = commands(start).map((d) => d.ageMs ?? -1);
    for (const age of ages) {
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThanOrEqual(250);
    }
    // Loopback: a command is a few ms old on arrival, far from the deadline.
    const sorted = [...ages].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(100);
    // Keys released: zeros keep coming (the deadman stays quiet).
    const after = commands(released + 200);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((d) => d.data?.linear?.x === 0 && d.data.angular?.z === 0)).toBe(true);
    expect(stops(start)).toEqual([]);

    const tile = await control(page, 'acknowledged commands', (c) => c.commandsAcked > 10);
    expect(tile.control.commandRttMs).not.toBeNull();
    expect(tile.control.commandsDropped).toBe(0);

    await page.getByRole('button', { name: /release control/i }).click();
    await control(page, 'released', (c) => c.holder === null);
    await waitFor('the stop', () => (stops(start).length > 0 ? true : undefined), { timeoutMs: 5000 });
    expect(stops(start).map((d) => d.reason)).toEqual(['released']);
    await page.close();
  });

  it('delivers 1,000 commands at 50 Hz with none applied out of order or past the deadline', async () => {
    const page = await openLiveViewer('?controlHz=50');
    await takeControl(page);
    const statsBefore = await controlStats();
    const start = performance.now();
    await page.keyboard.down('d');
    await waitFor(
      '1,000 commands sent',
      async () => {
        const tile = await control(page, 'driving', (c) => c.you);
        return tile.control.commandsSent >= 1000 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await page.keyboard.up('d');
    await page.getByRole('button', { name: /release control/i }).click();
    await control(page, 'released', (c) => c.holder === null);
    await sleep(300);

    const received = commands(start);
    const seqs = received.map((d) => d.seq ?? 0);
    expect(seqs.every((seq, index) => index === 0 || seq > (seqs[index - 1] ?? Infinity))).toBe(true);
    expect(received.every((d) => (d.ageMs ?? Infinity) <= 250)).toBe(true);
    expect(received.filter((d) => d.data?.angular?.z === -1).length).toBeGreaterThan(0);
    const statsAfter = await controlStats();
    const applied = statsAfter.commandsApplied - statsBefore.commandsApplied;
    const dropped =
      statsAfter.commandsLate -
      statsBefore.commandsLate +
      statsAfter.commandsOutOfOrder -
      statsBefore.commandsOutOfOrder;
    // Every applied command reached the robot, in order; the drops are counted, not applied.
    expect(received).toHaveLength(applied);
    expect(applied + dropped).toBeGreaterThanOrEqual(1000);
    expect(stops(start).map((d) => d.reason)).toEqual(['released']);
    await page.close();
  });

  it('shows the robot’s telemetry on the tile', async () => {
    const page = await openLiveViewer();
    robot.send(
      JSON.stringify({ battery: 0.87, mode: 'docking', pose: { x: 1.25, y: -3 } }),
      TELEMETRY_PORT,
      '127.0.0.1',
    );
    const tile = await control(page, 'telemetry', (c) => c.telemetry !== null);
    expect(tile.control.telemetry).toEqual({ battery: 0.87, mode: 'docking', pose: { x: 1.25, y: -3 } });
    const panel = page.getByRole('definition').filter({ hasText: 'docking' });
    await expect(panel.isVisible()).resolves.toBe(true);
    await page.close();
  });

  it('lets one tab drive at a time, and the other after the first releases', async () => {
    const first = await openLiveViewer();
    const second = await openLiveViewer();
    await takeControl(first);
    const seen = await control(second, 'the other driver', (c) => c.holder !== null);
    expect(seen.control.you).toBe(false);
    await expect(second.getByRole('button', { name: /take control/i }).isDisabled()).resolves.toBe(true);
    // Keys in the second tab move nothing.
    const start = performance.now();
    await second.keyboard.down('ArrowUp');
    await sleep(500);
    await second.keyboard.up('ArrowUp');
    expect(commands(start).some((d) => d.data?.linear?.x === 1)).toBe(false);

    await first.getByRole('button', { name: /release control/i }).click();
    await control(second, 'a free lease', (c) => c.holder === null);
    await takeControl(second);
    await control(first, 'the second tab driving', (c) => c.holder !== null && !c.you);
    await second.getByRole('button', { name: /release control/i }).click();
    await control(second, 'released', (c) => c.holder === null);
    await Promise.all([first.close(), second.close()]);
  });

  it('stops the robot exactly once when the driving tab closes', async () => {
    const page = await openLiveViewer();
    await takeControl(page);
    await page.keyboard.down('ArrowUp');
    await waitFor('commands', () => (commands(performance.now() - 300).length > 3 ? true : undefined), {
      timeoutMs: 5000,
    });
    const closedAt = performance.now();
    await page.close();
    await waitFor('a stop', () => (stops(closedAt).length > 0 ? true : undefined), { timeoutMs: 5000 });
    await sleep(1500); // past the deadman and beyond: no second stop
    const raised = stops(closedAt);
    expect(raised).toHaveLength(1);
    // The sender's own measure: time from the last applied command to the stop.
    expect(raised[0]?.idleMs).toBeLessThanOrEqual(600);
    await waitFor(
      'the lease free',
      async () => ((await controlStats()).lease === undefined ? true : undefined),
      {
        timeoutMs: 5000,
      },
    );
  });

  it('stops the robot exactly once when the driving browser is killed, and when its link is cut', async () => {
    assertCanShape();
    for (const how of ['killed', 'cut'] as const) {
      const server: BrowserServer = await chromium.launchServer({
        executablePath: findChromium(),
        args: [...CHROMIUM_ARGS],
      });
      try {
        const remote = await chromium.connect(server.wsEndpoint());
        const page = await openLiveViewer('', remote);
        await takeControl(page);
        await page.keyboard.down('ArrowLeft');
        await waitFor('commands', () => (commands(performance.now() - 300).length > 3 ? true : undefined), {
          timeoutMs: 5000,
        });
        const pids = processTree(server.process().pid ?? -1);
        const since = performance.now();
        // Killed: every process of the browser at once. Cut: every UDP packet from or to the
        // sender's media ports dropped in the kernel; the signaling connection (TCP) stays up, so
        // only the deadman can notice.
        if (how === 'killed') signalAll(pids, 'SIGKILL');
        else blockUdpPorts(RTC_PORT_BASE, RTC_PORT_COUNT);
        await waitFor(
          `a stop after the browser was ${how}`,
          () => (stops(since).length > 0 ? true : undefined),
          {
            timeoutMs: 5000,
          },
        );
        await sleep(1500);
        const raised = stops(since);
        expect(raised).toHaveLength(1);
        // A killed browser's signaling socket closes at once: the sender may learn of the end of
        // the session before the deadman fires.
        expect(raised[0]?.reason).toMatch(how === 'killed' ? /^(deadman|disconnected)$/ : /^deadman$/);
        expect(raised[0]?.idleMs).toBeLessThanOrEqual(600);
        await remote.close().catch(() => undefined);
      } finally {
        clearShaping();
        await server.kill();
      }
      await waitFor(
        'the lease free',
        async () => ((await controlStats()).lease === undefined ? true : undefined),
        {
          timeoutMs: 10_000,
        },
      );
    }
  }, 120_000);

  it('rejects malformed, oversized and flooding data-channel messages, counts them, and the session goes on', async () => {
    // A hostile script on the page: it gets hold of the page's own teleop channels.
    const context = await browser.newContext();
    await context.addInitScript(() => {
      const channels: RTCDataChannel[] = [];
      Object.assign(window, { teleopChannels: channels });
      // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its `this` below
      const original = RTCPeerConnection.prototype.createDataChannel;
      RTCPeerConnection.prototype.createDataChannel = function (label: string, init?: RTCDataChannelInit) {
        const channel = original.call(this, label, init);
        channels.push(channel);
        return channel;
      };
    });
    const page = await openViewer(context, stack.pageUrl, SUITE);
    await waitForTile(page, CAMERA, 'live', (tile) => isLive(tile) && tile.control.available, 30_000);
    await takeControl(page);
    const before = await controlStats();
    await page.evaluate(() => {
      const open = (window as unknown as { teleopChannels: RTCDataChannel[] }).teleopChannels.filter(
        (channel) => channel.readyState === 'open',
      );
      const control = open.findLast((channel) => channel.label === 'robocam-control');
      const events = open.findLast((channel) => channel.label === 'robocam-events');
      if (control === undefined || events === undefined) throw new Error('no open teleop channels');
      control.send('not json');
      control.send(JSON.stringify({ seq: 'one', sentAt: Date.now(), data: {} }));
      control.send(JSON.stringify({ seq: 2, sentAt: Date.now(), data: { pad: 'x'.repeat(5000) } }));
      control.send(new Uint8Array([1, 2, 3]));
      events.send(JSON.stringify({ type: 'telemetry', at: 0, data: {} }));
      events.send(JSON.stringify({ type: 'event', data: { pad: 'y'.repeat(20_000) } }));
      // A flood of stale commands: rate-limited or out of order, never applied.
      for (let index = 0; index < 400; index += 1) {
        control.send(JSON.stringify({ seq: 1, sentAt: Date.now(), data: { linear: { x: 1 } } }));
      }
    });
    await waitFor(
      'the rejections counted',
      async () => {
        const stats = await controlStats();
        return stats.messagesRejected - before.messagesRejected >= 6 &&
          stats.commandsRateLimited > before.commandsRateLimited
          ? stats
          : undefined;
      },
      { timeoutMs: 10_000 },
    );
    // The page still drives: its own commands keep being applied.
    await sleep(1500);
    const since = performance.now();
    await page.keyboard.down('ArrowUp');
    await sleep(1000);
    await page.keyboard.up('ArrowUp');
    expect(commands(since).some((d) => d.data?.linear?.x === 1)).toBe(true);
    const tile = await control(page, 'still driving', (c) => c.you);
    expect(tile.status).toBe('live');
    await page.getByRole('button', { name: /release control/i }).click();
    await control(page, 'released', (c) => c.holder === null);
    await context.close();
  });

  it('requires CONTROL_TOKEN to drive when the sender sets one', async () => {
    await restartSender({ CONTROL_TOKEN: 'let-me-drive' });
    const page = await openLiveViewer();
    await page.getByRole('button', { name: /take control/i }).click();
    await control(page, 'a refusal', (c) => c.denied !== null && c.tokenRequired);
    const token = page.getByLabel('control token');
    await token.fill('wrong');
    await page.getByRole('button', { name: /take control/i }).click();
    const refused = await control(page, 'refused again', (c) => c.denied === 'wrong control token');
    expect(refused.control.you).toBe(false);
    await expect(
      page
        .getByRole('status')
        .filter({ hasText: /control refused/i })
        .first()
        .isVisible(),
    ).resolves.toBe(true);
    await token.fill('let-me-drive');
    await page.getByRole('button', { name: /take control/i }).click();
    await control(page, 'driving', (c) => c.you);
    await page.getByRole('button', { name: /release control/i }).click();
    await control(page, 'released', (c) => c.holder === null);
    await page.close();
  });
});
