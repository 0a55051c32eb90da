import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  byeCodeSchema,
  isRetryableByeCode,
  encodeMessage,
  LIMITS,
  parseClientMessage,
  parseServerMessage,
  PROTOCOL_VERSION,
  type CameraInfo,
  type ClientMessage,
  type ServerMessage,
} from '../src/index.js';

const camera: CameraInfo = {
  id: 'front',
  label: 'Front camera',
  width: 1280,
  height: 720,
  fps: 30,
  codec: 'vp8',
  status: 'live',
};
const session = 'sess_0123456789abcdef';
const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

const clientMessages: ClientMessage[] = [
  {
    type: 'hello',
    id: 'h1',
    protocol: PROTOCOL_VERSION,
    role: 'sender',
    name: 'robot-1',
    token: 't',
    cameras: [camera],
  },
  { type: 'hello', protocol: PROTOCOL_VERSION, role: 'viewer', name: 'Ada’s laptop' },
  { type: 'offer', id: 'o1', session, to: 's-abc', cameras: ['front'], sdp },
  { type: 'answer', session, sdp },
  {
    type: 'candidate',
    session,
    candidate: {
      candidate: 'candidate:1 1 udp 2130706431 127.0.0.2 5000 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
    },
  },
  { type: 'candidate', session, candidate: null },
  { type: 'bye', session, reason: 'done' },
  { type: 'ping', id: 'p1', t0: 1_700_000_000_000 },
  { type: 'ping', session, t0: 1 },
  { type: 'pong', session, t0: 1, t1: 2 },
  { type: 'cameras', cameras: [camera, { ...camera, id: 'rear', status: 'lost', detail: 'unplugged' }] },
  {
    type: 'link-stats',
    id: 'link-stats',
    session,
    estimateKbps: 820,
    receivedKbps: 790,
    lossPct: 0,
    rttMs: 3,
    pacerQueueMs: 12,
    cameras: [
      {
        camera: 'front',
        targetKbps: 700,
        maxKbps: 2500,
        encodedWidth: 640,
        encodedHeight: 360,
        temporalLayer: 1,
        maxTemporalLayer: 1,
      },
    ],
  },
];

const serverMessages: ServerMessage[] = [
  {
    type: 'welcome',
    ref: 'h1',
    protocol: PROTOCOL_VERSION,
    peerId: 'v-1',
    role: 'viewer',
    senders: [{ id: 's-1', name: 'robot', cameras: [camera] }],
    heartbeatMs: 10_000,
    serverTime: 5,
  },
  { type: 'sender-online', sender: { id: 's-1', name: 'robot', cameras: [] } },
  { type: 'sender-offline', senderId: 's-1' },
  { type: 'offer', session, from: 'v-1', cameras: ['front'], sdp },
  { type: 'answer', session, from: 's-1', sdp },
  { type: 'candidate', session, from: 's-1', candidate: null },
  { type: 'bye', session, from: 's-1', reason: 'sender left' },
  { type: 'ping', session, from: 'v-1', t0: 1 },
  { type: 'pong', t0: 1, t1: 2, id: 'c3' },
  { type: 'link-stats', session, from: 's-1', cameras: [{ camera: 'front', maxTemporalLayer: 0 }] },
  { type: 'error', code: 'unknown-session', message: 'no such session', ref: 'x', session },
];

describe('message schemas', () => {
  it.each(clientMessages.map((m) => [m.type, m] as const))('client %s round-trips', (_type, message) => {
    const parsed = parseClientMessage(encodeMessage(message));
    expect(parsed).toEqual({ ok: true, message });
  });

  it.each(serverMessages.map((m) => [m.type, m] as const))('server %s round-trips', (_type, message) => {
    const parsed = parseServerMessage(encodeMessage(message));
    expect(parsed).toEqual({ ok: true, message });
  });

  it('covers every message type of both directions', () => {
    expect(new Set(clientMessages.map((m) => m.type)).size).toBe(9);
    expect(new Set(serverMessages.map((m) => m.type)).size).toBe(11);
  });
});

