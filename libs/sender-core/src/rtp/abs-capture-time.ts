import { RTCRtpHeaderExtensionParameters } from 'werift';

/**
 * The absolute capture time RTP header extension: the frame's capture time on the capturer's
 * clock, as NTP. A receiver gets glass-to-glass latency from it for any source, not only the test
 * pattern's timecode strip. https://webrtc.googlesource.com/src/+/refs/heads/main/docs/native-code/rtp-hdrext/abs-capture-time
 */
export const ABS_CAPTURE_TIME_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time';

/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch. */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

/** The extension, for werift's `headerExtensions` (negotiated only if the viewer offers it). */
export function absCaptureTimeExtension(): RTCRtpHeaderExtensionParameters {
  return new RTCRtpHeaderExtensionParameters({ uri: ABS_CAPTURE_TIME_URI });
}

/** A wall-clock time (ms since the Unix epoch) as a 64-bit NTP timestamp (UQ32.32 seconds). */
export function wallMsToNtp(wallMs: number): bigint {
  const seconds = Math.floor(wallMs / 1000);
  const fraction = Math.round(((wallMs - seconds * 1000) / 1000) * 2 ** 32);
  // A fraction rounded up to 2^32 carries into the seconds.
  return (BigInt(seconds + NTP_UNIX_OFFSET_S) << 32n) + BigInt(fraction);
}

/**
 * The extension's 8-byte form (no estimated capture clock offset: robocam's sender is the
 * capturer): the capture time as NTP, network order.
 */
export function absCaptureTimePayload(wallMs: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeBigUInt64BE(wallMsToNtp(wallMs) & 0xffff_ffff_ffff_ffffn);
  return payload;
}
