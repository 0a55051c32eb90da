import { randomBytes } from 'node:crypto';
import {
  PROTOCOL_VERSION,
  type CameraInfo,
  type ClientMessage,
  type ClientMessageOf,
  type ErrorCode,
  type SenderInfo,
  type ServerMessage,
} from '@robocam/protocol';
import { silentLogger, type Logger } from '@robocam/types';
import {
  UNAUTHORIZED_CLOSE_CODE,
  type Peer,
  type PeerLink,
  type PeerRole,
  type PeerTransport,
} from './peer.js';
import { otherParty, SessionTable, type RouterPeer, type Session } from './sessions.js';

/** Counters the router reports as it works; the signaling server feeds them to Prometheus. */
export interface RouterObserver {
  /** A message was forwarded to the other party of a session (`type` is the message type). */
  routed?(type: ServerMessage['type']): void;
  /** A message was refused with an `error` answer carrying `code`. */
  rejected?(code: ErrorCode): void;
  /** The number of registered peers changed. */
  peersChanged?(counts: { viewers: number; senders: number }): void;
  /** The number of open sessions changed. */
  sessionsChanged?(count: number): void;
}

export interface SignalingRouterSettings {
  /** Most concurrent sessions per sender (viewers × their sessions). Default 64. */
  maxSessionsPerSender?: number;
  /** Most concurrent sessions a single viewer may open. Default 16. */
  maxSessionsPerViewer?: number;
  /** Heartbeat interval announced in `welcome`, in ms (the transport enforces it). Default 10 000. */
  heartbeatMs?: number;
  /**
   * Decides whether a hello's token admits its role; the transport owns the secrets. A refused
   * hello gets an `unauthorized` error and its transport is closed with 4001. Default: everyone.
   */
  authorize?: (role: PeerRole, token: string | undefined) => boolean;
  /** Wall clock for `welcome.serverTime` and `pong.t1`, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Counters to report to. Default none. */
  observer?: RouterObserver;
  /** Structured logger (pino-compatible). Default: silent. */
  logger?: Logger;
}

type RoutedMessage = Exclude<ClientMessage, { type: 'hello' }>;

/**
 * The signaling core, free of any transport: registers viewers and senders, opens sessions on
 * offers, routes offer, answer, candidate, bye, ping, pong and link-stats between the two parties of a session,
 * stamping each routed message with its true origin (`from`) and refusing messages for sessions the
 * sender of the message is not a party of. Viewers are told when senders come, change cameras and
 * go. Drive it from any transport through {@link SignalingRouter.attach}.
 */
export class SignalingRouter {
  readonly #maxSessionsPerSender: number;
  readonly #maxSessionsPerViewer: number;
  readonly #heartbeatMs: number;
  readonly #authorize: (role: PeerRole, token: string | undefined) => boolean;
  readonly #now: () => number;
  readonly #observer: RouterObserver;
  readonly #logger: Logger;
  readonly #peers = new Map<string, RouterPeer>();
  readonly #sessions: SessionTable;
  /** Names of senders seen since start: WHEP tells "not online yet" (503) from "unknown" (404). */
  readonly #sendersSeen = new Set<string>();

  constructor({
    maxSessionsPerSender = 64,
    maxSessionsPerViewer = 16,
    heartbeatMs = 10_000,
    authorize = () => true,
    now = Date.now,
    observer = {},
    logger = silentLogger,
  }: SignalingRouterSettings = {}) {
    this.#maxSessionsPerSender = maxSessionsPerSender;
    this.#maxSessionsPerViewer = maxSessionsPerViewer;
    this.#heartbeatMs = heartbeatMs;
    this.#authorize = authorize;
    this.#now = now;
    this.#observer = observer;
    this.#logger = logger;
    this.#sessions = new SessionTable((count) => observer.sessionsChanged?.(count));
  }

  /** Attaches an unregistered party; it registers by sending `hello`. */
  attach(transport: PeerTransport): PeerLink {
    return this.#link(transport, undefined);
  }

  /**
   * Attaches a party that is registered already, without a hello or a welcome: a viewer another
   * protocol admitted (the WHEP bridge). Its id starts with `idPrefix`.
   */
  join(
    transport: PeerTransport,
    { name, idPrefix }: { name: string; idPrefix: string },
  ): PeerLink & { readonly peer: Peer } {
    const peer = this.#addPeer(transport, 'viewer', name, [], idPrefix);
    // Registered from the start, so its `peer` is never undefined.
    return this.#link(transport, peer) as PeerLink & { readonly peer: Peer };
  }

  /** A registered sender by id or name, or the first one when `ref` is undefined. */
  findSender(ref: string | undefined): Peer | undefined {
    for (const peer of this.#peers.values()) {
      if (peer.role === 'sender' && (ref === undefined || peer.id === ref || peer.name === ref)) return peer;
    }
    return undefined;
  }

  /** Whether a sender with this name has registered at some point since the router was made. */
  senderWasSeen(name: string): boolean {
    return this.#sendersSeen.has(name);
  }

