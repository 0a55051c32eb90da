import { describe, expect, it } from '@jest/globals';
import { PROTOCOL_VERSION, type ClientMessageOf, type ServerMessage } from '@robocam/protocol';
import { SignalingRouter, UNAUTHORIZED_CLOSE_CODE, type PeerLink, type PeerTransport } from '../src/index.js';
import { camera } from './helpers.js';

/** A transport that is a plain object: records what the router sends and whether it closed it. */
class Party implements PeerTransport {
  readonly remote: string;
  readonly inbox: ServerMessage[] = [];
  closedWith: { code: number; reason: string } | undefined;
  link!: PeerLink;

  constructor(remote: string) {
    this.remote = remote;
  }

  send(message: ServerMessage): void {
    this.inbox.push(message);
  }

  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }

  /** Removes and returns every received message of `type`. */
  take<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    const taken = this.inbox.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
    for (const m of taken) this.inbox.splice(this.inbox.indexOf(m), 1);
    return taken;
  }

  get id(): string {
    const peer = this.link.peer;
    if (peer === undefined) throw new Error(`${this.remote} is not registered`);
    return peer.id;
  }
}

function attach(router: SignalingRouter, remote: string): Party {
  const party = new Party(remote);
  party.link = router.attach(party);
  return party;
}

function register(router: SignalingRouter, role: 'viewer' | 'sender', name: string = role): Party {
  const party = attach(router, name);
  party.link.receive({
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    role,
    name,
    ...(role === 'sender' ? { cameras: [camera] } : {}),
  });
  expect(party.take('welcome')).toHaveLength(1);
  return party;
}

const SDP = 'v=0\r\n';

/** A viewer and a sender with one open session `s1` (the offer delivered and taken). */
function withSession(router = new SignalingRouter()): {
  router: SignalingRouter;
  viewer: Party;
  sender: Party;
} {
  const sender = register(router, 'sender');
  const viewer = register(router, 'viewer');
  viewer.take('sender-online');
  viewer.link.receive({ type: 'offer', session: 's1', to: sender.id, cameras: ['front'], sdp: SDP });
  expect(sender.take('offer')).toHaveLength(1);
  return { router, viewer, sender };
}

