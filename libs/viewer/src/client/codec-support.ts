import type { VideoCodec } from '@robocam/protocol';

const CODEC_NAMES: Record<VideoCodec, string> = { vp8: 'VP8', h264: 'H.264' };

/** Whether this browser can receive `codec` (undefined when it cannot tell). */
export function browserReceives(codec: VideoCodec): boolean | undefined {
  if (typeof RTCRtpReceiver === 'undefined' || typeof RTCRtpReceiver.getCapabilities !== 'function')
    return undefined;
  const capabilities = RTCRtpReceiver.getCapabilities('video');
  if (capabilities === null) return undefined;
  const mimeType = `video/${codec}`;
  return capabilities.codecs.some((candidate) => candidate.mimeType.toLowerCase() === mimeType);
}

/**
 * What a tile says when the sender refused a session for want of a common codec (`bye`
 * `no-common-codec`): when this browser lacks the camera's codec — Firefox without its OpenH264
 * plugin facing an H.264 camera — the reason and the way out, else the sender's own `reason`.
 */
export function noCommonCodecMessage(codec: VideoCodec | undefined, reason: string): string {
  if (codec === undefined || browserReceives(codec) !== false) return reason;
  const name = CODEC_NAMES[codec];
  return codec === 'h264'
    ? `this browser cannot play ${name}, the codec this camera sends: open the page in a browser that plays ${name} (e.g. Chromium), or run the sender with CODEC=vp8 (every browser plays VP8)`
    : `this browser cannot play ${name}, the codec this camera sends`;
}
