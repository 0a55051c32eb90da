/**
 * VP8 temporal layers through FFmpeg's libvpx wrapper: the layering patterns robocam uses, the
 * `ts-parameters` private option that selects them, and which layer each output frame belongs to.
 * Pure data and functions; `VideoEncoder` keeps the pattern position, `implementations` passes the
 * option.
 *
 * How FFmpeg 8.1's libvpxenc.c drives the layers (read in its source, confirmed with libvpx 1.15.2
 * in node-av by decoding layer subsets):
 * - `ts_layering_mode` selects a preset pattern (`set_temporal_layer_pattern`): per position in
 *   the period, the libvpx reference/update flags and the layer id. The mode overwrites
 *   ts_number_layers, ts_periodicity, ts_rate_decimator and ts_layer_id, so it must come last in
 *   the option string; it is parsed with `strtoul(value, NULL, 4)` (base 4: mode 4 cannot be
 *   spelled "4"). Unparsable entries are only logged as warnings, so a typo silently means one
 *   layer: the tests check the layering by decoding, not by reading back the option.
 * - `ts_target_bitrate` (kbit/s) is cumulative: entry i is the rate of layers 0..i together, the
 *   last one equals the total target (libvpx computes a layer's own frame size from the
 *   difference of consecutive entries and requires them strictly increasing).
 * - Position: FFmpeg keeps its own counter (`current_temporal_idx`), 0 when the codec is opened,
 *   reset to 0 by a frame whose pict_type is I (a forced keyframe), advanced by one after every
 *   vpx_codec_encode call. It hands libvpx the layer id explicitly (VP8E_SET_TEMPORAL_LAYER_ID),
 *   so libvpx's own pattern counter is not used. With no look-ahead (lag-in-frames 0) and frame
 *   dropping off, encode call n gives output frame n, whose layer is `layerIds[position]`. FFmpeg
 *   does not export the layer id: the encoder mirrors the counter.
 */

/** Number of VP8 temporal layers: 1 (no layering), 2 or 3. */
export type TemporalLayerCount = 1 | 2 | 3;

/** Every {@link TemporalLayerCount}. */
export const TEMPORAL_LAYER_COUNTS: readonly TemporalLayerCount[] = [1, 2, 3];

/** One layering pattern: what each position of the repeating period is. */
export interface TemporalPattern {
  readonly layers: TemporalLayerCount;
  /** FFmpeg's `ts_layering_mode` (set_temporal_layer_pattern case); 0 = none. */
  readonly layeringMode: number;
  /** Layer id per position in the period (FFmpeg's ts_layer_id). */
  readonly layerIds: readonly number[];
  /**
   * Per position: a delta frame there references base-layer frames only (upper layers only; false
   * for base-layer positions, see `EncodedFrame.layerSync`).
   */
  readonly sync: readonly boolean[];
  /** Frame-rate divisor per layer (layer i runs at fps / rateDecimators[i]). */
  readonly rateDecimators: readonly number[];
  /** Cumulative share of the target bitrate per layer (the last is 1). */
  readonly cumulativeShare: readonly number[];
}

/**
 * The patterns, by layer count. References (VP8 buffers LAST, GOLDEN; ALTREF unused), from the
 * flags in libvpxenc.c's set_temporal_layer_pattern:
 * - 2 layers, mode 2, period 2, ids 0,1:
 *   pos 0 (TL0) refs LAST, updates LAST;
 *   pos 1 (TL1) refs LAST, updates nothing.
 *   So every TL1 frame references only the latest TL0 frame (sync) and nothing references a TL1
 *   frame.
 * - 3 layers, mode 3, period 4, ids 0,2,1,2:
 *   pos 0 (TL0) refs LAST, updates LAST;
 *   pos 1 (TL2) refs LAST, updates nothing: references TL0 only (sync);
 *   pos 2 (TL1) refs LAST, updates GOLDEN: references TL0 only (sync);
 *   pos 3 (TL2) refs GOLDEN only, updates nothing: references the TL1 frame of pos 2 (not sync).
 *   (Mode 4 adds a TL2→TL2 dependency through ALTREF; not used.)
 * A keyframe refreshes every buffer whatever its flags, so the pattern restarts cleanly from it.
 * Bitrate split as libwebrtc's VP8 temporal layers: 2 layers 60/40 %, 3 layers 40/20/40 %.
 */
export const TEMPORAL_PATTERNS: Readonly<Record<TemporalLayerCount, TemporalPattern>> = {
  1: {
    layers: 1,
    layeringMode: 0,
    layerIds: [0],
    sync: [false],
    rateDecimators: [1],
    cumulativeShare: [1],
  },
  2: {
    layers: 2,
    layeringMode: 2,
    layerIds: [0, 1],
    sync: [false, true],
    rateDecimators: [2, 1],
    cumulativeShare: [0.6, 1],
  },
  3: {
    layers: 3,
    layeringMode: 3,
    layerIds: [0, 2, 1, 2],
    sync: [false, true, true, false],
    rateDecimators: [4, 2, 1],
    cumulativeShare: [0.4, 0.6, 1],
  },
};

/**
 * Cumulative per-layer targets in kbit/s for a total of `kbps`: `[600, 1000]` for 2 layers at 1000.
 * Strictly increasing for every total ≥ 10 kbit/s (the encoder's floor is 100).
 */
export function layerTargetsKbps(layers: TemporalLayerCount, kbps: number): number[] {
  const shares = TEMPORAL_PATTERNS[layers].cumulativeShare;
  return shares.map((share, i) => (i === shares.length - 1 ? kbps : Math.round(kbps * share)));
}

/**
 * The value of libvpx's `ts-parameters` private option for `layers` at a total of `kbps`, or
 * undefined for one layer (the option is then not passed at all). E.g. 2 layers at 1000 kbit/s:
 * `ts_number_layers=2:ts_target_bitrate=600,1000:ts_rate_decimator=2,1:ts_periodicity=2:`
 * `ts_layer_id=0,1:ts_layering_mode=2`. The fields the mode sets anyway are spelled out so the
 * string says what it does; `ts_layering_mode` comes last because it overrides them.
 */
export function tsParameters(layers: TemporalLayerCount, kbps: number): string | undefined {
  const p = TEMPORAL_PATTERNS[layers];
  if (p.layers === 1) return undefined;
  return [
    `ts_number_layers=${p.layers}`,
    `ts_target_bitrate=${layerTargetsKbps(layers, kbps).join(',')}`,
    `ts_rate_decimator=${p.rateDecimators.join(',')}`,
    `ts_periodicity=${p.layerIds.length}`,
    `ts_layer_id=${p.layerIds.join(',')}`,
    // Base 4 in FFmpeg: fine for the single digits 2 and 3.
    `ts_layering_mode=${p.layeringMode.toString(4)}`,
  ].join(':');
}

/**
 * Share of the total bitrate that one base-layer frame gets, relative to an average frame of the
 * whole stream: (TL0 share × its frame-rate divisor), 1.2 for 2 layers, 1.6 for 3. libvpx sizes a
 * keyframe (a TL0 frame) against the TL0 per-frame budget, so percentages of "an average frame"
 * (max-intra-rate) are divided by this to keep meaning the same number of bytes.
 */
export function baseFrameBudgetRatio(layers: TemporalLayerCount): number {
  const p = TEMPORAL_PATTERNS[layers];
  return (p.cumulativeShare[0] ?? 1) * (p.rateDecimators[0] ?? 1);
}
