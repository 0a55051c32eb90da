import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  encodeMessage,
  LIMITS,
  parseClientMessage,
  PROTOCOL_VERSION,
  type ClientMessage,
  type ClientMessageOf,
  type ErrorCode,
  type SenderInfo,
  type ServerMessage,
} from '@robocam/protocol';
import { silentLogger, type Logger } from '@robocam/service';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { SignalingMetrics } from './metrics.js';
import { TokenBucket } from './rate-limiter.js';
import { WhepEndpoint, type WhepIceServer } from './whep.js';

export interface SignalingServerSettings {
  /** TCP port for WebSocket and HTTP. Default 8765; 0 picks a free port. */
  port?: number;
  /** Address to listen on. Default '::' (all interfaces, IPv4 and IPv6). */
  host?: string;
  /** When set, only hellos carrying this token may register as senders. Default: unset (open). */
  senderToken?: string;
  /** When set, only hellos carrying this token may register as viewers. Default: unset (open). */
  viewerToken?: string;
  /**
   * Browser origins allowed to connect (exact match, e.g. `http://robot.local:8080`). Requests
   * without an Origin header (non-browser clients) are not affected. Default: any origin.
   */
  allowedOrigins?: string[];
  /** Largest WebSocket message, in bytes; larger closes the connection with 1009. Default 64 KiB. */
  maxMessageBytes?: number;
  /** Sustained messages per second per connection. Default 50. */
  messagesPerSecond?: number;
  /** Burst of messages a connection may send at once. Default 200. */
  messageBurst?: number;
  /** Most simultaneous WebSocket connections; more are closed with 1013. Default 1000. */
  maxConnections?: number;
  /** Most concurrent sessions per sender (viewers × their sessions). Default 64. */
  maxSessionsPerSender?: number;
  /** Most concurrent sessions a single viewer connection may open. Default 16. */
  maxSessionsPerViewer?: number;
  /** WebSocket ping interval; a socket that misses one pong is dropped. Default 10 000 ms. */
  heartbeatMs?: number;
  /** A connection that has not sent `hello` by then is closed. Default 10 000 ms. */
  registrationTimeoutMs?: number;
  /** Structured logger (pino-compatible). Default: silent. */
  logger?: Logger;
  /** Also export Node process metrics (CPU, memory, event loop) on /metrics. Default false. */
  processMetrics?: boolean;
  /** ICE servers announced to WHEP clients (Link headers). Default none. */
  whepIceServers?: WhepIceServer[];
  /** How long WHEP waits for a sender's answer, in ms. Default 10 000. */
  whepAnswerTimeoutMs?: number;
}

/** A running signaling server. */
export interface SignalingServer {
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** `ws://` URL of the server on loopback, for tests and local tools. */
  readonly url: string;
  readonly metrics: SignalingMetrics;
  /** Registered peers and open sessions right now. */
  stats(): { viewers: number; senders: number; sessions: number; connections: number };
  /** Closes every socket with a reason (1001), stops listening. Idempotent. */
  close(): Promise<void>;
  readonly closed: boolean;
}

type Role = 'viewer' | 'sender';

/** Something messages can be delivered to: a WebSocket connection or a WHEP session. */
interface Endpoint {
  readonly remote: string;
  readonly deliver: (message: ServerMessage) => void;
}

/** A registered viewer or sender. WHEP sessions are viewers without a WebSocket. */
export interface Peer extends Endpoint {
  readonly id: string;
  readonly role: Role;
  readonly name: string;
  cameras: SenderInfo['cameras'];
  readonly sessions: Set<string>;
}

interface Connection extends Endpoint {
  readonly socket: WebSocket;
  readonly remote: string;
  readonly bucket: TokenBucket;
  peer: Peer | undefined;
  alive: boolean;
  registrationTimer: NodeJS.Timeout | undefined;
}

interface Session {
  readonly id: string;
  readonly viewer: Peer;
  readonly sender: Peer;
}

/** WebSocket close codes used by the server (1000–1015 are RFC 6455's, 4000+ are ours). */
const CLOSE = {
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  tryAgainLater: 1013,
  unauthorized: 4001,
  registrationTimeout: 4002,
  rateLimited: 4029,
} as const;

/**
 * Starts a signaling server: registers viewers and senders, routes offers, answers, ICE candidates,
 * byes and pings between the two parties of a session, stamping each routed message with its true
 * origin. Resolves once listening.
 */
