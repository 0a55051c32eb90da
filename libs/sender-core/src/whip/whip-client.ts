/**
 * The HTTP side of WHIP (RFC 9725): POST the offer, PATCH trickled candidates, DELETE the
 * session. Transport-free of WebRTC: strings in, strings out. Every failure is a {@link WhipError}
 * whose code says whether trying again can help.
 */
import { RobocamError } from '@robocam/types';
import type { RTCIceServer } from 'werift';
import { parseIceServerLinks } from './link-header.js';

/**
 * Why a WHIP request failed:
 * - `whip-unauthorized`: 401/403, the token is wrong or missing (or, on some servers, the
 *   endpoint is busy) — retrying with the same token cannot help;
 * - `whip-rejected`: another 4xx, the server refuses the offer or the URL — no retry;
 * - `whip-server-error`: 5xx or 429, the server is in trouble — retry, after `retryAfterMs` if it said;
 * - `whip-unreachable`: no HTTP answer (refused, reset, timeout) — retry;
 * - `whip-bad-response`: 201 without an SDP answer or `Location`, too many redirects — no retry;
 * - `whip-no-common-codec`: the answer does not accept the camera's codec — no retry.
 */
export type WhipErrorCode =
  | 'whip-unauthorized'
  | 'whip-rejected'
  | 'whip-server-error'
  | 'whip-unreachable'
  | 'whip-bad-response'
  | 'whip-no-common-codec';

/** A WHIP request failed; `code` says why and {@link WhipError.retryable} whether to try again. */
export class WhipError extends RobocamError {
  declare readonly code: WhipErrorCode;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The server's `Retry-After`, ms (undefined when it gave none). */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: WhipErrorCode,
    message: string,
    { status, retryAfterMs, cause }: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }

  /** Whether a new attempt can succeed without a change of configuration. */
  get retryable(): boolean {
    return this.code === 'whip-server-error' || this.code === 'whip-unreachable';
  }
}

/** What a successful POST gives. */
export interface WhipSession {
  /** The WHIP session URL (the 201's `Location`, resolved against the URL that answered). */
  readonly resourceUrl: string;
  readonly answerSdp: string;
  /** The `ETag` for `If-Match` on PATCH, if the server sent one. */
  readonly etag: string | undefined;
  /** STUN/TURN servers from `Link: rel="ice-server"`. */
  readonly iceServers: RTCIceServer[];
  /** Whether the server takes trickled candidates (`Accept-Patch: application/trickle-ice-sdpfrag`). */
  readonly acceptsTrickle: boolean;
}

export interface WhipRequestOptions {
  /** Bearer token. Default none. */
  token?: string | undefined;
  /** Per-request timeout, ms. Default 10 000. */
  timeoutMs?: number;
}

/** Redirects followed per request (RFC 9725 §4.5 allows 307/308 on the POST). */
const MAX_REDIRECTS = 5;
/** Longest `Retry-After` honoured, ms: a server asking for an hour gets the backoff's ceiling. */
const MAX_RETRY_AFTER_MS = 300_000;
const TRICKLE_CONTENT_TYPE = 'application/trickle-ice-sdpfrag';

