import { afterEach, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { createSignalingServer, type SignalingServer, type SignalingServerSettings } from '../src/index.js';
import { camera, sleep, TestPeer } from './helpers.js';

const session = 'session-0001-abcdef';
const sdp = 'v=0\r\n';
let server: SignalingServer;
const peers: TestPeer[] = [];

async function start(settings: SignalingServerSettings = {}): Promise<SignalingServer> {
  server = await createSignalingServer({ port: 0, host: '127.0.0.1', ...settings });
  return server;
}
async function register(role: 'viewer' | 'sender', extra?: Parameters<typeof TestPeer.register>[2]) {
  const peer = await TestPeer.register(server.url, role, extra);
  peers.push(peer);
  return peer;
}
async function open(options?: WebSocket.ClientOptions) {
  const peer = await TestPeer.open(server.url, options);
  peers.push(peer);
  return peer;
}

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.socket.terminate();
  await server.close();
});

describe('registration', () => {
  it('welcomes viewers with the online senders and tells them when senders come and go', async () => {
    await start();
    const early = await register('viewer');
    expect(server.stats()).toMatchObject({ viewers: 1, senders: 0 });
    const sender = await register('sender', { name: 'robot-1' });
    const online = await early.next('sender-online');
    expect(online.sender).toEqual({ id: sender.id, name: 'robot-1', cameras: [camera] });

    const late = await TestPeer.open(server.url);
    peers.push(late);
    late.send({ type: 'hello', id: 'h-1', protocol: 1, role: 'viewer', name: 'late' });
    const welcome = await late.next('welcome');
    expect(welcome).toMatchObject({ ref: 'h-1', role: 'viewer', protocol: 1, senders: [{ id: sender.id }] });

    sender.socket.close();
    expect(await early.next('sender-offline')).toEqual({ type: 'sender-offline', senderId: sender.id });
    expect((await late.next('sender-offline')).senderId).toBe(sender.id);
  });

  it('re-announces a sender whose cameras change', async () => {
    await start();
    const viewer = await register('viewer');
    const sender = await register('sender');
    await viewer.next('sender-online');
    sender.send({ type: 'cameras', cameras: [{ ...camera, status: 'lost', detail: 'unplugged' }] });
    const update = await viewer.next('sender-online');
    expect(update.sender.cameras[0]).toMatchObject({ status: 'lost', detail: 'unplugged' });
    viewer.send({ type: 'cameras', id: 'x', cameras: [] });
    expect(await viewer.next('error')).toMatchObject({ code: 'forbidden', ref: 'x' });
  });

  it('refuses a second hello, a wrong version and messages before hello', async () => {
    await start();
    const peer = await open();
    peer.send({ type: 'ping', id: 'early', t0: 1 });
    expect(await peer.next('error')).toMatchObject({ code: 'not-registered', ref: 'early' });
    peer.send({ type: 'hello', id: 'v2', protocol: 2, role: 'viewer', name: 'future' });
    expect(await peer.next('error')).toMatchObject({ code: 'unsupported-version', ref: 'v2' });
    peer.send({ type: 'hello', protocol: 1, role: 'viewer', name: 'now' });
    await peer.next('welcome');
    peer.send({ type: 'hello', id: 'again', protocol: 1, role: 'sender', name: 'now' });
    expect(await peer.next('error')).toMatchObject({ code: 'already-registered', ref: 'again' });
    await peer.assertAlive();
  });

  it('closes connections that never say hello', async () => {
    await start({ registrationTimeoutMs: 200 });
    const peer = await open();
    expect((await peer.closed()).code).toBe(4002);
  });
});

