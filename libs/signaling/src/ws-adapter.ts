import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { encodeMessage, LIMITS, parseClientMessage } from '@robocam/protocol';
import { TokenBucket, tokensEqual } from '@robocam/service';
import { silentLogger, type Logger } from '@robocam/types';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { SignalingMetrics } from './metrics.js';
import { UNAUTHORIZED_CLOSE_CODE, type PeerLink, type PeerRole } from './peer.js';
import type { SignalingRouter } from './router.js';

/** WebSocket close codes the adapter uses (1000–1015 are RFC 6455's, 4000+ are robocam's). */
export const CLOSE_CODES = {
  goingAway: 1001,
  tooBig: 1009,
  tryAgainLater: 1013,
  unauthorized: UNAUTHORIZED_CLOSE_CODE,
  registrationTimeout: 4002,
  rateLimited: 4029,
} as const;

export interface WebSocketAdapterSettings {
  /**
   * Browser origins allowed to connect (exact match). Requests without an Origin header
   * (non-browser clients) are not affected. Default: any origin.
   */
  allowedOrigins?: string[] | undefined;
  /** Largest WebSocket message, in bytes; larger closes the connection with 1009. Default 64 KiB. */
  maxMessageBytes?: number;
  /** Sustained messages per second per connection. Default 50. */
  messagesPerSecond?: number;
  /** Burst of messages a connection may send at once. Default 200. */
  messageBurst?: number;
  /** Most simultaneous connections; more are closed with 1013. Default 1000. */
  maxConnections?: number;
  /** Ping interval, in ms; a socket that misses one pong is dropped. Default 10 000. */
  heartbeatMs?: number;
  /** A connection that has not registered by then is closed with 4002, in ms. Default 10 000. */
  registrationTimeoutMs?: number;
  /** Prometheus metrics to count connections and rejections in. */
  metrics: SignalingMetrics;
  /** Structured logger (pino-compatible). Default: silent. */
  logger?: Logger;
}

interface Connection {
  readonly socket: WebSocket;
  readonly remote: string;
  readonly bucket: TokenBucket;
  readonly link: PeerLink;
  alive: boolean;
  registrationTimer: NodeJS.Timeout | undefined;
}

/**
 * The router's `authorize` for shared secrets: a hello must carry `senderToken` to register as a
 * sender and `viewerToken` as a viewer; a role whose token is unset is open.
 */
export function tokenAuthorizer({
  senderToken,
  viewerToken,
}: {
  senderToken?: string | undefined;
  viewerToken?: string | undefined;
}): (role: PeerRole, token: string | undefined) => boolean {
  return (role, token) => {
    const required = role === 'sender' ? senderToken : viewerToken;
    return required === undefined || tokensEqual(token, required);
  };
}

/**
 * Carries the signaling protocol over WebSocket into a {@link SignalingRouter}: admits upgrades
 * (origin check, connection cap), enforces message size and rate, parses every message with
 * `parseClientMessage`, pings each socket every `heartbeatMs` and closes those that never register.
 */
export class WebSocketAdapter {
  readonly #router: SignalingRouter;
  readonly #allowedOrigins: string[] | undefined;
  readonly #messagesPerSecond: number;
  readonly #messageBurst: number;
  readonly #maxConnections: number;
  readonly #registrationTimeoutMs: number;
  readonly #metrics: SignalingMetrics;
  readonly #logger: Logger;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<Connection>();
  readonly #heartbeat: NodeJS.Timeout;
  #closing: Promise<void> | undefined;

