import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LIMITS, type ByeCode, type ServerMessage } from '@robocam/protocol';
import { tokensEqual } from '@robocam/service';
import { silentLogger, type Logger } from '@robocam/types';
import { WhepError } from './errors.js';
import type { PeerLink } from './peer.js';
import type { SignalingRouter } from './router.js';
import { answerFragment, iceUfrag, parseSdpFragment, restartOffer, validateOffer } from './whep-sdp.js';

/** An ICE server announced to WHEP clients in `Link: <…>; rel="ice-server"` headers. */
export interface WhepIceServer {
  /** e.g. `stun:stun.example.net` or `turn:turn.example.net?transport=udp`. */
  urls: string;
  username?: string;
  credential?: string;
}

export interface WhepSettings {
  /** When set, requests need `Authorization: Bearer <token>`. Default: unset (open). */
  viewerToken?: string | undefined;
  /** ICE servers to announce. Default none. */
  iceServers?: WhepIceServer[] | undefined;
  /** Browser origins allowed by CORS. Default: any (`*`). */
  allowedOrigins?: string[] | undefined;
  /** How long to wait for the sender's answer, in ms. Default 10 000. */
  answerTimeoutMs?: number | undefined;
  /** Told the number of open WHEP sessions whenever it changes (the server's gauge). */
  onSessionCount?: (count: number) => void;
  /** Structured logger (pino-compatible). Default: silent. */
  logger?: Logger;
}

interface WhepSession {
  readonly id: string;
  /** The session's virtual viewer in the router. */
  readonly viewer: PeerLink;
  readonly signalingSession: string;
  readonly senderId: string;
  readonly cameraId: string;
  offerSdp: string;
  remoteUfrag: string | undefined;
  etag: string;
  /** Resolves with the next answer SDP (or rejects on bye/error) while a negotiation runs. */
  pending: { resolve: (sdp: string) => void; reject: (error: WhepError) => void } | undefined;
}

const SESSION_PATH = /^\/whep\/sessions\/([A-Za-z0-9_-]{22,64})$/;
const ENDPOINT_PATH = /^\/(?:([^/]+)\/([^/]+)\/)?whep$/;

/**
 * WebRTC-HTTP Egress Protocol (draft-ietf-wish-whep; WHIP's rules, RFC 9725): `POST` an SDP offer
 * to `/whep` or `/<sender>/<camera>/whep`, get the answer and a session URL; `PATCH` that URL to
 * trickle candidates or restart ICE, `DELETE` it to stop. The offer travels to the sender over the
 * ordinary signaling protocol, so a WHEP viewer shares the encoder like any other viewer.
 */
export class WhepEndpoint {
  readonly #router: SignalingRouter;
  readonly #settings: WhepSettings;
  readonly #logger: Logger;
  readonly #sessions = new Map<string, WhepSession>();

  /** Each WHEP session becomes a viewer of `router`, which routes its offer to the sender. */
  constructor(router: SignalingRouter, settings: WhepSettings = {}) {
    this.#router = router;
    this.#settings = settings;
    this.#logger = settings.logger ?? silentLogger;
  }