describe('routing', () => {
  it('routes a whole offer/answer/candidate/ping/bye exchange and stamps the true origin', async () => {
    await start();
    const sender = await register('sender');
    const viewer = await register('viewer');
    // `from` is the server's to set: a forged one is discarded.
    viewer.send({ type: 'offer', session, to: sender.id, cameras: ['front'], sdp, from: 'someone-else' });
    expect(await sender.next('offer')).toEqual({
      type: 'offer',
      session,
      from: viewer.id,
      cameras: ['front'],
      sdp,
    });
    expect(server.stats().sessions).toBe(1);

    sender.send({ type: 'answer', session, sdp: 'v=0\r\na=answer\r\n' });
    expect(await viewer.next('answer')).toEqual({
      type: 'answer',
      session,
      from: sender.id,
      sdp: 'v=0\r\na=answer\r\n',
    });

    const candidate = {
      candidate: 'candidate:1 1 udp 1 127.0.0.2 5000 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
    };
    sender.send({ type: 'candidate', session, candidate });
    expect(await viewer.next('candidate')).toEqual({
      type: 'candidate',
      session,
      from: sender.id,
      candidate,
    });
    viewer.send({ type: 'candidate', session, candidate: null });
    expect(await sender.next('candidate')).toMatchObject({ from: viewer.id, candidate: null });

    viewer.send({ type: 'ping', id: 'clock-1', session, t0: 100 });
    expect(await sender.next('ping')).toEqual({
      type: 'ping',
      id: 'clock-1',
      session,
      from: viewer.id,
      t0: 100,
    });
    sender.send({ type: 'pong', id: 'clock-1', session, t0: 100, t1: 200 });
    expect(await viewer.next('pong')).toEqual({
      type: 'pong',
      id: 'clock-1',
      session,
      from: sender.id,
      t0: 100,
      t1: 200,
    });

    viewer.send({ type: 'bye', session, reason: 'done' });
    expect(await sender.next('bye')).toEqual({ type: 'bye', session, from: viewer.id, reason: 'done' });
    expect(server.stats().sessions).toBe(0);
    sender.send({ type: 'candidate', session, candidate: null });
    expect(await sender.next('error')).toMatchObject({ code: 'unknown-session', session });
  });

  it('allows renegotiation on one’s own session but not taking over another’s', async () => {
    await start();
    const sender = await register('sender');
    const alice = await register('viewer');
    const mallory = await register('viewer');
    alice.send({ type: 'offer', session, to: sender.id, cameras: ['front'], sdp });
    await sender.next('offer');
    alice.send({
      type: 'offer',
      session,
      to: sender.id,
      cameras: ['front'],
      sdp: 'v=0\r\na=ice-restart\r\n',
    });
    expect((await sender.next('offer')).sdp).toContain('ice-restart');

    mallory.send({ type: 'offer', id: 'steal', session, to: sender.id, cameras: ['front'], sdp });
    expect(await mallory.next('error')).toMatchObject({ code: 'session-exists', ref: 'steal' });
    for (const type of ['candidate', 'bye', 'ping'] as const) {
      const message =
        type === 'candidate'
          ? { type, session, candidate: null }
          : type === 'bye'
            ? { type, session }
            : { type, session, t0: 1 };
      mallory.send(message);
      expect(await mallory.next('error')).toMatchObject({ code: 'unknown-session', session });
    }
    // Nothing Mallory sent reached Alice's sender beyond the first two offers.
    await sleep(100);
    expect(sender.received.filter((m) => m.type !== 'sender-online')).toEqual([]);
    expect(server.stats().sessions).toBe(1);
  });

  it('refuses offers to unknown peers, to viewers, for unknown cameras, and role violations', async () => {
    await start();
    const sender = await register('sender');
    const viewer = await register('viewer');
    const other = await register('viewer');
    viewer.send({ type: 'offer', id: 'a', session, to: 's-nobody', cameras: ['front'], sdp });
    expect(await viewer.next('error')).toMatchObject({ code: 'unknown-peer', ref: 'a' });
    viewer.send({ type: 'offer', id: 'b', session, to: other.id, cameras: ['front'], sdp });
    expect(await viewer.next('error')).toMatchObject({ code: 'unknown-peer', ref: 'b' });
    viewer.send({ type: 'offer', id: 'c', session, to: sender.id, cameras: ['nope'], sdp });
    expect(await viewer.next('error')).toMatchObject({ code: 'bad-message', ref: 'c' });
    sender.send({ type: 'offer', id: 'd', session, to: sender.id, cameras: ['front'], sdp });
    expect(await sender.next('error')).toMatchObject({ code: 'forbidden', ref: 'd' });
    viewer.send({ type: 'offer', session, to: sender.id, cameras: ['front'], sdp });
    await sender.next('offer');
    viewer.send({ type: 'answer', id: 'e', session, sdp });
    expect(await viewer.next('error')).toMatchObject({ code: 'forbidden', ref: 'e' });
    expect(other.received.filter((m) => m.type !== 'sender-online')).toEqual([]);
  });

  it('ends sessions and tells the other side when a peer leaves', async () => {
    await start();
    const sender = await register('sender');
    const v1 = await register('viewer');
    const v2 = await register('viewer');
    v1.send({ type: 'offer', session: 'session-v1-000001', to: sender.id, cameras: ['front'], sdp });
    v2.send({ type: 'offer', session: 'session-v2-000002', to: sender.id, cameras: ['front'], sdp });
    await sender.next('offer');
    await sender.next('offer');
    v1.socket.close();
    expect(await sender.next('bye')).toMatchObject({
      session: 'session-v1-000001',
      from: v1.id,
      reason: 'viewer left',
    });
    sender.socket.close();
    expect(await v2.next('bye')).toMatchObject({
      session: 'session-v2-000002',
      from: sender.id,
      reason: 'sender left',
    });
    expect((await v2.next('sender-offline')).senderId).toBe(sender.id);
    await sleep(50);
    expect(server.stats()).toMatchObject({ sessions: 0, senders: 0, viewers: 1 });
  });

  it('caps sessions per sender', async () => {
    await start({ maxSessionsPerSender: 2 });
    const sender = await register('sender');
    const viewer = await register('viewer');
    for (const id of ['session-cap-000001', 'session-cap-000002']) {
      viewer.send({ type: 'offer', session: id, to: sender.id, cameras: ['front'], sdp });
      await sender.next('offer');
    }
    viewer.send({
      type: 'offer',
      id: 'third',
      session: 'session-cap-000003',
      to: sender.id,
      cameras: ['front'],
      sdp,
    });
    expect(await viewer.next('error')).toMatchObject({ code: 'server-full', ref: 'third' });
  });
});

