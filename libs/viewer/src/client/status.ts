import { byeCodeSchema, isRetryableByeCode, type ByeCode, type ErrorCode } from '@robocam/protocol';
import type { CloseInfo } from '@robocam/types';
import type { TileStatus } from '../page-hook.js';

export type { TileStatus } from '../page-hook.js';

/**
 * Why a viewing session ended. `code` is the sender's `bye` code, the signaling server's `error`
 * code, or the page's own: `closed` (the page ended it on purpose), `connect-timeout` (no answer or
 * no first frame in time), `peer-failed` (ICE/DTLS failed, the video stalled, a bad answer),
 * `signaling-lost` (the offer could not be sent), `internal` (the browser could not make an offer).
 */
export type SessionCloseCode = ByeCode | ErrorCode | 'signaling-lost';
export type SessionCloseInfo = CloseInfo<SessionCloseCode>;

/** Everything the status of a tile is derived from. */
export interface TileConditions {
  /** The tab is in the foreground. */
  pageVisible: boolean;
  /** The tile is on screen (not scrolled away, not hidden behind an enlarged tile). */
  onScreen: boolean;
  /** The sender reports the camera lost; `cameraDetail` says why. */
  cameraLost: boolean;
  cameraDetail: string | undefined;
  /** Frames are being presented (the last one less than a moment ago). */
  playing: boolean;
  /** The sender is registered with the signaling server. */
  senderOnline: boolean;
  /** The signaling connection is up. */
  signalingOpen: boolean;
  /** A session is negotiating or connected. */
  sessionOpen: boolean;
  /** Why the last session ended, if it did and no new one played since. */
  lastFailure: string | undefined;
  /** A refusal that retrying soon will not fix (see {@link isRefusal}), shown as an error. */
  fatal: string | undefined;
}

/** Derives a tile's status and the line shown under its name. */
export function tileStatus(c: TileConditions): { status: TileStatus; text: string } {
  if (!c.pageVisible) return { status: 'paused', text: 'paused (tab in background)' };
  if (!c.onScreen) return { status: 'paused', text: 'paused (not on screen)' };
  // The sender's word on its camera beats the last frames still in flight.
  if (c.cameraLost)
    return {
      status: 'camera-lost',
      text: c.cameraDetail === undefined ? 'camera lost' : `camera lost: ${c.cameraDetail}`,
    };
  if (c.playing) return { status: 'live', text: c.signalingOpen ? 'live' : 'live (signaling reconnecting)' };
  if (c.fatal !== undefined) return { status: 'error', text: `error: ${c.fatal}` };
  if (!c.signalingOpen)
    return { status: 'reconnecting', text: 'reconnecting (signaling server unreachable)' };
  if (!c.senderOnline) return { status: 'no-sender', text: 'no sender online' };
  if (c.lastFailure !== undefined) return { status: 'reconnecting', text: `reconnecting (${c.lastFailure})` };
  return { status: 'connecting', text: c.sessionOpen ? 'connecting…' : 'starting…' };
}

/**
 * Signaling `error` codes about a session that retrying soon will not fix: the server refuses this
 * viewer (`unauthorized`, `forbidden`), has no room (`server-full`), or refuses the message itself.
 * The others (`unknown-peer`, `sender-offline`, `rate-limited`, `timeout`, `internal`, …) pass
 * with the sender's next registration or a moment's wait.
 */
const REFUSING_ERROR_CODES: ReadonlySet<SessionCloseCode> = new Set<ErrorCode>([
  'unauthorized',
  'forbidden',
  'server-full',
  'bad-json',
  'bad-message',
  'binary-not-supported',
  'unsupported-version',
  'too-large',
]);

const BYE_CODES: ReadonlySet<string> = new Set(byeCodeSchema.options);

function isByeCode(code: string): code is ByeCode {
  return BYE_CODES.has(code);
}

/**
 * Whether the other side refused the session in a way that retrying soon will not fix: a `bye`
 * whose code is not retryable (`isRetryableByeCode`: unknown camera, no common codec, bad offer),
 * or a refusing signaling `error`. Decided from codes only, never from the human text. The page's
 * own closes and failures (timeouts, ICE failures) are never refusals.
 */
export function isRefusal({ origin, code }: Pick<SessionCloseInfo, 'origin' | 'code'>): boolean {
  if (origin !== 'remote') return false;
  return isByeCode(code) ? !isRetryableByeCode(code) : REFUSING_ERROR_CODES.has(code);
}
