import type { ClientMessageOf, LinkCameraStats } from '@robocam/protocol';
import type { CameraStats } from './camera-pipeline.js';
import type { ViewerSessionStats } from './viewer-session.js';

/**
 * The `id` every `link-stats` message carries: a signaling server that predates the message
 * answers it with a `bad-message` error naming this ref, and the sender stops sending.
 */
export const LINK_STATS_MESSAGE_ID = 'link-stats';

/**
 * The `link-stats` message of one session: the viewer's link from its stats, each camera from its
 * pipeline's stats (`cameras`, by id). Values are rounded and clamped to the protocol's bounds, so
 * the signaling server never refuses one; what the sender does not know yet is left out.
 */
export function linkStatsMessage(
  session: ViewerSessionStats,
  cameras: ReadonlyMap<string, CameraStats>,
): ClientMessageOf<'link-stats'> {
  const link = session.link;
  const rttMs = link?.rttMs ?? session.rttMs;
  return {
    type: 'link-stats',
    id: LINK_STATS_MESSAGE_ID,
    session: session.id,
    ...optional('estimateKbps', link?.estimateKbps, MAX_KBPS),
    ...optional('receivedKbps', link?.receivedKbps, MAX_KBPS),
    ...optional('lossPct', link === undefined ? undefined : link.lossFraction * 100, 100),
    ...optional('rttMs', rttMs, MAX_MS),
    ...optional('pacerQueueMs', link?.pacerQueueMs, MAX_MS),
    cameras: session.cameras.map((id) => cameraEntry(id, cameras.get(id), session)),
  };
}

/** The protocol's bounds (see `linkStats` in @robocam/protocol's schemas). */
const MAX_KBPS = 10_000_000;
const MAX_MS = 600_000;
const MAX_LAYER = 7;

function cameraEntry(
  id: string,
  camera: CameraStats | undefined,
  session: ViewerSessionStats,
): LinkCameraStats {
  const track = session.tracks.find((candidate) => candidate.camera === id);
  const maxLayer = track?.maxLayer ?? Math.max(0, (camera?.temporalLayers ?? 1) - 1);
  return {
    camera: id,
    ...optional('targetKbps', camera?.bitrateKbps, MAX_KBPS),
    ...optional('maxKbps', camera?.maxBitrateKbps, MAX_KBPS),
    ...size(camera?.encodedWidth, camera?.encodedHeight),
    ...optional('temporalLayer', track?.temporalLayer, MAX_LAYER),
    maxTemporalLayer: clampInt(maxLayer, MAX_LAYER),
  };
}

function size(
  width: number | undefined,
  height: number | undefined,
): { encodedWidth?: number; encodedHeight?: number } {
  if (width === undefined || height === undefined || !(width >= 1 && height >= 1)) return {};
  return { encodedWidth: clampInt(width, 7680), encodedHeight: clampInt(height, 4320) };
}

/** `{ [key]: value }` rounded into 0..max, or nothing for an unknown (or non-finite) value. */
function optional<K extends string>(
  key: K,
  value: number | undefined,
  max: number,
): Partial<Record<K, number>> {
  if (value === undefined || !Number.isFinite(value)) return {};
  return { [key]: clampInt(value, max) } as Partial<Record<K, number>>;
}

function clampInt(value: number, max: number): number {
  return Math.min(max, Math.max(0, Math.round(value)));
}
