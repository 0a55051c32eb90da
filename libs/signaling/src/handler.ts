import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { silentLogger } from '@robocam/types';
import { SignalingMetrics } from './metrics.js';
import { SignalingRouter } from './router.js';
import type { SignalingServerSettings, SignalingStats } from './server.js';
import { WhepEndpoint } from './whep.js';
import { tokenAuthorizer, WebSocketAdapter } from './ws-adapter.js';

/** Settings of {@link createSignalingHandler}: the server's, less where to listen. */
export type SignalingHandlerSettings = Omit<SignalingServerSettings, 'port' | 'host'>;

/**
 * The signaling server without its HTTP server, to mount on an HTTP server an application already
 * runs (the one-process robocam serves the page, signaling and health on one port).
 */
export interface SignalingHandler {
  readonly metrics: SignalingMetrics;
  /** Registered peers and open sessions right now. */
  stats(): SignalingStats;
  /**
   * Answers `GET /metrics` and WHEP (`/whep…`); resolves false, untouched, for any other request.
   * `/healthz` is the host server's to answer (with {@link stats}).
   */
  handleRequest(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  /** Takes an HTTP `upgrade` request as a signaling WebSocket, whatever its path. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends every WHEP session, closes every socket with 1001 and a reason. Idempotent. */
  close(): Promise<void>;
  readonly closed: boolean;
}

/**
 * Builds the signaling server's parts (router, WebSocket adapter, WHEP endpoint, metrics) without
 * listening anywhere; {@link createSignalingServer} is this behind its own HTTP server.
 */
export function createSignalingHandler({
  senderToken,
  viewerToken,
  allowedOrigins,
  // Limits left unset take the defaults of the part that enforces them (SignalingRouter: sessions;
  // WebSocketAdapter: message size and rate, connections, registration timeout), stated there
  // once. The heartbeat is set here because both use it and must agree.
  maxMessageBytes,
  messagesPerSecond,
  messageBurst,
  maxConnections,
  maxSessionsPerSender,
  maxSessionsPerViewer,
  heartbeatMs = 10_000,
  registrationTimeoutMs,
  logger = silentLogger,
  processMetrics = false,
  whepIceServers,
  whepAnswerTimeoutMs,
}: SignalingHandlerSettings = {}): SignalingHandler {
  const metrics = new SignalingMetrics(processMetrics);
  const router = new SignalingRouter({
    maxSessionsPerSender,
    maxSessionsPerViewer,
    heartbeatMs,
    authorize: tokenAuthorizer({ senderToken, viewerToken }),
    observer: {
      routed: (type) => metrics.routed.inc({ type }),
      rejected: (code) => metrics.rejected.inc({ reason: code }),
      peersChanged: ({ viewers, senders }) => {
        metrics.viewers.set(viewers);
        metrics.senders.set(senders);
      },
      sessionsChanged: (count) => metrics.sessions.set(count),
    },
    logger,
  });
  const whep = new WhepEndpoint(router, {
    viewerToken,
    allowedOrigins,
    iceServers: whepIceServers,
    answerTimeoutMs: whepAnswerTimeoutMs,
    onSessionCount: (count) => metrics.whepSessions.set(count),
    logger,
  });
  const ws = new WebSocketAdapter(router, {
    allowedOrigins,
    maxMessageBytes,
    messagesPerSecond,
    messageBurst,
    maxConnections,
    heartbeatMs,
    registrationTimeoutMs,
    metrics,
    logger,
  });

  let closing: Promise<void> | undefined;
  return {
    metrics,
    stats: () => ({ ...router.stats(), connections: ws.connectionCount }),
    async handleRequest(request, response) {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method === 'GET' && path === '/metrics') {
        const body = await metrics.registry.metrics();
        response.writeHead(200, { 'content-type': metrics.registry.contentType });
        response.end(body);
        return true;
      }
      return path !== undefined && whep.handle(request, response, path);
    },
    handleUpgrade(request, socket, head) {
      ws.handleUpgrade(request, socket, head);
    },
    get closed() {
      return closing !== undefined;
    },
    close() {
      closing ??= (async () => {
        whep.close();
        logger.info({ connections: ws.connectionCount }, 'signaling server shutting down');
        await ws.close();
      })();
      return closing;
    },
  };
}

/** Answers with a JSON body, never cached. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(body));
}
