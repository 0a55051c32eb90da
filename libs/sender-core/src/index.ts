/**
 * @robocam/sender — the embeddable robocam sender: video sources → one encoder per camera →
 * RTP packetized once → fanned out to every viewer's werift peer connection.
 */
export { Sender, createSender } from './sender.js';
export type { CameraSpec, SenderEvents, SenderSettings, SenderStats } from './sender.js';
export { nameCameras, parseCameraList, type NamedCameraSpec } from './camera-list.js';
export { CameraPipeline } from './camera-pipeline.js';
export type {
  CameraPipelineEvents,
  CameraPipelineSettings,
  CameraStats,
  RtpSink,
} from './camera-pipeline.js';
export { ViewerSession } from './viewer-session.js';
export type { PeerSettings, ViewerSessionEvents, ViewerSessionStats } from './viewer-session.js';
export { TestPatternSource } from './test-pattern-source.js';
export type { TestPatternSourceSettings } from './test-pattern-source.js';
export type { RawVideoFrame, SourceStatus, VideoSource, VideoSourceEvents } from './video-source.js';
export { VideoEncoder, defaultBitrateKbps, MIN_BITRATE_KBPS, MAX_BITRATE_KBPS } from './encoder/index.js';
export type {
  EncodedFrame,
  EncoderAttempt,
  EncoderPreference,
  KeyframeCause,
  VideoEncoderSettings,
  VideoEncoderStats,
} from './encoder/index.js';
export type { VideoCodec } from '@robocam/types';
export {
  EncodeFailedError,
  EncoderBusyError,
  EncoderClosedError,
  EncoderUnavailableError,
  InvalidEncoderSettingsError,
  InvalidFrameError,
} from './encoder/index.js';
export { KeyframePolicy, KEYFRAME_REASONS } from './keyframe-policy.js';
export type { KeyframePolicySettings, KeyframeReason, KeyframeRequest } from './keyframe-policy.js';
export { RtpPacketizer } from './rtp-packetizer.js';
export { SenderError, InvalidStateError, ConfigurationError } from './errors.js';
export type { Logger } from './logger.js';
export { setFfmpegLogLevel } from './ffmpeg-log.js';
export type { FfmpegLogLevel } from './ffmpeg-log.js';