export async function createSignalingServer({
  port = 8765,
  host = '::',
  senderToken,
  viewerToken,
  allowedOrigins,
  maxMessageBytes = LIMITS.maxMessageBytes,
  messagesPerSecond = 50,
  messageBurst = 200,
  maxConnections = 1000,
  maxSessionsPerSender = 64,
  maxSessionsPerViewer = 16,
  heartbeatMs = 10_000,
  registrationTimeoutMs = 10_000,
  logger = silentLogger,
  processMetrics = false,
  whepIceServers,
  whepAnswerTimeoutMs,
}: SignalingServerSettings = {}): Promise<SignalingServer> {
  const metrics = new SignalingMetrics(processMetrics);
  const connections = new Set<Connection>();
  const peers = new Map<string, Peer>();
  const sessions = new Map<string, Session>();
  /** Names of senders seen since start: WHEP tells "not online yet" (503) from "unknown" (404). */
  const sendersSeen = new Set<string>();
  const startedAt = Date.now();
  let closed = false;

  const whep = new WhepEndpoint(
    {
      findSender(ref) {
        for (const peer of peers.values()) {
          if (peer.role === 'sender' && (ref === undefined || peer.id === ref || peer.name === ref))
            return peer;
        }
        return undefined;
      },
      senderWasSeen: (name) => sendersSeen.has(name),
      addViewer(deliver, remote) {
        const peer: Peer = {
          id: `w-${randomBytes(9).toString('base64url')}`,
          role: 'viewer',
          name: 'WHEP viewer',
          remote,
          deliver,
          cameras: [],
          sessions: new Set(),
        };
        peers.set(peer.id, peer);
        updatePeerGauges();
        metrics.whepSessions.inc();
        return peer;
      },
      route(viewerId, message) {
        const peer = peers.get(viewerId);
        if (peer === undefined || message.type === 'hello') return;
        route(peer, message);
      },
      removeViewer(viewerId) {
        const peer = peers.get(viewerId);
        if (peer === undefined) return;
        metrics.whepSessions.dec();
        removePeer(peer, 1000);
      },
    },
    {
      logger,
      ...(viewerToken === undefined ? {} : { viewerToken }),
      ...(allowedOrigins === undefined ? {} : { allowedOrigins }),
      ...(whepIceServers === undefined ? {} : { iceServers: whepIceServers }),
      ...(whepAnswerTimeoutMs === undefined ? {} : { answerTimeoutMs: whepAnswerTimeoutMs }),
    },
  );

  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes, clientTracking: false });
  const http = createServer((request, response) => {
    handleHttp(request, response).catch((error: unknown) => {
      logger.error({ err: String(error), url: request.url }, 'HTTP request failed');
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.end();
    });
  });
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    handleUpgrade(request, socket, head);
  });
  http.on('clientError', (_error, socket) => {
    socket.destroy();
  });

  const heartbeat = setInterval(() => {
    for (const connection of connections) {
      if (!connection.alive) {
        logger.info(
          { remote: connection.remote, peer: connection.peer?.id },
          'heartbeat missed, dropping socket',
        );
        metrics.rejected.inc({ reason: 'heartbeat-timeout' });
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }, heartbeatMs);

  async function handleHttp(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/healthz') {
      sendJson(response, 200, {
        status: 'ok',
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        ...stats(),
      });
      return;
    }
    if (request.method === 'GET' && path === '/metrics') {
      const body = await metrics.registry.metrics();
      response.writeHead(200, { 'content-type': metrics.registry.contentType });
      response.end(body);
      return;
    }
    if (path !== undefined && (await whep.handle(request, response, path))) return;
    sendJson(response, 404, { error: 'not found' });
  }

  function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const origin = request.headers.origin;
    if (allowedOrigins !== undefined && origin !== undefined && !allowedOrigins.includes(origin)) {
      metrics.rejected.inc({ reason: 'origin' });
      logger.warn({ origin, remote: request.socket.remoteAddress }, 'origin not allowed');
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (closed) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      accept(ws, request);
    });
  }

  function accept(socket: WebSocket, request: IncomingMessage): void {
    const remote = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    if (connections.size >= maxConnections) {
      metrics.rejected.inc({ reason: 'server-full' });
      logger.warn({ remote, maxConnections }, 'connection limit reached');
      socket.close(CLOSE.tryAgainLater, 'server full');
      return;
    }
    const connection: Connection = {
      socket,
      remote,
      deliver: (message) => {
        sendRaw(connection, message);
      },
      bucket: new TokenBucket(messagesPerSecond, messageBurst),
      peer: undefined,
      alive: true,
      registrationTimer: undefined,
    };
    connection.registrationTimer = setTimeout(() => {
      if (connection.peer === undefined) {
        metrics.rejected.inc({ reason: 'registration-timeout' });
        socket.close(CLOSE.registrationTimeout, 'no hello received');
      }
    }, registrationTimeoutMs);
    connections.add(connection);
    metrics.connections.set(connections.size);
    logger.debug({ remote }, 'connection opened');

    socket.on('pong', () => {
      connection.alive = true;
    });
    socket.on('message', (data: RawData, isBinary: boolean) => {
      connection.alive = true;
      onMessage(connection, data, isBinary);
    });
    socket.on('error', (error: Error & { code?: string }) => {
      // ws reports protocol violations (oversize frames, bad UTF-8) here and then closes the socket.
      const reason = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'too-large' : 'socket-error';
      metrics.rejected.inc({ reason });
      logger.warn(
        { remote, peer: connection.peer?.id, code: error.code, err: error.message },
        'socket error',
      );
    });
    socket.on('close', (code: number) => {
      onClose(connection, code);
    });
  }

  function onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    if (!connection.bucket.take()) {
      metrics.rejected.inc({ reason: 'rate-limited' });
      logger.warn({ remote: connection.remote, peer: connection.peer?.id }, 'message rate exceeded, closing');
      connection.socket.close(CLOSE.rateLimited, 'rate limit exceeded');
      return;
    }
    const parsed = parseClientMessage(isBinary ? new Uint8Array(0) : rawToString(data));
    if (!parsed.ok) {
      reject(connection, parsed.error.code, parsed.error.message, parsed.error.ref);
      return;
    }
    const message = parsed.message;
    const peer = connection.peer;
    if (message.type === 'hello') {
      register(connection, message);
      return;
    }
    if (peer === undefined) {
      reject(connection, 'not-registered', 'send hello first', message.id);
      return;
    }
    try {
      route(peer, message);
    } catch (error) {
      // A bug in routing one message must not take the server down.
      logger.error({ err: String(error), peer: peer.id, type: message.type }, 'routing failed');
      reject(connection, 'internal', 'internal error', message.id);
    }
  }

  function register(connection: Connection, hello: ClientMessageOf<'hello'>): void {
    if (connection.peer !== undefined) {
      reject(connection, 'already-registered', 'this connection is already registered', hello.id);
      return;
    }
    if (hello.protocol !== PROTOCOL_VERSION) {
      reject(
        connection,
        'unsupported-version',
        `protocol version ${hello.protocol} is not supported; this server speaks ${PROTOCOL_VERSION}`,
        hello.id,
      );
      return;
    }
    const requiredToken = hello.role === 'sender' ? senderToken : viewerToken;
    if (requiredToken !== undefined && !tokensEqual(hello.token, requiredToken)) {
      reject(connection, 'unauthorized', `a valid ${hello.role} token is required`, hello.id);
      connection.socket.close(CLOSE.unauthorized, 'unauthorized');
      return;
    }
    clearTimeout(connection.registrationTimer);
    const peer: Peer = {
      id: `${hello.role === 'sender' ? 's' : 'v'}-${randomBytes(9).toString('base64url')}`,
      role: hello.role,
      name: hello.name,
      remote: connection.remote,
      deliver: connection.deliver,
      cameras: hello.role === 'sender' ? (hello.cameras ?? []) : [],
      sessions: new Set(),
    };
    connection.peer = peer;
    peers.set(peer.id, peer);
    updatePeerGauges();
    send(peer, {
      type: 'welcome',
      ...(hello.id === undefined ? {} : { ref: hello.id }),
      protocol: PROTOCOL_VERSION,
      peerId: peer.id,
      role: peer.role,
      senders: peer.role === 'viewer' ? [...peers.values()].filter(isSender).map(senderInfo) : [],
      heartbeatMs,
      serverTime: Date.now(),
    });
    logger.info(
      {
        peer: peer.id,
        role: peer.role,
        name: peer.name,
        remote: connection.remote,
        cameras: peer.cameras.length,
      },
      'peer registered',
    );
    if (peer.role === 'sender') {
      sendersSeen.add(peer.name);
      broadcastToViewers({ type: 'sender-online', sender: senderInfo(peer) });
    }
  }

  function route(peer: Peer, message: Exclude<ClientMessage, { type: 'hello' }>): void {
    switch (message.type) {
      case 'offer':
        routeOffer(peer, message);
        return;
      case 'cameras':
        if (peer.role !== 'sender') {
          reject(peer, 'forbidden', 'only senders announce cameras', message.id);
          return;
        }
        peer.cameras = message.cameras;
        broadcastToViewers({ type: 'sender-online', sender: senderInfo(peer) });
        return;
      case 'ping':
        if (message.session === undefined) {
          send(peer, {
            type: 'pong',
            t0: message.t0,
            t1: Date.now(),
            ...(message.id === undefined ? {} : { id: message.id }),
          });
          return;
        }
        forwardInSession(peer, message.session, message.id, (from) => ({
          ...message,
          session: message.session as string,
          from,
        }));
        return;
      case 'pong':
        if (message.session === undefined) return; // an answer to nobody: heartbeat noise, ignore
        forwardInSession(peer, message.session, message.id, (from) => ({ ...message, from }));
        return;
      case 'answer':
        if (peer.role !== 'sender') {
          reject(peer, 'forbidden', 'only senders answer offers', message.id, message.session);
          return;
        }
        forwardInSession(peer, message.session, message.id, (from) => ({ ...message, from }));
        return;
      case 'candidate':
        forwardInSession(peer, message.session, message.id, (from) => ({ ...message, from }));
        return;
      case 'bye': {
        const session = forwardInSession(peer, message.session, message.id, (from) => ({ ...message, from }));
        if (session !== undefined) endSession(session);
        return;
      }
    }
  }

  function routeOffer(viewer: Peer, offer: ClientMessageOf<'offer'>): void {
    if (viewer.role !== 'viewer') {
      reject(viewer, 'forbidden', 'only viewers send offers', offer.id, offer.session);
      return;
    }
    const sender = peers.get(offer.to);
    if (sender === undefined || sender.role !== 'sender') {
      reject(viewer, 'unknown-peer', 'no such sender is online', offer.id, offer.session);
      return;
    }
    const unknownCamera = offer.cameras.find((id) => !sender.cameras.some((camera) => camera.id === id));
    if (unknownCamera !== undefined) {
      reject(viewer, 'bad-message', `sender has no camera "${unknownCamera}"`, offer.id, offer.session);
      return;
    }
    const existing = sessions.get(offer.session);
    if (existing !== undefined) {
      // Re-offering on one's own session is renegotiation (e.g. ICE restart); anyone else's id is refused.
      if (existing.viewer !== viewer || existing.sender !== sender) {
        reject(viewer, 'session-exists', 'session id already in use', offer.id, offer.session);
        return;
      }
    } else {
      if (viewer.sessions.size >= maxSessionsPerViewer || sender.sessions.size >= maxSessionsPerSender) {
        reject(viewer, 'server-full', 'too many sessions', offer.id, offer.session);
        return;
      }
      const session: Session = { id: offer.session, viewer, sender };
      sessions.set(session.id, session);
      viewer.sessions.add(session.id);
      sender.sessions.add(session.id);
      metrics.sessions.set(sessions.size);
      logger.info(
        { session: session.id, viewer: viewer.id, sender: sender.id, cameras: offer.cameras },
        'session opened',
      );
    }
    const { to: _to, ...rest } = offer;
    send(sender, { ...rest, from: viewer.id });
    metrics.routed.inc({ type: 'offer' });
  }

  /**
   * Forwards a session message to the other party. Unknown sessions and sessions the peer is not
   * part of get the same answer, so a peer cannot probe for other peers' session ids.
   */
  function forwardInSession(
    peer: Peer,
    sessionId: string,
    messageId: string | undefined,
    build: (from: string) => ServerMessage,
  ): Session | undefined {
    const session = sessions.get(sessionId);
    if (session === undefined || (session.viewer !== peer && session.sender !== peer)) {
      reject(peer, 'unknown-session', 'no such session for this peer', messageId, sessionId);
      return undefined;
    }
    const other = session.viewer === peer ? session.sender : session.viewer;
    const message = build(peer.id);
    send(other, message);
    metrics.routed.inc({ type: message.type });
    return session;
  }

  function endSession(session: Session): void {
    sessions.delete(session.id);
    session.viewer.sessions.delete(session.id);
    session.sender.sessions.delete(session.id);
    metrics.sessions.set(sessions.size);
    logger.info(
      { session: session.id, viewer: session.viewer.id, sender: session.sender.id },
      'session ended',
    );
  }

  function onClose(connection: Connection, code: number): void {
    clearTimeout(connection.registrationTimer);
    connections.delete(connection);
    metrics.connections.set(connections.size);
    if (connection.peer !== undefined) removePeer(connection.peer, code);
  }

  function removePeer(peer: Peer, code: number): void {
    peers.delete(peer.id);
    for (const sessionId of [...peer.sessions]) {
      const session = sessions.get(sessionId);
      if (session === undefined) continue;
      const other = session.viewer === peer ? session.sender : session.viewer;
      send(other, {
        type: 'bye',
        session: session.id,
        from: peer.id,
        reason: peer.role === 'sender' ? 'sender left' : 'viewer left',
      });
      endSession(session);
    }
    updatePeerGauges();
    if (peer.role === 'sender') broadcastToViewers({ type: 'sender-offline', senderId: peer.id });
    logger.info({ peer: peer.id, role: peer.role, code }, 'peer left');
  }

  function reject(to: Endpoint, code: ErrorCode, message: string, ref?: string, session?: string): void {
    metrics.rejected.inc({ reason: code });
    logger.debug({ remote: to.remote, code, ref }, 'message rejected');
    to.deliver({
      type: 'error',
      code,
      message: message.slice(0, 1024),
      ...(ref === undefined ? {} : { ref }),
      ...(session === undefined ? {} : { session }),
    });
  }

  function send(peer: Peer, message: ServerMessage): void {
    peer.deliver(message);
  }

  function sendRaw(connection: Connection, message: ServerMessage): void {
    if (connection.socket.readyState !== connection.socket.OPEN) return;
    connection.socket.send(encodeMessage(message));
  }

  function broadcastToViewers(message: ServerMessage): void {
    for (const peer of peers.values()) if (peer.role === 'viewer') send(peer, message);
  }

  function updatePeerGauges(): void {
    let viewers = 0;
    for (const peer of peers.values()) if (peer.role === 'viewer') viewers += 1;
    metrics.viewers.set(viewers);
    metrics.senders.set(peers.size - viewers);
  }

  function stats(): { viewers: number; senders: number; sessions: number; connections: number } {
    let viewers = 0;
    for (const peer of peers.values()) if (peer.role === 'viewer') viewers += 1;
    return { viewers, senders: peers.size - viewers, sessions: sessions.size, connections: connections.size };
  }

  function tokensEqual(given: string | undefined, expected: string): boolean {
    // Hashing first makes the comparison constant-time regardless of the lengths involved.
    const a = createHash('sha256')
      .update(given ?? '')
      .digest();
    const b = createHash('sha256').update(expected).digest();
    return given !== undefined && timingSafeEqual(a, b);
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const boundPort = (http.address() as AddressInfo).port;
  logger.info({ port: boundPort, host }, 'signaling server listening');

  let closing: Promise<void> | undefined;
  return {
    port: boundPort,
    url: `ws://127.0.0.1:${boundPort}`,
    metrics,
    stats,
    get closed() {
      return closed;
    },
    close() {
      closing ??= shutdown(http);
      return closing;
    },
  };

  async function shutdown(server: Server): Promise<void> {
    closed = true;
    clearInterval(heartbeat);
    whep.close();
    logger.info({ connections: connections.size }, 'signaling server shutting down');
    const socketsClosed = [...connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          connection.socket.once('close', () => {
            resolve();
          });
          connection.socket.close(CLOSE.goingAway, 'server shutting down');
          // A peer that never answers the close handshake must not hold up shutdown.
          setTimeout(() => {
            connection.socket.terminate();
          }, 2000).unref();
        }),
    );
    await Promise.all(socketsClosed);
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      server.closeAllConnections();
    });
    wss.close();
  }
}

function isSender(peer: Peer): boolean {
  return peer.role === 'sender';
}

function senderInfo(peer: Peer): SenderInfo {
  return { id: peer.id, name: peer.name, cameras: peer.cameras };
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(body));
}
