import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LIMITS, type ClientMessage, type ServerMessage } from '@robocam/protocol';
import type { Logger } from '@robocam/service';

/** An ICE server announced to WHEP clients in `Link: <…>; rel="ice-server"` headers. */
export interface WhepIceServer {
  /** e.g. `stun:stun.example.net` or `turn:turn.example.net?transport=udp`. */
  urls: string;
  username?: string;
  credential?: string;
}

/** What the WHEP endpoint needs from the signaling core; WHEP viewers are ordinary viewers there. */
export interface WhepBridge {
  /** A sender by id or name, or the first online sender when `ref` is undefined. */
  findSender(ref: string | undefined): WhepSender | undefined;
  /** Whether a sender with this name was online at some point since the server started. */
  senderWasSeen(name: string): boolean;
  /** Registers a viewer for one WHEP session; messages routed to it arrive at `deliver`. */
  addViewer(deliver: (message: ServerMessage) => void, remote: string): { id: string };
  /** Routes a message from that viewer exactly as if it came over a WebSocket. */
  route(viewerId: string, message: ClientMessage): void;
  /** Unregisters the viewer, ending its session (the sender gets a bye). */
  removeViewer(viewerId: string): void;
}

export interface WhepSender {
  id: string;
  name: string;
  cameras: { id: string }[];
}

export interface WhepSettings {
  /** When set, requests need `Authorization: Bearer <token>`. */
  viewerToken?: string;
  /** ICE servers to announce. Default none. */
  iceServers?: WhepIceServer[];
  /** Browser origins allowed by CORS. Default: any (`*`). */
  allowedOrigins?: string[];
  /** How long to wait for the sender's answer, in ms. Default 10 000. */
  answerTimeoutMs?: number;
  logger: Logger;
}

interface WhepSession {
  readonly id: string;
  readonly viewerId: string;
  readonly signalingSession: string;
  readonly senderId: string;
  readonly cameraId: string;
  offerSdp: string;
  remoteUfrag: string | undefined;
  etag: string;
  /** Resolves with the next answer SDP (or rejects on bye/error) while a negotiation runs. */
  pending: { resolve: (sdp: string) => void; reject: (error: WhepError) => void } | undefined;
}

