import { afterEach, describe, expect, it } from '@jest/globals';
import { InvalidStateError } from '@robocam/types';
import { SignalingClient, type ProtocolError, type SignalingClientSettings } from '@robocam/protocol';
import { createSignalingServer, type SignalingServer } from '../src/index.js';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { camera, sleep } from './helpers.js';

const servers: SignalingServer[] = [];
const clients: SignalingClient[] = [];

async function start(
  port = 0,
  settings: Parameters<typeof createSignalingServer>[0] = {},
): Promise<SignalingServer> {
  const server = await createSignalingServer({ port, host: '127.0.0.1', ...settings });
  servers.push(server);
  return server;
}
function client(settings: SignalingClientSettings): SignalingClient {
  const c = new SignalingClient(settings);
  clients.push(c);
  return c;
}
function nextEvent<T>(
  emitter: SignalingClient,
  event: 'open' | 'close' | 'sender-online' | 'sender-offline',
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    emitter.once(event, (value: unknown) => {
      clearTimeout(timer);
      resolve(value as T);
    });
  });
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

describe('SignalingClient', () => {
  it('registers, sees senders, and measures the server clock', async () => {
    const server = await start();
    const sender = client({ url: server.url, role: 'sender', name: 'robot', cameras: [camera] });
    const welcome = await sender.connect();
    expect(welcome.role).toBe('sender');
    expect(sender.peerId).toBe(welcome.peerId);
    expect(sender.state).toBe('open');

    const viewer = client({ url: server.url, role: 'viewer' });
    await viewer.connect();
    expect([...viewer.senders.values()]).toEqual([{ id: sender.peerId, name: 'robot', cameras: [camera] }]);
    const clock = await viewer.ping();
    expect(clock.rttMs).toBeGreaterThanOrEqual(0);
    // Both ends read the same clock: the estimate is off by at most half the round trip.
    expect(Math.abs(clock.offsetMs)).toBeLessThanOrEqual(clock.rttMs / 2);
  });

  it('measures the other party of a session, answering routed pings by itself', async () => {
    const server = await start();
    const sender = client({ url: server.url, role: 'sender', cameras: [camera] });
    await sender.connect();
    const viewer = client({ url: server.url, role: 'viewer' });
    await viewer.connect();
    const offered = new Promise<string>((resolve) => sender.once('offer', (m) => resolve(m.session)));
    viewer.send({
      type: 'offer',
      session: 'clock-session-01',
      to: sender.peerId!,
      cameras: ['front'],
      sdp: 'v=0\r\n',
    });
    expect(await offered).toBe('clock-session-01');
    const clock = await viewer.ping('clock-session-01');
    expect(clock.rttMs).toBeGreaterThanOrEqual(0);
    expect(Math.abs(clock.offsetMs)).toBeLessThanOrEqual(clock.rttMs / 2);
  });

  it('reconnects after the server restarts on the same port and registers again', async () => {
    const first = await start();
    const port = first.port;
    const backoff = { initialDelayMs: 50, maxDelayMs: 400, jitter: 0 };
    const sender = client({ url: first.url, role: 'sender', name: 'robot', cameras: [camera], backoff });
    const viewer = client({ url: first.url, role: 'viewer', backoff });
    await sender.connect();
    await viewer.connect();
    const oldSenderId = sender.peerId;

    const delays: number[] = [];
    sender.on('reconnecting', ({ delayMs }) => delays.push(delayMs));
    const closed = nextEvent<{ willReconnect: boolean }>(sender, 'close');
    await first.close();
    expect((await closed).willReconnect).toBe(true);
    await sleep(1200);
    expect(sender.state).toBe('reconnecting');

    const second = await start(port);
    const [reopened] = await Promise.all([nextEvent(sender, 'open'), nextEvent(viewer, 'open')]);
    expect(reopened).toMatchObject({ role: 'sender' });
    expect(sender.peerId).not.toBe(oldSenderId);
    // The viewer sees the re-registered sender, and the server counts both again.
    await sleep(50);
    expect([...viewer.senders.keys()]).toEqual([sender.peerId]);
    expect(second.stats()).toMatchObject({ senders: 1, viewers: 1 });
    // Backoff grew and was capped (no jitter here).
    expect(delays.slice(0, 4)).toEqual([50, 100, 200, 400]);
    expect(Math.max(...delays)).toBe(400);
  });

  it('rejects connect() and stops for good when the server refuses the token', async () => {
    const server = await start(0, { senderToken: 'secret' });
    const sender = client({ url: server.url, role: 'sender', token: 'guess', cameras: [] });
    const errors: ProtocolError[] = [];
    sender.on('server-error', (e) => errors.push(e));
    await expect(sender.connect()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(sender.state).toBe('closed');
    expect(errors.map((e) => e.code)).toEqual(['unauthorized']);
    await sleep(300);
    expect(server.stats().connections).toBe(0);

    const good = client({ url: server.url, role: 'sender', token: 'secret', cameras: [] });
    await good.connect();
  });

  it('survives a throwing listener and rejects use after close', async () => {
    const server = await start();
    const viewer = client({ url: server.url, role: 'viewer' });
    const listenerErrors: string[] = [];
    viewer.on('open', () => {
      throw new Error('listener bug');
    });
    viewer.on('listenererror', (event) => listenerErrors.push(event));
    await viewer.connect();
    expect(listenerErrors).toEqual(['open']);
    expect(viewer.state).toBe('open');
    viewer.close();
    viewer.close();
    expect(viewer.closed).toBe(true);
    await expect(viewer.connect()).rejects.toBeInstanceOf(InvalidStateError);
    await expect(viewer.ping()).rejects.toBeInstanceOf(InvalidStateError);
    expect(viewer.send({ type: 'ping', t0: 1 })).toBe(false);
  });

  it('replaces a connection whose server has gone silent (heartbeat)', async () => {
    // A server that welcomes and then never says anything again: a half-open connection.
    const silent = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => silent.once('listening', () => resolve()));
    let connections = 0;
    silent.on('connection', (socket) => {
      connections += 1;
      socket.once('message', () => {
        socket.send(
          JSON.stringify({
            type: 'welcome',
            protocol: 1,
            peerId: `v-${connections}`,
            role: 'viewer',
            senders: [],
            heartbeatMs: 60_000,
            serverTime: Date.now(),
          }),
        );
      });
    });
    try {
      const { port } = silent.address() as AddressInfo;
      const viewer = client({
        url: `ws://127.0.0.1:${port}`,
        role: 'viewer',
        heartbeatIntervalMs: 100,
        backoff: { initialDelayMs: 20, jitter: 0 },
      });
      await viewer.connect();
      const closed = await nextEvent<{ code: number; reason: string; willReconnect: boolean }>(
        viewer,
        'close',
        2000,
      );
      expect(closed).toEqual({ code: 4000, reason: 'heartbeat timeout', willReconnect: true });
      await nextEvent(viewer, 'open', 2000);
      expect(viewer.peerId).toBe('v-2');
    } finally {
      for (const c of clients.splice(0)) c.close();
      for (const socket of silent.clients) socket.terminate();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