describe('security', () => {
  it('enforces the sender token, and the viewer token when set', async () => {
    await start({ senderToken: 'sender-secret', viewerToken: 'viewer-secret' });
    for (const [role, token] of [
      ['sender', undefined],
      ['sender', 'wrong'],
      ['sender', 'viewer-secret'],
      ['viewer', undefined],
      ['viewer', 'sender-secret'],
    ] as const) {
      const peer = await open();
      peer.send({
        type: 'hello',
        protocol: 1,
        role,
        name: 'spoof',
        ...(token === undefined ? {} : { token }),
      });
      expect(await peer.next('error')).toMatchObject({ code: 'unauthorized' });
      expect((await peer.closed()).code).toBe(4001);
    }
    expect(server.stats()).toMatchObject({ senders: 0, viewers: 0 });
    await register('sender', { token: 'sender-secret' });
    await register('viewer', { token: 'viewer-secret' });
    expect(server.stats()).toMatchObject({ senders: 1, viewers: 1 });
  });

  it('enforces allowed origins for browsers and lets non-browser clients in', async () => {
    await start({ allowedOrigins: ['http://robot.local:8080'] });
    const refused = new WebSocket(server.url, { origin: 'http://evil.example' });
    const status = await new Promise<number | undefined>((resolve) => {
      refused.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      refused.on('open', () => resolve(undefined));
      refused.on('error', () => undefined);
    });
    expect(status).toBe(403);
    const allowed = await open({ origin: 'http://robot.local:8080' });
    allowed.send({ type: 'hello', protocol: 1, role: 'viewer', name: 'ok' });
    await allowed.next('welcome');
    await register('sender');
    const metrics = await server.metrics.registry.getSingleMetricAsString('robocam_messages_rejected_total');
    expect(metrics).toMatch(/reason="origin"} 1/);
  });
});