describe('SignalingRouter', () => {
  it('welcomes a viewer with the online senders, its id, the heartbeat and the server time', () => {
    const router = new SignalingRouter({ heartbeatMs: 5000, now: () => 1234 });
    const sender = register(router, 'sender', 'robot');
    const viewer = attach(router, 'viewer');
    viewer.link.receive({ type: 'hello', id: 'h1', protocol: PROTOCOL_VERSION, role: 'viewer', name: 'v' });
    expect(viewer.take('welcome')).toEqual([
      {
        type: 'welcome',
        ref: 'h1',
        protocol: PROTOCOL_VERSION,
        peerId: viewer.id,
        role: 'viewer',
        senders: [{ id: sender.id, name: 'robot', cameras: [camera] }],
        heartbeatMs: 5000,
        serverTime: 1234,
      },
    ]);
    expect(viewer.id).toMatch(/^v-/);
    expect(sender.id).toMatch(/^s-/);
    expect(router.stats()).toEqual({ viewers: 1, senders: 1, sessions: 0 });
  });

  it('tells viewers when a sender comes, changes its cameras and goes', () => {
    const router = new SignalingRouter();
    const viewer = register(router, 'viewer');
    const sender = register(router, 'sender', 'robot');
    expect(viewer.take('sender-online')).toEqual([
      { type: 'sender-online', sender: { id: sender.id, name: 'robot', cameras: [camera] } },
    ]);
    const back = { ...camera, id: 'back' };
    sender.link.receive({ type: 'cameras', cameras: [camera, back] });
    expect(viewer.take('sender-online')[0]?.sender.cameras).toEqual([camera, back]);
    sender.link.leave(1000);
    expect(viewer.take('sender-offline')).toEqual([{ type: 'sender-offline', senderId: sender.id }]);
    expect(router.findSender(undefined)).toBeUndefined();
    expect(router.senderWasSeen('robot')).toBe(true);
    expect(router.senderWasSeen('other')).toBe(false);
  });

  it('refuses messages before hello, a second hello and a wrong version', () => {
    const router = new SignalingRouter();
    const party = attach(router, 'p');
    party.link.receive({ type: 'ping', id: 'p1', t0: 1 });
    party.link.receive({
      type: 'hello',
      id: 'h0',
      protocol: PROTOCOL_VERSION + 1,
      role: 'viewer',
      name: 'v',
    });
    expect(party.take('error').map((e) => [e.code, e.ref])).toEqual([
      ['not-registered', 'p1'],
      ['unsupported-version', 'h0'],
    ]);
    party.link.receive({ type: 'hello', protocol: PROTOCOL_VERSION, role: 'viewer', name: 'v' });
    party.link.receive({ type: 'hello', id: 'h2', protocol: PROTOCOL_VERSION, role: 'viewer', name: 'v' });
    expect(party.take('error').map((e) => e.code)).toEqual(['already-registered']);
  });

  it('refuses a hello its authorizer rejects and closes that transport with 4001', () => {
    const router = new SignalingRouter({ authorize: (role, token) => role === 'viewer' || token === 'k' });
    const intruder = attach(router, 'intruder');
    intruder.link.receive({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      role: 'sender',
      name: 's',
      token: 'x',
    });
    expect(intruder.take('error').map((e) => e.code)).toEqual(['unauthorized']);
    expect(intruder.closedWith).toEqual({ code: UNAUTHORIZED_CLOSE_CODE, reason: 'unauthorized' });
    expect(intruder.link.peer).toBeUndefined();
    const sender = attach(router, 'sender');
    sender.link.receive({ type: 'hello', protocol: PROTOCOL_VERSION, role: 'sender', name: 's', token: 'k' });
    expect(sender.take('welcome')).toHaveLength(1);
    expect(sender.closedWith).toBeUndefined();
  });

  it('routes a session both ways, stamping each message with its true origin', () => {
    const { router, viewer, sender } = withSession();
    expect(router.stats().sessions).toBe(1);
    const candidate = {
      candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
    };
    sender.link.receive({ type: 'answer', session: 's1', sdp: SDP });
    sender.link.receive({ type: 'candidate', session: 's1', candidate });
    viewer.link.receive({ type: 'candidate', session: 's1', candidate: null });
    viewer.link.receive({ type: 'ping', id: 'q', session: 's1', t0: 5 });
    sender.link.receive({ type: 'pong', id: 'q', session: 's1', t0: 5, t1: 6 });
    expect(viewer.inbox).toEqual([
      { type: 'answer', session: 's1', sdp: SDP, from: sender.id },
      { type: 'candidate', session: 's1', candidate, from: sender.id },
      { type: 'pong', id: 'q', session: 's1', t0: 5, t1: 6, from: sender.id },
    ]);
    expect(sender.inbox).toEqual([
      { type: 'candidate', session: 's1', candidate: null, from: viewer.id },
      { type: 'ping', id: 'q', session: 's1', t0: 5, from: viewer.id },
    ]);
  });

  it('delivers the offer without `to` and with the viewer as `from`', () => {
    const router = new SignalingRouter();
    const sender = register(router, 'sender');
    const viewer = register(router, 'viewer');
    viewer.link.receive({
      type: 'offer',
      id: 'o',
      session: 's1',
      to: sender.id,
      cameras: ['front'],
      sdp: SDP,
    });
    expect(sender.inbox).toEqual([
      { type: 'offer', id: 'o', session: 's1', cameras: ['front'], sdp: SDP, from: viewer.id },
    ]);
  });

  it('routes bye with its code and reason unchanged and ends the session', () => {
    const { router, viewer, sender } = withSession();
    viewer.link.receive({ type: 'bye', session: 's1', code: 'closed', reason: 'tab hidden' });
    expect(sender.take('bye')).toEqual([
      { type: 'bye', session: 's1', code: 'closed', reason: 'tab hidden', from: viewer.id },
    ]);
    expect(router.stats().sessions).toBe(0);
    sender.link.receive({ type: 'answer', session: 's1', sdp: SDP });
    expect(sender.take('error').map((e) => e.code)).toEqual(['unknown-session']);
    expect(viewer.inbox).toEqual([]);
  });

  it('routes link-stats from the sender to the viewer of that session only', () => {
    const { router, viewer, sender } = withSession();
    const other = register(router, 'sender', 'other robot');
    viewer.take('sender-online');
    const stats: ClientMessageOf<'link-stats'> = {
      type: 'link-stats',
      id: 'link-stats',
      session: 's1',
      estimateKbps: 820,
      pacerQueueMs: 12,
      cameras: [{ camera: 'front', targetKbps: 700, temporalLayer: 0, maxTemporalLayer: 1 }],
    };
    sender.link.receive(stats);
    expect(viewer.inbox).toEqual([{ ...stats, from: sender.id }]);
    viewer.inbox.length = 0;
    // Nobody else can put words in the sender's mouth: not the viewer, not another sender.
    viewer.link.receive(stats);
    other.link.receive(stats);
    expect(viewer.take('error')).toEqual([
      {
        type: 'error',
        code: 'forbidden',
        message: 'only senders report link stats',
        ref: 'link-stats',
        session: 's1',
      },
    ]);
    expect(other.take('error').map((e) => e.code)).toEqual(['unknown-session']);
    expect(viewer.inbox).toEqual([]);
    expect(sender.inbox).toEqual([]);
    expect(router.stats().sessions).toBe(1);
  });

  it('answers a ping without a session itself', () => {
    const router = new SignalingRouter({ now: () => 99 });
    const viewer = register(router, 'viewer');
    viewer.link.receive({ type: 'ping', id: 'p', t0: 7 });
    expect(viewer.inbox).toEqual([{ type: 'pong', id: 'p', t0: 7, t1: 99 }]);
  });

  it('refuses spoofing: a third peer cannot use, take over or end another pair’s session', () => {
    const { router, viewer, sender } = withSession();
    const intruder = register(router, 'viewer', 'intruder');
    intruder.link.receive({ type: 'candidate', id: 'c', session: 's1', candidate: null });
    intruder.link.receive({ type: 'bye', session: 's1' });
    intruder.link.receive({ type: 'offer', session: 's1', to: sender.id, cameras: ['front'], sdp: SDP });
    expect(intruder.take('error').map((e) => e.code)).toEqual([
      'unknown-session',
      'unknown-session',
      'session-exists',
    ]);
    expect(viewer.inbox).toEqual([]);
    expect(sender.inbox).toEqual([]);
    expect(router.stats().sessions).toBe(1);
  });

  it('refuses role violations and offers to unknown senders or cameras', () => {
    const { viewer, sender } = withSession();
    viewer.link.receive({ type: 'answer', session: 's1', sdp: SDP });
    viewer.link.receive({ type: 'cameras', cameras: [] });
    viewer.link.receive({ type: 'offer', session: 's2', to: viewer.id, cameras: ['front'], sdp: SDP });
    viewer.link.receive({ type: 'offer', session: 's3', to: sender.id, cameras: ['nope'], sdp: SDP });
    sender.link.receive({ type: 'offer', session: 's4', to: sender.id, cameras: ['front'], sdp: SDP });
    expect(viewer.take('error').map((e) => e.code)).toEqual([
      'forbidden',
      'forbidden',
      'unknown-peer',
      'bad-message',
    ]);
    expect(sender.take('error').map((e) => e.code)).toEqual(['forbidden']);
    expect(sender.inbox).toEqual([]);
  });

  it('caps sessions per viewer and per sender', () => {
    const router = new SignalingRouter({ maxSessionsPerViewer: 1, maxSessionsPerSender: 2 });
    const sender = register(router, 'sender');
    const a = register(router, 'viewer', 'a');
    const b = register(router, 'viewer', 'b');
    const offer = (from: Party, session: string): void => {
      from.link.receive({ type: 'offer', session, to: sender.id, cameras: ['front'], sdp: SDP });
    };
    offer(a, 'a1');
    offer(a, 'a2');
    offer(b, 'b1');
    offer(register(router, 'viewer', 'c'), 'c1');
    expect(sender.take('offer').map((o) => o.session)).toEqual(['a1', 'b1']);
    expect(a.take('error').map((e) => e.code)).toEqual(['server-full']);
  });

  it('ends a leaving viewer’s sessions: the sender gets a bye, the session is gone', () => {
    const { router, viewer, sender } = withSession();
    viewer.link.leave(1001);
    expect(sender.take('bye')).toEqual([
      { type: 'bye', session: 's1', from: viewer.id, reason: 'viewer left' },
    ]);
    expect(router.stats()).toEqual({ viewers: 0, senders: 1, sessions: 0 });
    viewer.link.leave(1001); // idempotent
    expect(sender.inbox).toEqual([]);
  });

  it('ends a leaving sender’s sessions and tells every viewer it is offline', () => {
    const { router, viewer, sender } = withSession();
    const other = register(router, 'viewer', 'other');
    sender.link.leave(1006);
    expect(viewer.inbox).toEqual([
      { type: 'bye', session: 's1', from: sender.id, reason: 'sender left' },
      { type: 'sender-offline', senderId: sender.id },
    ]);
    expect(other.inbox).toEqual([{ type: 'sender-offline', senderId: sender.id }]);
    expect(router.stats()).toEqual({ viewers: 2, senders: 0, sessions: 0 });
  });

  it('admits an already-registered viewer through join(), routed like any other', () => {
    const router = new SignalingRouter();
    const sender = register(router, 'sender');
    const party = new Party('whep');
    const link = router.join(party, { name: 'WHEP viewer', idPrefix: 'w' });
    expect(link.peer.id).toMatch(/^w-/);
    expect(party.inbox).toEqual([]); // no welcome
    link.receive({ type: 'offer', session: 'w1', to: sender.id, cameras: ['front'], sdp: SDP });
    expect(sender.take('offer')[0]?.from).toBe(link.peer.id);
    link.leave(1000);
    expect(sender.take('bye')).toHaveLength(1);
    expect(router.stats()).toEqual({ viewers: 0, senders: 1, sessions: 0 });
  });

  it('reports counts to its observer', () => {
    const events: string[] = [];
    const router = new SignalingRouter({
      observer: {
        routed: (type) => events.push(`routed ${type}`),
        rejected: (code) => events.push(`rejected ${code}`),
        peersChanged: ({ viewers, senders }) => events.push(`peers ${viewers}/${senders}`),
        sessionsChanged: (count) => events.push(`sessions ${count}`),
      },
    });
    const { viewer } = withSession(router);
    viewer.link.receive({ type: 'bye', session: 's1' });
    viewer.link.receive({ type: 'bye', session: 's1' });
    expect(events).toEqual([
      'peers 0/1',
      'peers 1/1',
      'sessions 1',
      'routed offer',
      'routed bye',
      'sessions 0',
      'rejected unknown-session',
    ]);
  });
});
