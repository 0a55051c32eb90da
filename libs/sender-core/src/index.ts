/**
 * @robocam/sender — the embeddable robocam sender: video sources → one encoder per camera →
 * RTP packetized once → fanned out to every viewer's werift peer connection.
 *
 * The public surface is what an embedder uses: the {@link Sender}, its settings, events and stats,
 * the camera specs, the {@link VideoSource} contract and the built-in test pattern, and the errors
 * a caller can meet. The stages inside (pipeline, session, encoder, packetizer) are internal.
 */
export { Sender, createSender } from './sender.js';
export type { CameraSpec, SenderEvents, SenderSettings, SenderStats } from './sender.js';
export type { CameraStats, SenderCamera, SenderCameraEvents } from './camera-pipeline.js';
export type { PeerSettings, SenderSession, SessionCloseInfo, ViewerSessionStats } from './viewer-session.js';
export type {
  ControlCommand,
  ControlCounters,
  ControlLeaseInfo,
  ControlSettings,
  ControlStats,
  ControlStop,
  ViewerEventInfo,
} from './teleop/teleop.js';
export { UdpBridge } from './teleop/udp-bridge.js';
export type { UdpBridgeSettings, UdpBridgeStats } from './teleop/udp-bridge.js';
export type { JsonObject, StopReason } from '@robocam/protocol';
export type {
  PublicationEvents,
  PublicationState,
  PublicationStats,
  SenderPublication,
  WhipPublishOptions,
} from './whip/whip-publication.js';
export { WhipError, type WhipErrorCode } from './whip/whip-client.js';
export { nameCameras, parseCameraList, type NamedCameraSpec } from './camera-list.js';
export type { VideoSource, VideoSourceEvents } from './video-source.js';
export { TestPatternSource } from './test-pattern-source.js';
export type { TestPatternSourceSettings } from './test-pattern-source.js';
export type { EncoderAttempt, EncoderPreference } from './encoder/index.js';
export { EncoderUnavailableError, InvalidEncoderSettingsError } from './encoder/index.js';
export type { KeyframeReason } from './keyframe-policy.js';
export { ConfigurationError } from './errors.js';
export { SenderMetrics } from './metrics.js';
export type { SenderMetricsSettings } from './metrics.js';
export { SenderMonitoring } from './monitoring-http.js';
export type { PrometheusSource, SenderMonitoringSettings } from './monitoring-http.js';
export { CameraSnapshots, CameraUnavailableError } from './snapshot/camera-snapshots.js';
export type { SnapshotOptions } from './snapshot/camera-snapshots.js';
export { setFfmpegLogLevel } from './ffmpeg-log.js';
export { readSenderConfig } from './env-config.js';
export type { SenderEnvConfig } from './env-config.js';
export type { FfmpegLogLevel } from './ffmpeg-log.js';
// The shared vocabulary (@robocam/types) this package's API speaks.
export { InvalidStateError, RobocamError, silentLogger } from '@robocam/types';
export type { CameraStatus, CloseInfo, CloseOrigin, Logger, RawVideoFrame, VideoCodec } from '@robocam/types';