  /** WHEP sessions open right now. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Handles the request if it is a WHEP one; returns false otherwise. */
  async handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean> {
    const sessionMatch = SESSION_PATH.exec(path);
    const endpointMatch = sessionMatch === null ? ENDPOINT_PATH.exec(path) : null;
    if (sessionMatch === null && endpointMatch === null) return false;
    this.#cors(request, response, sessionMatch !== null);
    try {
      if (request.method === 'OPTIONS') {
        response.writeHead(204, this.#iceServerLinks());
        response.end();
      } else if (endpointMatch !== null && request.method === 'POST') {
        await this.#post(request, response, endpointMatch[1], endpointMatch[2]);
      } else if (sessionMatch?.[1] !== undefined && request.method === 'PATCH') {
        await this.#patch(request, response, sessionMatch[1]);
      } else if (sessionMatch?.[1] !== undefined && request.method === 'DELETE') {
        this.#authorize(request);
        this.#delete(response, sessionMatch[1]);
      } else {
        const allow = sessionMatch === null ? 'POST, OPTIONS' : 'PATCH, DELETE, OPTIONS';
        throw new WhepError(405, 'method not allowed', { allow });
      }
    } catch (error) {
      const whepError = error instanceof WhepError ? error : new WhepError(500, 'internal error');
      if (!(error instanceof WhepError)) this.#logger.error({ err: String(error) }, 'WHEP request failed');
      if (!response.headersSent) {
        response.writeHead(whepError.status, {
          'content-type': 'text/plain; charset=utf-8',
          ...whepError.headers,
        });
      }
      response.end(`${whepError.message}\n`);
    }
    return true;
  }

  /** Ends every WHEP session (server shutdown); each sender gets a `bye` with `shutting-down`. */
  close(): void {
    for (const session of [...this.#sessions.values()])
      this.#end(session, 'server shutting down', true, 'shutting-down');
  }

  async #post(
    request: IncomingMessage,
    response: ServerResponse,
    senderRef: string | undefined,
    cameraRef: string | undefined,
  ): Promise<void> {
    this.#authorize(request);
    requireContentType(request, 'application/sdp');
    const offerSdp = await readBody(request, LIMITS.maxSdpLength);
    validateOffer(offerSdp);

    const senderName = senderRef === undefined ? undefined : decodePathSegment(senderRef);
    const sender = this.#router.findSender(senderName);
    if (sender === undefined) {
      if (senderName === undefined || this.#router.senderWasSeen(senderName)) {
        throw new WhepError(503, 'no sender online yet', { 'retry-after': '5' });
      }
      throw new WhepError(404, 'unknown sender');
    }
    const cameraId = cameraRef === undefined ? sender.cameras[0]?.id : decodePathSegment(cameraRef);
    if (cameraId === undefined || !sender.cameras.some((camera) => camera.id === cameraId)) {
      throw new WhepError(404, 'unknown camera');
    }

    const id = randomBytes(18).toString('base64url');
    const viewer = this.#router.join(
      {
        remote: `${request.socket.remoteAddress ?? '?'} (WHEP)`,
        send: (message) => {
          const current = this.#sessions.get(id);
          if (current !== undefined) this.#onMessage(current, message);
        },
        // The router closes a transport only for a refused hello, which a WHEP viewer never sends.
        close: () => undefined,
      },
      { name: 'WHEP viewer', idPrefix: 'w' },
    );
    const session: WhepSession = {
      id,
      viewer,
      signalingSession: `whep-${id}`,
      senderId: sender.id,
      cameraId,
      offerSdp,
      remoteUfrag: iceUfrag(offerSdp),
      etag: newEtag(),
      pending: undefined,
    };
    this.#sessions.set(id, session);
    this.#settings.onSessionCount?.(this.#sessions.size);
    try {
      const answer = await this.#negotiate(session);
      response.writeHead(201, {
        'content-type': 'application/sdp',
        location: `/whep/sessions/${id}`,
        etag: session.etag,
        ...this.#iceServerLinks(),
      });
      response.end(answer);
      this.#logger.info({ whep: id, sender: sender.id, camera: cameraId }, 'WHEP session started');
    } catch (error) {
      this.#end(session, 'negotiation failed', true);
      throw error;
    }
  }

  async #patch(request: IncomingMessage, response: ServerResponse, id: string): Promise<void> {
    this.#authorize(request);
    const session = this.#sessions.get(id);
    if (session === undefined) throw new WhepError(404, 'unknown session');
    requireContentType(request, 'application/trickle-ice-sdpfrag');
    const ifMatch = request.headers['if-match'];
    const fragment = parseSdpFragment(await readBody(request, LIMITS.maxSdpLength));
    const restart = fragment.ufrag !== undefined && fragment.ufrag !== session.remoteUfrag;
    if (restart) {
      // RFC 9725 §4.3.2: an ICE restart request carries `If-Match: "*"`.
      if (ifMatch === undefined) throw new WhepError(428, 'ICE restart requires If-Match: "*"');
      if (ifMatch !== '*' && ifMatch !== session.etag) throw new WhepError(412, 'ETag does not match');
      if (fragment.pwd === undefined) throw new WhepError(400, 'ICE restart without a=ice-pwd');
      session.offerSdp = restartOffer(session.offerSdp, fragment.ufrag as string, fragment.pwd);
      session.remoteUfrag = fragment.ufrag;
      // The sender renegotiates the running peer connection with the new credentials.
      const answer = await this.#negotiate(session);
      session.etag = newEtag();
      response.writeHead(200, { 'content-type': 'application/trickle-ice-sdpfrag', etag: session.etag });
      response.end(answerFragment(answer));
      return;
    }
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== session.etag) {
      throw new WhepError(412, 'ETag does not match');
    }
    for (const candidate of fragment.candidates) {
      session.viewer.receive({
        type: 'candidate',
        session: session.signalingSession,
        candidate,
      });
    }
    if (fragment.endOfCandidates) {
      session.viewer.receive({
        type: 'candidate',
        session: session.signalingSession,
        candidate: null,
      });
    }
    response.writeHead(204);
    response.end();
  }

  #delete(response: ServerResponse, id: string): void {
    const session = this.#sessions.get(id);
    if (session === undefined) throw new WhepError(404, 'unknown session');
    this.#end(session, 'WHEP client ended the session', true, 'closed');
    response.writeHead(200);
    response.end();
  }

  /** Sends the session's offer (initial or restart) and waits for the sender's answer. */
  #negotiate(session: WhepSession): Promise<string> {
    const timeoutMs = this.#settings.answerTimeoutMs ?? 10_000;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        session.pending = undefined;
        reject(new WhepError(504, 'the sender did not answer in time', { 'retry-after': '5' }));
      }, timeoutMs);
      session.pending = {
        resolve: (sdp) => {
          clearTimeout(timer);
          resolve(sdp);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      session.viewer.receive({
        type: 'offer',
        session: session.signalingSession,
        to: session.senderId,
        cameras: [session.cameraId],
        sdp: session.offerSdp,
      });
    });
  }

  #onMessage(session: WhepSession, message: ServerMessage): void {
    switch (message.type) {
      case 'answer':
        session.pending?.resolve(message.sdp);
        session.pending = undefined;
        return;
      case 'bye':
        session.pending?.reject(
          new WhepError(503, `the sender refused: ${message.reason ?? 'no reason given'}`, {
            'retry-after': '5',
          }),
        );
        session.pending = undefined;
        if (message.session === session.signalingSession)
          this.#end(session, `sender: ${message.reason ?? 'bye'}`, false);
        return;
      case 'error': {
        const status = message.code === 'server-full' ? 503 : message.code === 'unknown-peer' ? 503 : 400;
        session.pending?.reject(
          new WhepError(status, message.message, status === 503 ? { 'retry-after': '5' } : {}),
        );
        session.pending = undefined;
        return;
      }
      case 'offer':
        return;
      default:
        // Trickled sender candidates are already in the answer (the sender gathers before
        // answering); sender-online notices, pings and link-stats are for interactive viewers.
        return;
    }
  }

  /** Ends the session; with `sendBye` the sender first gets a `bye` (carrying `code` when given). */
  #end(session: WhepSession, reason: string, sendBye: boolean, code?: ByeCode): void {
    if (!this.#sessions.delete(session.id)) return;
    this.#settings.onSessionCount?.(this.#sessions.size);
    if (sendBye) {
      session.viewer.receive({
        type: 'bye',
        session: session.signalingSession,
        ...(code === undefined ? {} : { code }),
        reason,
      });
    }
    session.viewer.leave(1000);
    this.#logger.info({ whep: session.id, reason }, 'WHEP session ended');
  }

  #authorize(request: IncomingMessage): void {
    const token = this.#settings.viewerToken;
    if (token === undefined) return;
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!tokensEqual(given, token)) {
      throw new WhepError(401, 'a valid viewer token is required', { 'www-authenticate': 'Bearer' });
    }
  }

  #cors(request: IncomingMessage, response: ServerResponse, isSession: boolean): void {
    const origin = request.headers.origin;
    const allowed = this.#settings.allowedOrigins;
    if (allowed === undefined) response.setHeader('access-control-allow-origin', '*');
    else if (origin !== undefined && allowed.includes(origin)) {
      response.setHeader('access-control-allow-origin', origin);
      response.setHeader('vary', 'origin');
    }
    response.setHeader(
      'access-control-allow-methods',
      isSession ? 'PATCH, DELETE, OPTIONS' : 'POST, OPTIONS',
    );
    response.setHeader('access-control-allow-headers', 'authorization, content-type, if-match');
    response.setHeader('access-control-expose-headers', 'location, etag, link, accept-patch, retry-after');
    if (isSession) response.setHeader('accept-patch', 'application/trickle-ice-sdpfrag');
    else response.setHeader('accept-post', 'application/sdp');
  }

  #iceServerLinks(): Record<string, string[]> {
    const servers = this.#settings.iceServers ?? [];
    if (servers.length === 0) return {};
    return {
      link: servers.map((server) => {
        const credentials =
          server.username === undefined
            ? ''
            : `; username="${quote(server.username)}"; credential="${quote(server.credential ?? '')}"; credential-type="password"`;
        return `<${server.urls}>; rel="ice-server"${credentials}`;
      }),
    };
  }
}

function quote(value: string): string {
  return value.replace(/["\\\r\n]/g, '');
}

function newEtag(): string {
  return `"${randomBytes(9).toString('base64url')}"`;
}

function requireContentType(request: IncomingMessage, expected: string): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== expected) throw new WhepError(415, `Content-Type must be ${expected}`);
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new WhepError(400, 'malformed path');
  }
}

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) {
    request.resume();
    throw new WhepError(413, `body larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new WhepError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