describe('hostile input', () => {
  const cases: [string, string | Uint8Array, string][] = [
    ['not JSON', '{"type":', 'bad-json'],
    ['binary', new Uint8Array([1, 2, 3]), 'binary-not-supported'],
    ['oversize', `{"type":"ping","t0":1,"x":"${'a'.repeat(LIMITS.maxMessageBytes)}"}`, 'too-large'],
    ['unknown type', '{"type":"launch-missiles"}', 'bad-message'],
    ['no type', '{"t0":1}', 'bad-message'],
    ['array', '[1,2,3]', 'bad-message'],
    ['null', 'null', 'bad-message'],
    ['string', '"hello"', 'bad-message'],
    ['wrong field type', '{"type":"ping","t0":"now"}', 'bad-message'],
    ['bad role', `{"type":"hello","protocol":1,"role":"admin","name":"x"}`, 'bad-message'],
    ['name with markup', `{"type":"hello","protocol":1,"role":"viewer","name":"<script>"}`, 'bad-message'],
    ['short session id', `{"type":"bye","session":"abc"}`, 'bad-message'],
    ['session id with slash', `{"type":"bye","session":"../../etc/passwd"}`, 'bad-message'],
    [
      'oversized SDP',
      JSON.stringify({ type: 'answer', session, sdp: 'x'.repeat(LIMITS.maxSdpLength + 1) }),
      'bad-message',
    ],
    [
      'camera id with spaces',
      JSON.stringify({ type: 'offer', session, to: 's-1', cameras: ['a b'], sdp }),
      'bad-message',
    ],
    ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`, 'bad-message'],
    ['prototype pollution', '{"type":"ping","t0":1,"__proto__":{"admin":true}}', 'ok'],
  ];

  it.each(cases)('%s', (_name, raw, expected) => {
    const parsed = parseClientMessage(raw);
    if (expected === 'ok') {
      expect(parsed.ok).toBe(true);
      expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
      return;
    }
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe(expected);
      expect(parsed.error.message.length).toBeGreaterThan(0);
    }
  });

  it('echoes the offending message id so the sender can match the error', () => {
    const parsed = parseClientMessage('{"type":"ping","id":"req-7","t0":"soon"}');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.ref).toBe('req-7');
  });

  it('does not reflect hostile content back in error messages', () => {
    const parsed = parseClientMessage(
      JSON.stringify({ type: 'hello', protocol: 1, role: 'viewer', name: '<img onerror=x>' }),
    );
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.message).not.toContain('<img');
  });

  it('never throws and never accepts garbage, for arbitrary JSON (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const raw = JSON.stringify(value);
        const client = parseClientMessage(raw);
        const server = parseServerMessage(raw);
        // Arbitrary values essentially never form a valid message; when one does, it must be typed.
        if (client.ok) expect(typeof client.message.type).toBe('string');
        if (server.ok) expect(typeof server.message.type).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects valid-looking messages with one field corrupted (property)', () => {
    const corruptions = fc.oneof(
      fc.constant(undefined),
      fc.integer(),
      fc.string({ maxLength: 3 }),
      fc.constant(null),
      fc.array(fc.integer(), { maxLength: 2 }),
      fc.object({ maxDepth: 1 }),
    );
    const required: Record<string, string[]> = {
      hello: ['role', 'name'],
      offer: ['session', 'to', 'cameras', 'sdp'],
      answer: ['session', 'sdp'],
      bye: ['session'],
      ping: ['t0'],
      cameras: ['cameras'],
    };
    const templates = clientMessages.filter((m) => m.type in required);
    fc.assert(
      fc.property(fc.constantFrom(...templates), fc.nat(), corruptions, (template, pick, replacement) => {
        const fields = required[template.type]!;
        const field = fields[pick % fields.length]!;
        const original = (template as Record<string, unknown>)[field];
        fc.pre(JSON.stringify(replacement) !== JSON.stringify(original));
        // A short string is still a valid name, sdp or (rarely) token-like value; only check the
        // fields whose constraints every short string or number violates.
        fc.pre(!(typeof replacement === 'string' && ['name', 'sdp', 'to'].includes(field)));
        fc.pre(!(typeof replacement === 'number' && field === 't0'));
        fc.pre(!(Array.isArray(replacement) && replacement.length === 0 && field === 'cameras'));
        const corrupted = { ...template, [field]: replacement };
        expect(parseClientMessage(JSON.stringify(corrupted)).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('link-stats', () => {
  const valid = {
    type: 'link-stats',
    session,
    estimateKbps: 820,
    cameras: [{ camera: 'front', maxTemporalLayer: 1 }],
  };

  it.each([
    ['a fractional rate', { estimateKbps: 820.5 }],
    ['a negative rate', { estimateKbps: -1 }],
    ['loss above 100 %', { lossPct: 101 }],
    ['an hour of queue', { pacerQueueMs: 3_600_000 }],
    ['a layer beyond VP8 temporal layers', { cameras: [{ camera: 'front', maxTemporalLayer: 8 }] }],
    ['a camera id with spaces', { cameras: [{ camera: 'a b', maxTemporalLayer: 0 }] }],
    ['no cameras field', { cameras: undefined }],
    ['more cameras than a sender has', { cameras: Array(LIMITS.maxCameras + 1).fill(valid.cameras[0]) }],
  ])('refuses %s', (_name, change) => {
    expect(parseClientMessage(JSON.stringify({ ...valid, ...change })).ok).toBe(false);
  });

  it('accepts a message that knows nothing yet but its cameras', () => {
    const parsed = parseClientMessage(JSON.stringify({ type: 'link-stats', session, cameras: [] }));
    expect(parsed.ok).toBe(true);
  });

  it('parses only with a routing origin on the way to the viewer', () => {
    expect(parseServerMessage(JSON.stringify(valid)).ok).toBe(false);
    expect(parseServerMessage(JSON.stringify({ ...valid, from: 's-1' })).ok).toBe(true);
  });
});

describe('bye codes', () => {
  it('parse with and without a code, and refuse unknown ones', () => {
    const session = 'abcdefgh12';
    expect(parseClientMessage(JSON.stringify({ type: 'bye', session, code: 'no-common-codec' })).ok).toBe(
      true,
    );
    expect(parseClientMessage(JSON.stringify({ type: 'bye', session })).ok).toBe(true);
    expect(parseClientMessage(JSON.stringify({ type: 'bye', session, code: 'whatever' })).ok).toBe(false);
  });

  it('say which endings are worth retrying', () => {
    for (const code of ['unknown-camera', 'no-common-codec', 'bad-offer'] as const) {
      expect(isRetryableByeCode(code)).toBe(false);
    }
    for (const code of byeCodeSchema.options.filter(
      (c) => !['unknown-camera', 'no-common-codec', 'bad-offer'].includes(c),
    )) {
      expect(isRetryableByeCode(code)).toBe(true);
    }
    expect(isRetryableByeCode(undefined)).toBe(true);
  });
});