  /** Registered peers and open sessions right now. */
  stats(): { viewers: number; senders: number; sessions: number } {
    const { viewers, senders } = this.#counts();
    return { viewers, senders, sessions: this.#sessions.size };
  }

  #link(transport: PeerTransport, registered: RouterPeer | undefined): PeerLink {
    let peer = registered;
    let left = false;
    return {
      get peer() {
        return peer;
      },
      receive: (message) => {
        if (left) return;
        if (message.type !== 'hello') {
          if (peer === undefined) this.#reject(transport, 'not-registered', 'send hello first', message.id);
          else this.#receive(peer, message);
        } else if (peer === undefined) peer = this.#register(transport, message);
        else {
          const text = 'this connection is already registered';
          this.#reject(transport, 'already-registered', text, message.id);
        }
      },
      leave: (code) => {
        if (left) return;
        left = true;
        if (peer !== undefined) this.#remove(peer, code);
      },
      reject: (code, message, ref) => {
        this.#reject(transport, code, message, ref);
      },
    };
  }

  #register(transport: PeerTransport, hello: ClientMessageOf<'hello'>): RouterPeer | undefined {
    if (hello.protocol !== PROTOCOL_VERSION) {
      this.#reject(
        transport,
        'unsupported-version',
        `protocol version ${hello.protocol} is not supported; this server speaks ${PROTOCOL_VERSION}`,
        hello.id,
      );
      return undefined;
    }
    if (!this.#authorize(hello.role, hello.token)) {
      this.#reject(transport, 'unauthorized', `a valid ${hello.role} token is required`, hello.id);
      transport.close(UNAUTHORIZED_CLOSE_CODE, 'unauthorized');
      return undefined;
    }
    const cameras = hello.role === 'sender' ? (hello.cameras ?? []) : [];
    const peer = this.#addPeer(
      transport,
      hello.role,
      hello.name,
      cameras,
      hello.role === 'sender' ? 's' : 'v',
    );
    transport.send({
      type: 'welcome',
      ...(hello.id === undefined ? {} : { ref: hello.id }),
      protocol: PROTOCOL_VERSION,
      peerId: peer.id,
      role: peer.role,
      senders: peer.role === 'viewer' ? [...this.#peers.values()].filter(isSender).map(senderInfo) : [],
      heartbeatMs: this.#heartbeatMs,
      serverTime: this.#now(),
    });
    this.#logger.info(
      { peer: peer.id, role: peer.role, name: peer.name, remote: peer.remote, cameras: cameras.length },
      'peer registered',
    );
    if (peer.role === 'sender') {
      this.#sendersSeen.add(peer.name);
      this.#broadcastToViewers({ type: 'sender-online', sender: senderInfo(peer) });
    }
    return peer;
  }

  #addPeer(
    transport: PeerTransport,
    role: PeerRole,
    name: string,
    cameras: CameraInfo[],
    idPrefix: string,
  ): RouterPeer {
    const peer: RouterPeer = {
      id: `${idPrefix}-${randomBytes(9).toString('base64url')}`,
      role,
      name,
      remote: transport.remote,
      cameras,
      sessions: new Set(),
      transport,
    };
    this.#peers.set(peer.id, peer);
    this.#peersChanged();
    return peer;
  }

  #receive(peer: RouterPeer, message: RoutedMessage): void {
    try {
      this.#route(peer, message);
    } catch (error) {
      // A bug in routing one message must not take the server down.
      this.#logger.error({ err: String(error), peer: peer.id, type: message.type }, 'routing failed');
      this.#reject(peer.transport, 'internal', 'internal error', message.id);
    }
  }

  #route(peer: RouterPeer, message: RoutedMessage): void {
    switch (message.type) {
      case 'offer':
        this.#routeOffer(peer, message);
        return;
      case 'cameras':
        if (peer.role !== 'sender') {
          this.#reject(peer.transport, 'forbidden', 'only senders announce cameras', message.id);
          return;
        }
        peer.cameras = message.cameras;
        this.#broadcastToViewers({ type: 'sender-online', sender: senderInfo(peer) });
        return;
      case 'ping': {
        const session = message.session;
        if (session === undefined) {
          peer.transport.send({
            type: 'pong',
            t0: message.t0,
            t1: this.#now(),
            ...(message.id === undefined ? {} : { id: message.id }),
          });
          return;
        }
        this.#forward(peer, session, message.id, (from) => ({ ...message, session, from }));
        return;
      }
      case 'pong':
        if (message.session === undefined) return; // an answer to nobody: heartbeat noise, ignore
        this.#forward(peer, message.session, message.id, (from) => ({ ...message, from }));
        return;
      case 'answer':
        if (peer.role !== 'sender') {
          this.#reject(
            peer.transport,
            'forbidden',
            'only senders answer offers',
            message.id,
            message.session,
          );
          return;
        }
        this.#forward(peer, message.session, message.id, (from) => ({ ...message, from }));
        return;
      case 'candidate':
        this.#forward(peer, message.session, message.id, (from) => ({ ...message, from }));
        return;
      case 'link-stats':
        // The sender's view of its link to the viewer: meaningless (and spoofable) from a viewer.
        if (peer.role !== 'sender') {
          this.#reject(
            peer.transport,
            'forbidden',
            'only senders report link stats',
            message.id,
            message.session,
          );
          return;
        }
        this.#forward(peer, message.session, message.id, (from) => ({ ...message, from }));
        return;
      case 'bye': {
        // `code` and `reason` travel unchanged: the other party decides from the code.
        const session = this.#forward(peer, message.session, message.id, (from) => ({ ...message, from }));
        if (session !== undefined) this.#endSession(session);
        return;
      }
    }
  }

  #routeOffer(viewer: RouterPeer, offer: ClientMessageOf<'offer'>): void {
    const reject = (code: ErrorCode, text: string): void => {
      this.#reject(viewer.transport, code, text, offer.id, offer.session);
    };
    if (viewer.role !== 'viewer') {
      reject('forbidden', 'only viewers send offers');
      return;
    }
    const sender = this.#peers.get(offer.to);
    if (sender === undefined || sender.role !== 'sender') {
      reject('unknown-peer', 'no such sender is online');
      return;
    }
    const unknownCamera = offer.cameras.find((id) => !sender.cameras.some((camera) => camera.id === id));
    if (unknownCamera !== undefined) {
      reject('bad-message', `sender has no camera "${unknownCamera}"`);
      return;
    }
    const existing = this.#sessions.get(offer.session);
    if (existing !== undefined) {
      // Re-offering on one's own session is renegotiation (e.g. ICE restart); anyone else's id is refused.
      if (existing.viewer !== viewer || existing.sender !== sender) {
        reject('session-exists', 'session id already in use');
        return;
      }
    } else {
      if (
        viewer.sessions.size >= this.#maxSessionsPerViewer ||
        sender.sessions.size >= this.#maxSessionsPerSender
      ) {
        reject('server-full', 'too many sessions');
        return;
      }
      const session = this.#sessions.open(offer.session, viewer, sender);
      this.#logger.info(
        { session: session.id, viewer: viewer.id, sender: sender.id, cameras: offer.cameras },
        'session opened',
      );
    }
    const { to: _to, ...rest } = offer;
    sender.transport.send({ ...rest, from: viewer.id });
    this.#observer.routed?.('offer');
  }

  /**
   * Forwards a session message to the other party. Unknown sessions and sessions the peer is not
   * part of get the same answer, so a peer cannot probe for other peers' session ids.
   */
  #forward(
    peer: RouterPeer,
    sessionId: string,
    messageId: string | undefined,
    build: (from: string) => ServerMessage,
  ): Session | undefined {
    const session = this.#sessions.of(peer, sessionId);
    if (session === undefined) {
      this.#reject(peer.transport, 'unknown-session', 'no such session for this peer', messageId, sessionId);
      return undefined;
    }
    const other = otherParty(session, peer);
    const message = build(peer.id);
    other.transport.send(message);
    this.#observer.routed?.(message.type);
    return session;
  }

  #endSession(session: Session): void {
    this.#sessions.end(session);
    this.#logger.info(
      { session: session.id, viewer: session.viewer.id, sender: session.sender.id },
      'session ended',
    );
  }

  #remove(peer: RouterPeer, code: number): void {
    this.#peers.delete(peer.id);
    for (const sessionId of [...peer.sessions]) {
      const session = this.#sessions.get(sessionId);
      if (session === undefined) continue;
      otherParty(session, peer).transport.send({
        type: 'bye',
        session: session.id,
        from: peer.id,
        reason: peer.role === 'sender' ? 'sender left' : 'viewer left',
      });
      this.#endSession(session);
    }
    this.#peersChanged();
    if (peer.role === 'sender') this.#broadcastToViewers({ type: 'sender-offline', senderId: peer.id });
    this.#logger.info({ peer: peer.id, role: peer.role, code }, 'peer left');
  }

  #reject(to: PeerTransport, code: ErrorCode, message: string, ref?: string, session?: string): void {
    this.#observer.rejected?.(code);
    this.#logger.debug({ remote: to.remote, code, ref }, 'message rejected');
    to.send({
      type: 'error',
      code,
      message: message.slice(0, 1024),
      ...(ref === undefined ? {} : { ref }),
      ...(session === undefined ? {} : { session }),
    });
  }

  #broadcastToViewers(message: ServerMessage): void {
    for (const peer of this.#peers.values()) if (peer.role === 'viewer') peer.transport.send(message);
  }

  #counts(): { viewers: number; senders: number } {
    let viewers = 0;
    for (const peer of this.#peers.values()) if (peer.role === 'viewer') viewers += 1;
    return { viewers, senders: this.#peers.size - viewers };
  }

  #peersChanged(): void {
    this.#observer.peersChanged?.(this.#counts());
  }
}

function isSender(peer: Peer): boolean {
  return peer.role === 'sender';
}

function senderInfo(peer: Peer): SenderInfo {
  return { id: peer.id, name: peer.name, cameras: [...peer.cameras] };
}