/** `Retry-After` as ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    ms = date - nowMs;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** The URL for logs: no credentials, no query (it may carry a token). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function headers(token: string | undefined, extra: Record<string, string>): Record<string, string> {
  return token === undefined ? extra : { ...extra, authorization: `Bearer ${token}` };
}

async function request(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new WhipError('whip-unreachable', `${init.method ?? 'GET'} ${redactUrl(url)}: ${reason}`, {
      cause: error,
    });
  }
}

/** The error for a non-2xx answer; reads (and discards) a short body for the message. */
async function statusError(response: Response, what: string): Promise<WhipError> {
  const body = (await response.text().catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 120);
  const status = response.status;
  const detail = `${what}: HTTP ${status}${body === '' ? '' : ` (${body})`}`;
  if (status === 401 || status === 403) {
    return new WhipError('whip-unauthorized', `${detail}: check the token`, { status });
  }
  if (status >= 500 || status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    return new WhipError('whip-server-error', detail, {
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  return new WhipError('whip-rejected', detail, { status });
}

/**
 * POSTs `offerSdp` to the WHIP endpoint and returns the session. Follows 307/308 redirects (the
 * offer and token go to the new URL, which then also resolves a relative `Location`); throws
 * {@link WhipError}.
 */
export async function postOffer(
  endpointUrl: string,
  offerSdp: string,
  { token, timeoutMs = 10_000 }: WhipRequestOptions = {},
): Promise<WhipSession> {
  let url = endpointUrl;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const response = await request(
      url,
      {
        method: 'POST',
        // Exactly `application/sdp`: simple-whip-server (Janus) refuses a charset suffix with 406.
        headers: headers(token, { 'content-type': 'application/sdp' }),
        body: offerSdp,
      },
      timeoutMs,
    );
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      if (location === null) {
        throw new WhipError(
          'whip-bad-response',
          `POST ${redactUrl(url)}: HTTP ${response.status} without Location`,
          {
            status: response.status,
          },
        );
      }
      url = new URL(location, url).href;
      continue;
    }
    if (response.status !== 201 && response.status !== 200) {
      throw await statusError(response, `POST ${redactUrl(url)}`);
    }
    const answerSdp = await response.text();
    if (location === null || !answerSdp.startsWith('v=0')) {
      throw new WhipError(
        'whip-bad-response',
        `POST ${redactUrl(url)}: HTTP ${response.status} without ${location === null ? 'Location' : 'an SDP answer'}`,
        { status: response.status },
      );
    }
    // Several Link headers arrive joined with ", " (Fetch): the parser splits them again.
    const link = response.headers.get('link');
    const acceptPatch = response.headers.get('accept-patch') ?? '';
    return {
      resourceUrl: new URL(location, url).href,
      answerSdp,
      etag: response.headers.get('etag') ?? undefined,
      iceServers: parseIceServerLinks(link === null ? [] : [link]),
      acceptsTrickle: acceptPatch.toLowerCase().includes(TRICKLE_CONTENT_TYPE),
    };
  }
  throw new WhipError(
    'whip-bad-response',
    `POST ${redactUrl(endpointUrl)}: more than ${MAX_REDIRECTS} redirects`,
  );
}

/**
 * PATCHes trickled candidates (an `application/trickle-ice-sdpfrag` body, RFC 8840) to the
 * session. Throws {@link WhipError} on a non-2xx answer (405/501: the server takes no trickle).
 */
export async function patchCandidates(
  session: Pick<WhipSession, 'resourceUrl' | 'etag'>,
  sdpFragment: string,
  { token, timeoutMs = 10_000 }: WhipRequestOptions = {},
): Promise<void> {
  const response = await request(
    session.resourceUrl,
    {
      method: 'PATCH',
      headers: headers(token, {
        'content-type': TRICKLE_CONTENT_TYPE,
        ...(session.etag === undefined ? {} : { 'if-match': session.etag }),
      }),
      body: sdpFragment,
    },
    timeoutMs,
  );
  if (!response.ok) throw await statusError(response, `PATCH ${redactUrl(session.resourceUrl)}`);
  await response.body?.cancel();
}

/** DELETEs the session (the server frees the endpoint). Throws {@link WhipError} on a non-2xx. */
export async function deleteSession(
  resourceUrl: string,
  { token, timeoutMs = 5_000 }: WhipRequestOptions = {},
): Promise<void> {
  const response = await request(resourceUrl, { method: 'DELETE', headers: headers(token, {}) }, timeoutMs);
  if (!response.ok) throw await statusError(response, `DELETE ${redactUrl(resourceUrl)}`);
  await response.body?.cancel();
}

/**
 * An `application/trickle-ice-sdpfrag` body for `candidates` (`a=candidate:…` values without the
 * `a=`), for the media section `mid` with the offer's ICE credentials (RFC 8840 §4.4).
 */
export function trickleFragment(
  { ufrag, pwd, mid }: { ufrag: string; pwd: string; mid: string },
  candidates: readonly string[],
  endOfCandidates: boolean,
): string {
  const lines = [`a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`, 'm=video 9 UDP/TLS/RTP/SAVPF 0', `a=mid:${mid}`];
  for (const candidate of candidates) {
    lines.push(candidate.startsWith('candidate:') ? `a=${candidate}` : `a=candidate:${candidate}`);
  }
  if (endOfCandidates) lines.push('a=end-of-candidates');
  return `${lines.join('\r\n')}\r\n`;
}