/** An HTTP-level failure: status, message, and extra headers (e.g. Retry-After). */
class WhepError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
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
  readonly #bridge: WhepBridge;
  readonly #settings: WhepSettings;
  readonly #sessions = new Map<string, WhepSession>();

  constructor(bridge: WhepBridge, settings: WhepSettings) {
    this.#bridge = bridge;
    this.#settings = settings;
  }

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
      if (!(error instanceof WhepError))
        this.#settings.logger.error({ err: String(error) }, 'WHEP request failed');
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

  /** Ends every WHEP session (server shutdown). */
  close(): void {
    for (const session of [...this.#sessions.values()]) this.#end(session, 'server shutting down');
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
    const sender = this.#bridge.findSender(senderName);
    if (sender === undefined) {
      if (senderName === undefined || this.#bridge.senderWasSeen(senderName)) {
        throw new WhepError(503, 'no sender online yet', { 'retry-after': '5' });
      }
      throw new WhepError(404, 'unknown sender');
    }
    const cameraId = cameraRef === undefined ? sender.cameras[0]?.id : decodePathSegment(cameraRef);
    if (cameraId === undefined || !sender.cameras.some((camera) => camera.id === cameraId)) {
      throw new WhepError(404, 'unknown camera');
    }

    const id = randomBytes(18).toString('base64url');
    const viewer = this.#bridge.addViewer(
      (message) => {
        const current = this.#sessions.get(id);
        if (current !== undefined) this.#onMessage(current, message);
      },
      `${request.socket.remoteAddress ?? '?'} (WHEP)`,
    );
    const session: WhepSession = {
      id,
      viewerId: viewer.id,
      signalingSession: `whep-${id}`,
      senderId: sender.id,
      cameraId,
      offerSdp,
      remoteUfrag: iceUfrag(offerSdp),
      etag: newEtag(),
      pending: undefined,
    };
    this.#sessions.set(id, session);
    try {
      const answer = await this.#negotiate(session);
      response.writeHead(201, {
        'content-type': 'application/sdp',
        location: `/whep/sessions/${id}`,
        etag: session.etag,
        ...this.#iceServerLinks(),
      });
      response.end(answer);
      this.#settings.logger.info({ whep: id, sender: sender.id, camera: cameraId }, 'WHEP session started');
    } catch (error) {
      this.#end(session, 'negotiation failed');
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
      this.#bridge.route(session.viewerId, {
        type: 'candidate',
        session: session.signalingSession,
        candidate,
      });
    }
    if (fragment.endOfCandidates) {
      this.#bridge.route(session.viewerId, {
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
    this.#end(session, 'WHEP client ended the session');
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
      this.#bridge.route(session.viewerId, {
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
        // answering); sender-online notices and pings are for interactive viewers.
        return;
    }
  }

  #end(session: WhepSession, reason: string, sendBye = true): void {
    if (!this.#sessions.delete(session.id)) return;
    if (sendBye)
      this.#bridge.route(session.viewerId, { type: 'bye', session: session.signalingSession, reason });
    this.#bridge.removeViewer(session.viewerId);
    this.#settings.logger.info({ whep: session.id, reason }, 'WHEP session ended');
  }

  #authorize(request: IncomingMessage): void {
    const token = this.#settings.viewerToken;
    if (token === undefined) return;
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : undefined;
    const a = createHash('sha256')
      .update(given ?? '')
      .digest();
    const b = createHash('sha256').update(token).digest();
    if (given === undefined || !timingSafeEqual(a, b)) {
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

/** A WHEP offer must be a real SDP offer with video, ICE credentials and a DTLS fingerprint. */
function validateOffer(sdp: string): void {
  const lines = sdp.split(/\r?\n/);
  const ok =
    lines[0] === 'v=0' &&
    lines.some((line) => line.startsWith('m=video ')) &&
    lines.some((line) => line.startsWith('a=ice-ufrag:')) &&
    lines.some((line) => line.startsWith('a=fingerprint:')) &&
    // Control characters other than line breaks have no place in SDP.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(sdp);
  if (!ok)
    throw new WhepError(400, 'not a usable SDP offer (needs v=0, a video m-line, ICE and DTLS attributes)');
}

function iceUfrag(sdp: string): string | undefined {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
}

interface SdpFragment {
  ufrag: string | undefined;
  pwd: string | undefined;
  candidates: {
    candidate: string;
    sdpMid: string | null;
    sdpMLineIndex: number | null;
    usernameFragment: string | null;
  }[];
  endOfCandidates: boolean;
}

/** Parses `application/trickle-ice-sdpfrag` (RFC 8840). */
function parseSdpFragment(text: string): SdpFragment {
  const fragment: SdpFragment = { ufrag: undefined, pwd: undefined, candidates: [], endOfCandidates: false };
  let mid: string | null = null;
  let mLineIndex = -1;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    if (line.startsWith('a=ice-ufrag:')) fragment.ufrag = line.slice(12);
    else if (line.startsWith('a=ice-pwd:')) fragment.pwd = line.slice(10);
    else if (line.startsWith('m=')) mLineIndex += 1;
    else if (line.startsWith('a=mid:')) mid = line.slice(6);
    else if (line.startsWith('a=candidate:')) {
      if (line.length > LIMITS.maxCandidateLength) throw new WhepError(400, 'candidate line too long');
      fragment.candidates.push({
        candidate: line.slice(2),
        sdpMid: mid,
        sdpMLineIndex: mLineIndex >= 0 ? mLineIndex : null,
        usernameFragment: fragment.ufrag ?? null,
      });
    } else if (line === 'a=end-of-candidates') fragment.endOfCandidates = true;
    else if (!/^[a-z]=/.test(line)) throw new WhepError(400, 'not an SDP fragment');
  }
  if (fragment.candidates.length > 64) throw new WhepError(400, 'too many candidates');
  return fragment;
}

/** The stored offer with new ICE credentials and no stale candidates. */
function restartOffer(offer: string, ufrag: string, pwd: string): string {
  return offer
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('a=candidate:') && line !== 'a=end-of-candidates')
    .map((line) =>
      line.startsWith('a=ice-ufrag:')
        ? `a=ice-ufrag:${ufrag}`
        : line.startsWith('a=ice-pwd:')
          ? `a=ice-pwd:${pwd}`
          : line,
    )
    .join('\r\n');
}

/** The ICE part of an answer as an SDP fragment: credentials, then each m-line's candidates. */
function answerFragment(answer: string): string {
  const out: string[] = [];
  const lines = answer.split(/\r?\n/);
  const ufrag = lines.find((line) => line.startsWith('a=ice-ufrag:'));
  const pwd = lines.find((line) => line.startsWith('a=ice-pwd:'));
  if (ufrag !== undefined) out.push(ufrag);
  if (pwd !== undefined) out.push(pwd);
  for (const line of lines) {
    if (
      line.startsWith('m=') ||
      line.startsWith('a=mid:') ||
      line.startsWith('a=candidate:') ||
      line === 'a=end-of-candidates'
    ) {
      out.push(line);
    }
  }
  return `${out.join('\r\n')}\r\n`;
}
