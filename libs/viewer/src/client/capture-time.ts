/**
 * The capture time of remote frames, from the abs-capture-time RTP header extension the sender
 * writes (see @robocam/sender's `rtp/abs-capture-time.ts`): glass-to-glass latency for any camera,
 * not only the test pattern with its timecode strip.
 */

/** The extension's URI. */
export const ABS_CAPTURE_TIME_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time';

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970), in ms. */
const NTP_UNIX_OFFSET_MS = 2_208_988_800_000;
/** 90 kHz: the RTP clock of video. */
const RTP_TICKS_PER_MS = 90;

/** RTCRtpTransceiver's header extension control (Chromium 117+; not yet in TypeScript's DOM types). */
interface HeaderExtensionControl {
  getHeaderExtensionsToNegotiate(): { uri: string; direction: RTCRtpTransceiverDirection }[];
  setHeaderExtensionsToNegotiate(extensions: { uri: string; direction: RTCRtpTransceiverDirection }[]): void;
}

/**
 * Offers abs-capture-time on `transceiver`: Chromium knows it but leaves it out of its offers
 * unless asked (header extension control). A browser without that API, or one that does not
 * know the extension, offers what it always does.
 */
export function negotiateCaptureTime(transceiver: RTCRtpTransceiver): void {
  const control = transceiver as unknown as Partial<HeaderExtensionControl>;
  if (typeof control.getHeaderExtensionsToNegotiate !== 'function') return;
  try {
    const extensions = control.getHeaderExtensionsToNegotiate();
    if (!extensions.some((extension) => extension.uri === ABS_CAPTURE_TIME_URI)) return;
    control.setHeaderExtensionsToNegotiate?.(
      extensions.map((extension) =>
        extension.uri === ABS_CAPTURE_TIME_URI && extension.direction === 'stopped'
          ? { ...extension, direction: 'recvonly' }
          : extension,
      ),
    );
  } catch {
    // An implementation that refuses the change: the offer stays as it was.
  }
}

/** What Chromium adds to a synchronization source when the extension is negotiated. */
interface CaptureTimestamped {
  rtpTimestamp: number;
  /** The extension's capture time, ms on the NTP timeline of the capturer's clock. */
  captureTimestamp?: number;
}

/**
 * The capture time of the frame with RTP timestamp `rtpTimestamp`, on the sender's wall clock (ms
 * since the Unix epoch), from the latest frame whose abs-capture-time the receiver saw; undefined
 * when it saw none. The sender derives RTP timestamps from capture times, so a frame's capture
 * time is the latest one's moved by their RTP distance (the frame shown is usually a little older
 * than the latest received).
 */
export function frameCaptureWallMs(receiver: RTCRtpReceiver, rtpTimestamp: number): number | undefined {
  const sources: readonly (RTCRtpSynchronizationSource & CaptureTimestamped)[] =
    receiver.getSynchronizationSources();
  const latest = sources[0];
  if (latest?.captureTimestamp === undefined) return undefined;
  const distance = rtpDistance(rtpTimestamp, latest.rtpTimestamp);
  return latest.captureTimestamp - NTP_UNIX_OFFSET_MS + distance / RTP_TICKS_PER_MS;
}

/** `a - b` for 32-bit RTP timestamps, across the wrap. */
function rtpDistance(a: number, b: number): number {
  const difference = (a - b) >>> 0;
  return difference >= 0x8000_0000 ? difference - 0x1_0000_0000 : difference;
}
