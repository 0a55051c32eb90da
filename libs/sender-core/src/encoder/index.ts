/**
 * The encoder stage, one file per layer: `settings` (types, defaults, bounds), `implementations`
 * (the FFmpeg encoders and their options), `temporal-layers` (VP8 layer patterns and libvpx's
 * `ts-parameters`), `codec-session` (one opened FFmpeg encoder), `probe`
 * (choosing and probing an implementation), `video-encoder` (the `VideoEncoder` callers use) and
 * `errors`.
 */
export { VideoEncoder } from './video-encoder.js';
export {
  DEFAULT_VP8_TEMPORAL_LAYERS,
  ENCODER_PREFERENCES,
  MAX_BITRATE_KBPS,
  MIN_BITRATE_KBPS,
  checkBitrateKbps,
  clampBitrateKbps,
  defaultBitrateKbps,
  resolveEncoderSettings,
} from './settings.js';
export type {
  BitrateUpdateMode,
  EncodeOptions,
  EncodedFrame,
  EncoderInputFrame,
  EncoderPreference,
  KeyframeCause,
  ResolvedVideoEncoderSettings,
  VideoEncoderSettings,
  VideoEncoderStats,
} from './settings.js';
export type { ImplementationName } from './implementations.js';
export {
  TEMPORAL_LAYER_COUNTS,
  TEMPORAL_PATTERNS,
  layerTargetsKbps,
  tsParameters,
} from './temporal-layers.js';
export type { TemporalLayerCount, TemporalPattern } from './temporal-layers.js';
export {
  EncodeFailedError,
  EncoderBusyError,
  EncoderClosedError,
  EncoderUnavailableError,
  InvalidEncoderSettingsError,
  InvalidFrameError,
} from './errors.js';
export type { EncoderAttempt } from './errors.js';