describe('bad input', () => {
  it('answers each kind with an error, counts it, and keeps the connection and others working', async () => {
    await start();
    const bystander = await register('viewer');
    const peer = await register('viewer');
    const cases: [string | Buffer, boolean, string][] = [
      ['this is not json', false, 'bad-json'],
      [Buffer.from([0, 1, 2, 255]), true, 'binary-not-supported'],
      ['{"type":"self-destruct"}', false, 'bad-message'],
      ['{"type":"offer","session":"x"}', false, 'bad-message'],
      ['{"type":"hello","protocol":"one"}', false, 'bad-message'],
      [`{"type":"ping","t0":1,"pad":"${'x'.repeat(1000)}"}`, false, 'ok'],
      ['['.repeat(2000) + ']'.repeat(2000), false, 'bad-message'],
    ];
    for (const [data, binary, code] of cases) {
      peer.sendRaw(data, binary);
      if (code === 'ok') await peer.next('pong');
      else expect((await peer.next('error')).code).toBe(code);
    }
    await peer.assertAlive();
    await bystander.assertAlive();
    expect(bystander.received.filter((m) => m.type === 'error')).toEqual([]);
    const metrics = await server.metrics.registry.getSingleMetricAsString('robocam_messages_rejected_total');
    expect(metrics).toMatch(/reason="bad-json"} 1/);
    expect(metrics).toMatch(/reason="binary-not-supported"} 1/);
    expect(metrics).toMatch(/reason="bad-message"} 4/);
  });

  it('closes an oversize message with 1009 and nobody else', async () => {
    await start({ maxMessageBytes: 4096 });
    const bystander = await register('viewer');
    const peer = await register('viewer');
    peer.sendRaw(JSON.stringify({ type: 'ping', t0: 1, pad: 'x'.repeat(10_000) }));
    expect((await peer.closed()).code).toBe(1009);
    await bystander.assertAlive();
  });

  it('closes a flooder with 4029 and nobody else', async () => {
    await start({ messagesPerSecond: 20, messageBurst: 40 });
    const bystander = await register('viewer');
    const flooder = await register('viewer');
    for (let i = 0; i < 500; i++) flooder.send({ type: 'ping', t0: i });
    expect((await flooder.closed()).code).toBe(4029);
    await bystander.assertAlive();
    expect(server.stats().viewers).toBe(1);
  });
});

describe('liveness and lifecycle', () => {
  it('drops a socket that stops answering pings', async () => {
    await start({ heartbeatMs: 100 });
    const silent = await register('viewer');
    const lively = await register('viewer');
    // ws answers pings automatically; stop that to simulate a dead peer.
    (silent.socket as unknown as { _autoPong: boolean })._autoPong = false;
    silent.socket.pause();
    await sleep(450);
    expect(server.stats().viewers).toBe(1);
    await lively.assertAlive();
  });

  it('serves /healthz and /metrics on the same port', async () => {
    await start();
    await register('sender');
    const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', senders: 1, viewers: 0 });
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(metrics).toContain('robocam_connected_senders 1');
    expect(metrics).toContain('robocam_messages_routed_total');
    expect((await fetch(`http://127.0.0.1:${server.port}/nope`)).status).toBe(404);
  });

  it('shuts down gracefully: every socket gets 1001 with a reason', async () => {
    await start();
    const a = await register('viewer');
    const b = await register('sender');
    await server.close();
    expect(await a.closed()).toEqual({ code: 1001, reason: 'server shutting down' });
    expect((await b.closed()).code).toBe(1001);
    expect(server.closed).toBe(true);
    await server.close();
  });
});
