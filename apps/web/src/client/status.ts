/** What a camera tile is doing, as shown on its status line and in the test hook. */
export type TileStatus =
  'connecting' | 'live' | 'reconnecting' | 'no-sender' | 'camera-lost' | 'paused' | 'error';

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
  /** A failure that retrying soon will not fix (refused by the server or the sender). */
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

/** Reasons for which an immediate retry is pointless (the sender or server said no). */
export function isFatalReason(reason: string): boolean {
  return /too many viewers|unknown camera|no-common-codec|does not accept|unauthorized|forbidden|server-full|bad-message/i.test(
    reason,
  );
}
