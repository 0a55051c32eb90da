import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { silentLogger, type Logger } from '@robocam/types';
import { createSignalingHandler, sendJson } from './handler.js';
import type { SignalingMetrics } from './metrics.js';
import type { WhepIceServer } from './whep.js';

export interface SignalingServerSettings {
  /** TCP port for WebSocket and HTTP. Default 8765; 0 picks a free port. */
  port?: number;
  /** Address to listen on. Default '::' (all interfaces, IPv4 and IPv6). */
  host?: string;
  /** When set, only hellos carrying this token may register as senders. Default: unset (open). */
  senderToken?: string;
  /**
   * When set, only hellos carrying this token may register as viewers, and WHEP requests need it
   * as `Authorization: Bearer <token>`. Default: unset (open).
   */
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

/** Registered peers, open sessions and open WebSocket connections at one moment. */
export interface SignalingStats {
  viewers: number;
  senders: number;
  sessions: number;
  connections: number;
}

/** A running signaling server. */
export interface SignalingServer {
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** `ws://` URL of the server on loopback, for tests and local tools. */
  readonly url: string;
  readonly metrics: SignalingMetrics;
  /** Registered peers and open sessions right now. */
  stats(): SignalingStats;
  /**
   * Ends every WHEP session, closes every socket with 1001 and a reason, stops listening.
   * Idempotent; every call returns the same promise.
   */
  close(): Promise<void>;
  readonly closed: boolean;
}

/**
 * Starts a signaling server on one HTTP port: the WebSocket signaling protocol, WHEP (`/whep`),
 * `GET /healthz` and `GET /metrics` (Prometheus). It registers viewers and senders and routes
 * offers, answers, ICE candidates, byes and pings between the two parties of a session, stamping
 * each routed message with its true origin. Resolves once listening.
 */
export async function createSignalingServer({
  port = 8765,
  host = '::',
  logger = silentLogger,
  ...settings
}: SignalingServerSettings = {}): Promise<SignalingServer> {
  const handler = createSignalingHandler({ ...settings, logger });
  const { metrics } = handler;
  const stats = (): SignalingStats => handler.stats();
  const startedAt = Date.now();

  const http = createServer((request, response) => {
    handleHttp(request, response).catch((error: unknown) => {
      logger.error({ err: String(error), url: request.url }, 'HTTP request failed');
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.end();
    });
  });
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    handler.handleUpgrade(request, socket, head);
  });
  http.on('clientError', (_error, socket) => {
    socket.destroy();
  });

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
    if (await handler.handleRequest(request, response)) return;
    sendJson(response, 404, { error: 'not found' });
  }

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    void handler.close();
    throw error;
  }
  const boundPort = (http.address() as AddressInfo).port;
  logger.info({ port: boundPort, host }, 'signaling server listening');

  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    await handler.close();
    await new Promise<void>((resolve) => {
      http.close(() => {
        resolve();
      });
      http.closeAllConnections();
    });
  }
  return {
    port: boundPort,
    url: `ws://127.0.0.1:${boundPort}`,
    metrics,
    stats,
    get closed() {
      return closing !== undefined;
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}