  constructor(
    router: SignalingRouter,
    {
      allowedOrigins,
      maxMessageBytes = LIMITS.maxMessageBytes,
      messagesPerSecond = 50,
      messageBurst = 200,
      maxConnections = 1000,
      heartbeatMs = 10_000,
      registrationTimeoutMs = 10_000,
      metrics,
      logger = silentLogger,
    }: WebSocketAdapterSettings,
  ) {
    this.#router = router;
    this.#allowedOrigins = allowedOrigins;
    this.#messagesPerSecond = messagesPerSecond;
    this.#messageBurst = messageBurst;
    this.#maxConnections = maxConnections;
    this.#registrationTimeoutMs = registrationTimeoutMs;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes, clientTracking: false });
    this.#heartbeat = setInterval(() => {
      this.#beat();
    }, heartbeatMs);
  }

  /** Open WebSocket connections, registered or not. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Whether {@link close} has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Handles an HTTP `upgrade` request (the server's `upgrade` event). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const origin = request.headers.origin;
    const allowed = this.#allowedOrigins;
    if (allowed !== undefined && origin !== undefined && !allowed.includes(origin)) {
      this.#metrics.rejected.inc({ reason: 'origin' });
      this.#logger.warn({ origin, remote: request.socket.remoteAddress }, 'origin not allowed');
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (this.closed) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      this.#accept(ws, request);
    });
  }

  /**
   * Closes every socket with 1001 and a reason and stops the heartbeat; a socket that does not
   * finish the close handshake within 2 s is terminated. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#heartbeat);
    const socketsClosed = [...this.#connections].map(
      ({ socket }) =>
        new Promise<void>((resolve) => {
          socket.once('close', () => {
            resolve();
          });
          socket.close(CLOSE_CODES.goingAway, 'server shutting down');
          // A peer that never answers the close handshake must not hold up shutdown.
          setTimeout(() => {
            socket.terminate();
          }, 2000).unref();
        }),
    );
    await Promise.all(socketsClosed);
    this.#wss.close();
  }

  #beat(): void {
    for (const connection of this.#connections) {
      if (!connection.alive) {
        this.#logger.info(
          { remote: connection.remote, peer: connection.link.peer?.id },
          'heartbeat missed, dropping socket',
        );
        this.#metrics.rejected.inc({ reason: 'heartbeat-timeout' });
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }

  #accept(socket: WebSocket, request: IncomingMessage): void {
    const remote = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    if (this.#connections.size >= this.#maxConnections) {
      this.#metrics.rejected.inc({ reason: 'server-full' });
      this.#logger.warn({ remote, maxConnections: this.#maxConnections }, 'connection limit reached');
      socket.close(CLOSE_CODES.tryAgainLater, 'server full');
      return;
    }
    const link = this.#router.attach({
      remote,
      send: (message) => {
        if (socket.readyState === socket.OPEN) socket.send(encodeMessage(message));
      },
      close: (code, reason) => {
        socket.close(code, reason);
      },
    });
    const connection: Connection = {
      socket,
      remote,
      link,
      bucket: new TokenBucket(this.#messagesPerSecond, this.#messageBurst),
      alive: true,
      registrationTimer: setTimeout(() => {
        if (link.peer === undefined) {
          this.#metrics.rejected.inc({ reason: 'registration-timeout' });
          socket.close(CLOSE_CODES.registrationTimeout, 'no hello received');
        }
      }, this.#registrationTimeoutMs),
    };
    this.#connections.add(connection);
    this.#metrics.connections.set(this.#connections.size);
    this.#logger.debug({ remote }, 'connection opened');

    socket.on('pong', () => {
      connection.alive = true;
    });
    socket.on('message', (data: RawData, isBinary: boolean) => {
      connection.alive = true;
      this.#onMessage(connection, data, isBinary);
    });
    socket.on('error', (error: Error & { code?: string }) => {
      // ws reports protocol violations (oversize frames, bad UTF-8) here and then closes the socket.
      const reason = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'too-large' : 'socket-error';
      this.#metrics.rejected.inc({ reason });
      this.#logger.warn(
        { remote, peer: link.peer?.id, code: error.code, err: error.message },
        'socket error',
      );
    });
    socket.on('close', (code: number) => {
      clearTimeout(connection.registrationTimer);
      this.#connections.delete(connection);
      this.#metrics.connections.set(this.#connections.size);
      link.leave(code);
    });
  }

  #onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    const { link, socket } = connection;
    if (!connection.bucket.take()) {
      this.#metrics.rejected.inc({ reason: 'rate-limited' });
      this.#logger.warn({ remote: connection.remote, peer: link.peer?.id }, 'message rate exceeded, closing');
      socket.close(CLOSE_CODES.rateLimited, 'rate limit exceeded');
      return;
    }
    const parsed = parseClientMessage(isBinary ? new Uint8Array(0) : rawToString(data));
    if (!parsed.ok) {
      link.reject(parsed.error.code, parsed.error.message, parsed.error.ref);
      return;
    }
    link.receive(parsed.message);
    if (link.peer !== undefined) clearTimeout(connection.registrationTimer);
  }
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
