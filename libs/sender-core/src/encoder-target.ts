/**
 * One encoder, many links: the bitrate a camera's single encoder should aim at, given what each of
 * its viewers' links carries. A pure function, so the policy can be read and tested on its own.
 *
 * - No viewer has an estimate yet: the configured bitrate.
 * - The fastest viewer bounds it: nobody can use more than the best link carries (less 5 % for
 *   RTP/SRTP overhead and the bursts a keyframe makes).
 * - Every viewer should get at least the base temporal layer within its link, so the slowest
 *   viewer pulls the target down to where the base layer fits its link (VP8 with two layers: the
 *   base is 60 % of the rate, so a 500 kbit/s viewer holds the others at ~750 kbit/s, and gets
 *   15 fps while they get 30 fps).
 * - But one slow viewer may pull the target down to no less than a quarter of what the fastest
 *   could take (`MAX_DRAG`): below that, the slow viewer keeps the base layer and its own pacer
 *   drops frames to fit, rather than every viewer watching at its rate. H.264 has no layers here
 *   (its base share is 1): the same rule makes the target follow the slowest viewer down to a
 *   quarter of the fastest, and a viewer slower than that sees frames dropped by its pacer.
 * - Never below `floorBps`.
 */

/**
 * Part of a link's estimate the encoder may fill (the rest: packet overhead, keyframe bursts).
 * With 0.9, Chromium behind a 1 Mbit/s tbf received ~620 kbit/s: the estimate itself swings
 * between ~0.65 and 1.0 of the link (AIMD), and libvpx undershoots its target a little.
 */
export const MEDIA_SHARE = 0.95;
/**
 * A slow viewer may lower the shared target to this share of what the fastest viewer could take.
 * Measured with Chromium (bench/congestion.mjs, two viewers, one behind 500 kbit/s): with 0.25 the
 * target stopped at 625 kbit/s, the base layer (375) did not fit the narrow link (~330 estimated),
 * its pacer dropped base frames, and their keyframes (37 in 30 s) reached the free viewer too.
 */
export const MAX_DRAG = 0.15;

export interface EncoderTargetInputs {
  /** The configured bitrate: the target never exceeds it, bps. */
  readonly ceilingBps: number;
  /** The lowest target, bps. */
  readonly floorBps: number;
  /** Share of the bitrate carried by the base temporal layer (1 without layers). */
  readonly baseLayerShare: number;
  /** What each viewer's link carries for this camera, bps (viewers without an estimate left out). */
  readonly viewersBps: readonly number[];
}

/** The encoder target for a camera, bps. */
export function sharedEncoderTarget({
  ceilingBps,
  floorBps,
  baseLayerShare,
  viewersBps,
}: EncoderTargetInputs): number {
  if (viewersBps.length === 0) return ceilingBps;
  const fastestBps = Math.max(...viewersBps) * MEDIA_SHARE;
  const slowestBps = Math.min(...viewersBps) * MEDIA_SHARE;
  const bestBps = Math.min(ceilingBps, fastestBps);
  const baseFitsSlowestBps = slowestBps / Math.min(1, Math.max(baseLayerShare, 0.1));
  const targetBps = Math.min(bestBps, Math.max(baseFitsSlowestBps, bestBps * MAX_DRAG));
  return Math.max(floorBps, Math.min(targetBps, ceilingBps));
}
