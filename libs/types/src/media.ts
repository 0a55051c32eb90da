/** Video codecs robocam encodes; both are mandatory to implement in WebRTC browsers. */
export type VideoCodec = 'vp8' | 'h264';

/** Every {@link VideoCodec}, in order of preference when nothing else decides. */
export const VIDEO_CODECS: readonly VideoCodec[] = ['vp8', 'h264'];

/** The RTP clock rate of every video payload format robocam sends (RFC 7741, RFC 6184), in Hz. */
export const RTP_VIDEO_CLOCK_RATE_HZ = 90_000;

/**
 * How a camera is doing: `idle` not started (nobody watching), `live` delivering frames, `lost`
 * its device is gone or silent and it is trying to recover.
 */
export type CameraStatus = 'idle' | 'live' | 'lost';

/** Every {@link CameraStatus}. */
export const CAMERA_STATUSES: readonly CameraStatus[] = ['idle', 'live', 'lost'];
