import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PROTOCOL_VERSION, type ServerMessage } from '@robocam/protocol';
import fc from 'fast-check';
import { createSignalingServer, type SignalingServer } from '../src/index.js';
import { camera, sleep, TestPeer } from './helpers.js';

// ≥ 10,000 generated hostile messages over real sockets, interleaved with a legitimate
// viewer/sender session that must keep working, and must never see a message not meant for it.

const TOTAL_MESSAGES = 10_000;
const ATTACKERS = 6;
const legitSession = 'legit-session-000001';

// A real garbage collection before each heap reading, so growth means retained memory.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
function heapAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

let server: SignalingServer;
beforeAll(async () => {
  // Generous rate limits: the point is what the server does with the content, not the flood guard
  // (tested separately); attackers that still get closed reconnect.
  server = await createSignalingServer({
    port: 0,
    host: '127.0.0.1',
    messagesPerSecond: 100_000,
    messageBurst: 100_000,
  });
});
afterAll(async () => {
  await server.close();
});

const templates = [
  { type: 'hello', protocol: PROTOCOL_VERSION, role: 'viewer', name: 'x' },
  { type: 'hello', protocol: PROTOCOL_VERSION, role: 'sender', name: 'x', cameras: [camera] },
  { type: 'offer', session: legitSession, to: 's-x', cameras: ['front'], sdp: 'v=0' },
  { type: 'answer', session: legitSession, sdp: 'v=0' },
  {
    type: 'candidate',
    session: legitSession,
    candidate: { candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host' },
  },
  { type: 'bye', session: legitSession },
  { type: 'ping', session: legitSession, t0: 1 },
  { type: 'pong', session: legitSession, t0: 1, t1: 2 },
  { type: 'cameras', cameras: [camera] },
];

/** One hostile frame: text or binary. */
const hostile: fc.Arbitrary<{ data: string | Buffer; binary: boolean }> = fc.oneof(
  // random JSON
  fc.jsonValue().map((value) => ({ data: JSON.stringify(value), binary: false })),
  // valid-looking messages with one field replaced by junk (including the legit session id)
  fc
    .tuple(fc.constantFrom(...templates), fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }))
    .map(([template, key, value]) => ({
      data: JSON.stringify({ ...template, [key.length > 0 ? key : 'type']: value }),
      binary: false,
    })),
  // exact templates: foreign session ids, offers to unknown peers, second hellos
  fc.constantFrom(...templates).map((template) => ({ data: JSON.stringify(template), binary: false })),
  // huge strings
  fc.integer({ min: 1_000, max: 60_000 }).map((size) => ({
    data: JSON.stringify({ type: 'ping', t0: 1, pad: 'x'.repeat(size) }),
    binary: false,
  })),
  // deep nesting
  fc
    .integer({ min: 100, max: 20_000 })
    .map((depth) => ({ data: '['.repeat(depth) + ']'.repeat(depth), binary: false })),
  // broken text
  fc.string({ maxLength: 200 }).map((text) => ({ data: text, binary: false })),
  // binary
  fc.uint8Array({ maxLength: 2048 }).map((bytes) => ({ data: Buffer.from(bytes), binary: true })),
);

describe('signaling fuzz', () => {
  it(`survives ${TOTAL_MESSAGES} hostile messages while a real session keeps working`, async () => {
    const sender = await TestPeer.register(server.url, 'sender', { name: 'legit-sender' });
    const viewer = await TestPeer.register(server.url, 'viewer', { name: 'legit-viewer' });
    viewer.send({ type: 'offer', session: legitSession, to: sender.id, cameras: ['front'], sdp: 'v=0\r\n' });
    await sender.next('offer');
    const heapBefore = heapAfterGc();

    let sent = 0;
    let reconnects = 0;
    const attackers: TestPeer[] = [];
    for (let i = 0; i < ATTACKERS; i++) attackers.push(await TestPeer.open(server.url));

    let legitRoundTrips = 0;
    for (let start = 0; start < TOTAL_MESSAGES; start += 200) {
      // Generated batch by batch, so the test itself holds no more than one batch.
      const batch = fc.sample(hostile, { numRuns: 200, seed: 42 + start });
      for (const [index, sample] of batch.entries()) {
        const slot = index % ATTACKERS;
        let attacker = attackers[slot]!;
        if (attacker.closeEvent !== undefined || attacker.socket.readyState !== attacker.socket.OPEN) {
          attacker = await TestPeer.open(server.url);
          attackers[slot] = attacker;
          reconnects += 1;
        }
        attacker.sendRaw(sample.data, sample.binary);
        sent += 1;
      }
      // The legitimate session, interleaved: a candidate each way and a clock ping.
      const candidate = {
        candidate: `candidate:${start} 1 udp 1 127.0.0.2 ${1000 + (start % 50000)} typ host`,
      };
      viewer.send({ type: 'candidate', session: legitSession, candidate });
      expect((await sender.next('candidate')).candidate).toEqual(candidate);
      sender.send({ type: 'candidate', session: legitSession, candidate });
      expect((await viewer.next('candidate')).candidate).toEqual(candidate);
      viewer.send({ type: 'ping', id: `p${start}`, session: legitSession, t0: start });
      const ping = await sender.next('ping');
      sender.send({ type: 'pong', id: ping.id!, session: legitSession, t0: ping.t0, t1: 1 });
      expect((await viewer.next('pong')).t0).toBe(start);
      legitRoundTrips += 1;
    }
    expect(sent).toBe(TOTAL_MESSAGES);
    expect(legitRoundTrips).toBe(TOTAL_MESSAGES / 200);

    // Nothing addressed elsewhere reached the legitimate pair: every routed message they got
    // comes from their partner, in their session.
    const routed = (messages: ServerMessage[]) =>
      messages.filter((m) => ['offer', 'answer', 'candidate', 'bye', 'ping', 'pong'].includes(m.type));
    for (const [peer, partner] of [
      [sender, viewer],
      [viewer, sender],
    ] as const) {
      for (const message of routed(peer.received)) {
        expect(message).toMatchObject({ from: partner.id, session: legitSession });
      }
    }
    expect(sender.received.filter((m) => m.type === 'error')).toEqual([]);
    expect(viewer.received.filter((m) => m.type === 'error')).toEqual([]);

    for (const attacker of attackers) attacker.socket.terminate();
    await sleep(200);
    // Everything the attackers created is gone again; the legitimate pair remains.
    expect(server.stats()).toMatchObject({ viewers: 1, senders: 1, sessions: 1, connections: 2 });
    const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(health.status).toBe(200);
    sender.received.length = 0;
    viewer.received.length = 0;
    const heapGrowthMb = (heapAfterGc() - heapBefore) / 2 ** 20;
    expect(heapGrowthMb).toBeLessThan(16);
    const rejected = await server.metrics.registry.getSingleMetricAsString('robocam_messages_rejected_total');
    process.stdout.write(
      `fuzz: ${sent} hostile messages, ${reconnects} attacker reconnects, heap +${heapGrowthMb.toFixed(1)} MiB\n${rejected}\n`,
    );
    sender.close();
    viewer.close();
  }, 120_000);
});
