import { createSocket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createSignalingServer, type SignalingServer } from '@robocam/signaling';
import {
  Sender,
  type ControlCommand,
  type ControlLeaseInfo,
  type ControlSettings,
  type ControlStop,
  UdpBridge,
} from '../src/index.js';
import { WeriftViewer } from './support/werift-viewer.js';

// Teleop over real data channels: signaling server, sender core, werift viewers that open the
// control and events channels exactly as the viewer page does. Run inside run-isolated.sh.

let server: SignalingServer;
let sender: Sender | undefined;
const viewers: WeriftViewer[] = [];
let commands: ControlCommand[] = [];
let stops: ControlStop[] = [];
let leases: (ControlLeaseInfo | undefined)[] = [];

beforeAll(async () => {
  server = await createSignalingServer({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  await Promise.all(viewers.splice(0).map((viewer) => viewer.close()));
  await sender?.close();
  sender = undefined;
});

async function startSender(control: ControlSettings = {}): Promise<Sender> {
  commands = [];
  stops = [];
  leases = [];
  sender = new Sender({
    signalingUrl: server.url,
    name: 'teleop-robot',
    // Small frames: this test is about the data channels beside the video.
    cameras: [{ type: 'testpattern', width: 320, height: 240, fps: 15 }],
    control,
  });
  sender.on('command', (command) => commands.push(command));
  sender.on('stop', (stop) => stops.push(stop));
  sender.on('lease', (lease) => leases.push(lease));
  await sender.start();
  return sender;
}

async function driver(name: string, client = randomClient()): Promise<WeriftViewer & { clientId: string }> {
  const viewer = await WeriftViewer.connect(server.url);
  viewers.push(viewer);
  await viewer.watch(await viewer.senderId(), ['testpattern'], 'vp8', { dataChannels: true });
  sendEvent(viewer, { type: 'hello', client, name });
  await waitFor(() => lastEvent(viewer, 'lease') !== undefined, 5000, `${name}'s lease state`);
  return Object.assign(viewer, { clientId: client });
}

function randomClient(): string {
  return `client-${Math.random().toString(36).slice(2, 14)}-${Math.random().toString(36).slice(2, 8)}`;
}

function sendEvent(viewer: WeriftViewer, message: unknown): void {
  viewer.events?.send(JSON.stringify(message));
}

function sendCommand(
  viewer: WeriftViewer,
  seq: number,
  data: unknown = twist(0.5, 0),
  sentAt = Date.now(),
): void {
  viewer.control?.send(JSON.stringify({ seq, sentAt, data }));
}

function twist(x: number, z: number): { linear: { x: number }; angular: { z: number } } {
  return { linear: { x }, angular: { z } };
}

function lastEvent(viewer: WeriftViewer, type: string): Record<string, unknown> | undefined {
  return viewer.eventMessages.filter((message) => message.type === type).at(-1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function takeLease(viewer: WeriftViewer, token?: string): Promise<void> {
  sendEvent(viewer, { type: 'lease-request', ...(token === undefined ? {} : { token }) });
  await waitFor(
    () => (lastEvent(viewer, 'lease')?.holder as { you?: boolean } | null | undefined)?.you === true,
    5000,
    'the lease',
  );
}

describe('teleop over data channels', () => {
  it('applies the driver’s commands in order with their age, acknowledges them and shows the lease to everyone', async () => {
    const robot = await startSender();
    const alice = await driver('alice');
    const bob = await driver('bob');
    expect(lastEvent(alice, 'lease')).toEqual({ type: 'lease', holder: null, tokenRequired: false });

    await takeLease(alice);
    await waitFor(() => lastEvent(bob, 'lease')?.holder != null, 5000, 'bob to see the lease');
    expect(lastEvent(bob, 'lease')?.holder).toMatchObject({ name: 'alice', you: false });
    expect(robot.controlLease).toMatchObject({ name: 'alice', viewerId: alice.client.peerId });
    expect(leases.at(-1)).toMatchObject({ name: 'alice' });

    for (let seq = 1; seq <= 20; seq += 1) {
      sendCommand(alice, seq, twist(seq / 20, -seq / 40));
      await sleep(20);
    }
    await waitFor(() => commands.length === 20, 5000, '20 commands');
    expect(commands.map((command) => command.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(commands[19]).toMatchObject({
      viewerId: alice.client.peerId,
      sessionId: alice.session,
      data: { linear: { x: 1 }, angular: { z: -0.5 } },
    });
    for (const command of commands) {
      expect(command.ageMs).toBeGreaterThanOrEqual(0);
      expect(command.ageMs).toBeLessThanOrEqual(250); // never applied past the deadline
    }
    await waitFor(() => alice.controlMessages.length === 20, 5000, 'acknowledgements');
    expect(alice.controlMessages.at(-1)).toEqual({ ack: 20, dropped: 0 });

    // Bob does not hold the lease: his commands are dropped, counted, and he is told why.
    sendCommand(bob, 100);
    await waitFor(() => lastEvent(bob, 'error') !== undefined, 5000, 'an error notice to bob');
    expect(lastEvent(bob, 'error')).toMatchObject({ code: 'no-lease' });
    sendEvent(bob, { type: 'lease-request' });
    await waitFor(() => lastEvent(bob, 'lease-denied') !== undefined, 5000, 'a denial');
    expect(lastEvent(bob, 'lease-denied')).toMatchObject({ code: 'held' });
    expect(commands).toHaveLength(20);

    // Released: the robot was moving, so it gets one stop; then bob may drive.
    sendEvent(alice, { type: 'lease-release' });
    await waitFor(() => stops.length === 1, 5000, 'the stop');
    expect(stops[0]).toMatchObject({ reason: 'released', viewerId: alice.client.peerId });
    await waitFor(() => lastEvent(alice, 'stop') !== undefined, 5000, 'alice told of the stop');
    await takeLease(bob);
    sendCommand(bob, 1);
    await waitFor(() => commands.length === 21, 5000, 'bob’s command');
    expect(commands[20]?.viewerId).toBe(bob.client.peerId);

    const stats = (await robot.stats()).control;
    expect(stats).toMatchObject({
      lease: { name: 'bob' },
      commandsApplied: 21,
      commandsWithoutLease: 1,
      commandsLate: 0,
      channels: 2,
    });
  });

  it('drops commands out of sequence or older than the deadline and counts them', async () => {
    const robot = await startSender({ commandDeadlineMs: 250 });
    const alice = await driver('alice');
    await takeLease(alice);
    sendCommand(alice, 5);
    await waitFor(() => commands.length === 1, 5000, 'the first command');
    sendCommand(alice, 3); // older than one applied
    sendCommand(alice, 5); // a duplicate
    sendCommand(alice, 6, twist(1, 0), Date.now() - 1000); // a second old on arrival
    sendCommand(alice, 7);
    await waitFor(() => commands.length === 2, 5000, 'the next command in sequence');
    await sleep(100);
    expect(commands.map((command) => command.seq)).toEqual([5, 7]);
    expect((await robot.stats()).control).toMatchObject({
      commandsReceived: 5,
      commandsApplied: 2,
      commandsOutOfOrder: 2,
      commandsLate: 1,
    });
    await waitFor(() => alice.controlMessages.length === 2, 5000, 'two acknowledgements');
    expect(alice.controlMessages.at(-1)).toEqual({ ack: 7, dropped: 3 });
  });

  it('rejects malformed, oversized, binary and flooding messages, counts them, and the session goes on', async () => {
    const robot = await startSender();
    const alice = await driver('alice');
    await takeLease(alice);
    const control = alice.control!;
    control.send('not json');
    control.send(JSON.stringify({ seq: 'one', sentAt: Date.now(), data: {} }));
    control.send(JSON.stringify({ seq: 1, sentAt: Date.now(), data: [1, 2] }));
    control.send(JSON.stringify({ seq: 1, sentAt: Date.now(), data: { pad: 'x'.repeat(2000) } }));
    control.send(Buffer.from([1, 2, 3]));
    sendEvent(alice, { type: 'lease-request', token: 7 });
    sendEvent(alice, { type: 'telemetry', data: {} }); // a sender's message, not a viewer's
    alice.events!.send(JSON.stringify({ type: 'event', data: { pad: 'y'.repeat(20_000) } }));
    await waitFor(async () => (await robot.stats()).control.messagesRejected >= 8, 5000, 'eight rejections');
    expect(commands).toHaveLength(0);
    expect(lastEvent(alice, 'error')).toMatchObject({ code: expect.any(String) });

    // A flood: 500 commands at once (they arrive over ~2 s through werift's SCTP). The bucket lets
    // a burst and 100/s through and drops the rest, before parsing them.
    for (let seq = 1; seq <= 500; seq += 1) sendCommand(alice, seq);
    await waitFor(async () => (await robot.stats()).control.commandsReceived >= 505, 10_000, 'the flood');
    const afterFlood = (await robot.stats()).control;
    expect(afterFlood.commandsRateLimited).toBeGreaterThan(0);
    expect(afterFlood.commandsApplied).toBe(commands.length);
    // Every one is accounted for: applied, or dropped for a reason. werift's SCTP takes seconds to
    // deliver 500 messages, so many arrive past the deadline, and with none applied for 2.5 s the
    // deadman and the lease's grace run out before the flood is through.
    expect(
      afterFlood.commandsApplied +
        afterFlood.commandsRateLimited +
        afterFlood.commandsOutOfOrder +
        afterFlood.commandsLate +
        afterFlood.commandsWithoutLease,
    ).toBe(500);
    expect(commands.map((command) => command.seq)).toEqual(
      [...commands.map((c) => c.seq)].sort((a, b) => a - b),
    );

    // Still connected, still able to drive.
    await sleep(1000); // the bucket refills
    await takeLease(alice);
    sendCommand(alice, 1000);
    await waitFor(() => commands.at(-1)?.seq === 1000, 5000, 'a command after the flood');
    expect(robot.sessions.size).toBe(1);
    expect([...robot.sessions.values()][0]?.connectionState).toBe('connected');
  });

  it('raises exactly one stop when the driver goes silent, then releases the lease after the grace', async () => {
    await startSender({ deadmanMs: 500, leaseGraceMs: 600 });
    const alice = await driver('alice');
    await takeLease(alice);
    for (let seq = 1; seq <= 10; seq += 1) {
      sendCommand(alice, seq);
      await sleep(50);
    }
    await waitFor(() => commands.length === 10, 5000, 'the commands');
    const lastCommandAt = performance.now();
    await waitFor(() => stops.length === 1, 5000, 'the deadman');
    expect(stops[0]).toMatchObject({ reason: 'deadman', viewerId: alice.client.peerId });
    // The sender's own measure: time from the last applied command to the stop.
    expect(stops[0]!.idleMs).toBeGreaterThanOrEqual(500);
    expect(performance.now() - lastCommandAt).toBeGreaterThanOrEqual(450);
    await waitFor(() => lastEvent(alice, 'lease')?.holder === null, 5000, 'the lease to expire');
    expect(leases.at(-1)).toBeUndefined();
    await sleep(300);
    expect(stops).toHaveLength(1); // the expiry after a stop raises no second one
  });

  it('raises exactly one stop when the driving viewer’s session ends, and keeps the lease across the page’s sessions', async () => {
    const robot = await startSender();
    const alice = await driver('alice');
    await takeLease(alice);
    // The same page opens a second session (a tile replacing its session): the lease follows it.
    const replacement = await driver('alice', alice.clientId);
    expect(lastEvent(replacement, 'lease')?.holder).toMatchObject({ you: true });
    sendCommand(alice, 1);
    await waitFor(() => commands.length === 1, 5000, 'a command');
    await alice.close();
    await sleep(200);
    expect(robot.controlLease?.name).toBe('alice');
    expect(stops).toHaveLength(0);
    sendCommand(replacement, 2);
    await waitFor(() => commands.length === 2, 5000, 'a command on the new session');

    await replacement.close();
    await waitFor(() => stops.length === 1, 5000, 'the stop');
    expect(stops[0]?.reason).toBe('disconnected');
    expect(robot.controlLease).toBeUndefined();
    await sleep(700); // past the deadman: still one
    expect(stops).toHaveLength(1);
  });

  it('requires the control token when one is set', async () => {
    await startSender({ token: 'drive-secret' });
    const alice = await driver('alice');
    expect(lastEvent(alice, 'lease')).toMatchObject({ tokenRequired: true });
    sendEvent(alice, { type: 'lease-request' });
    await waitFor(() => lastEvent(alice, 'lease-denied') !== undefined, 5000, 'a denial');
    expect(lastEvent(alice, 'lease-denied')).toMatchObject({ code: 'unauthorized' });
    sendEvent(alice, { type: 'lease-request', token: 'wrong' });
    await waitFor(
      () => alice.eventMessages.filter((m) => m.type === 'lease-denied').length === 2,
      5000,
      'a second denial',
    );
    sendCommand(alice, 1);
    await sleep(200);
    expect(commands).toHaveLength(0);
    await takeLease(alice, 'drive-secret');
    sendCommand(alice, 2);
    await waitFor(() => commands.length === 1, 5000, 'a command with the lease');
  });

  it('sends telemetry to every viewer or to one', async () => {
    const robot = await startSender();
    const alice = await driver('alice');
    const bob = await driver('bob');
    expect(robot.sendTelemetry({ battery: 0.82, pose: { x: 1.5, y: -2 } })).toBe(2);
    await waitFor(
      () => lastEvent(alice, 'telemetry') !== undefined && lastEvent(bob, 'telemetry') !== undefined,
      5000,
      'telemetry',
    );
    expect(lastEvent(bob, 'telemetry')).toMatchObject({ data: { battery: 0.82, pose: { x: 1.5, y: -2 } } });
    expect(robot.sendTelemetry({ note: 'for bob' }, { viewerId: bob.client.peerId! })).toBe(1);
    await waitFor(
      () => (lastEvent(bob, 'telemetry')?.data as { note?: string }).note === 'for bob',
      5000,
      'bob’s telemetry',
    );
    await sleep(100);
    expect((lastEvent(alice, 'telemetry')?.data as { note?: string }).note).toBeUndefined();
    expect(() => robot.sendTelemetry({ pad: 'z'.repeat(20_000) })).toThrow(/exceeds/);
  });
});

describe('the UDP bridge to robot software', () => {
  it('sends commands and stops as JSON datagrams and forwards telemetry datagrams to the viewers', async () => {
    const robot = await startSender({ deadmanMs: 500 });
    const robotSocket = createSocket('udp4');
    const datagrams: Record<string, unknown>[] = [];
    robotSocket.on('message', (message) =>
      datagrams.push(JSON.parse(message.toString()) as Record<string, unknown>),
    );
    await new Promise<void>((resolve) => robotSocket.bind(0, '127.0.0.1', resolve));
    const bridge = new UdpBridge(robot, {
      controlTarget: `127.0.0.1:${robotSocket.address().port}`,
      telemetryPort: 0,
    });
    await bridge.start();
    try {
      const alice = await driver('alice');
      await takeLease(alice);
      for (let seq = 1; seq <= 5; seq += 1) {
        sendCommand(alice, seq, twist(0.2 * seq, 0));
        await sleep(50);
      }
      await waitFor(() => datagrams.some((d) => d.type === 'stop'), 5000, 'commands and the deadman stop');
      const commandDatagrams = datagrams.filter((d) => d.type === 'command');
      expect(commandDatagrams.map((d) => d.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(commandDatagrams[4]).toEqual({
        type: 'command',
        seq: 5,
        ageMs: expect.any(Number),
        viewer: alice.client.peerId,
        data: { linear: { x: 1 }, angular: { z: 0 } },
      });
      expect(datagrams.filter((d) => d.type === 'stop')).toEqual([
        { type: 'stop', reason: 'deadman', viewer: alice.client.peerId, idleMs: expect.any(Number) },
      ]);

      // The robot talks back: one good datagram, three bad ones.
      const telemetryPort = bridge.telemetryPort!;
      for (const text of ['{"battery":0.5,"mode":"auto"}', 'nonsense', '[1,2]', 'x'.repeat(20_000)]) {
        robotSocket.send(text, telemetryPort, '127.0.0.1');
      }
      await waitFor(() => lastEvent(alice, 'telemetry') !== undefined, 5000, 'telemetry at the viewer');
      expect(lastEvent(alice, 'telemetry')).toMatchObject({ data: { battery: 0.5, mode: 'auto' } });
      await waitFor(() => bridge.stats().telemetryRejected === 3, 5000, 'three rejections');
      expect(bridge.stats()).toMatchObject({ commandsSent: 5, stopsSent: 1, telemetryReceived: 4 });
    } finally {
      bridge.close();
      robotSocket.close();
    }
  });
});
