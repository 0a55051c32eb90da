import { H264Packetizer, Vp8Packetizer, type RtpPacket } from 'werift';
import type { EncodedFrame, VideoCodec } from './encoder.js';

/** RTP video clock rate (RFC 7741 for VP8, RFC 6184 for H.264). */
export const VIDEO_CLOCK_RATE = 90_000;

/**
 * Turns encoded frames into RTP packets, once per frame for all viewers of a camera: werift's
 * packetizers write correct VP8 payload descriptors (picture id) and H.264 STAP-A/FU-A with the
 * marker bit on each frame's last packet. Payload type and SSRC are placeholders here; each
 * viewer's RTCRtpSender rewrites them to what that peer connection negotiated.
 */
export class RtpPacketizer {
  readonly #packetizer: Vp8Packetizer | H264Packetizer;
  #lastTimestampMs = Number.NEGATIVE_INFINITY;
  #lastRtpTimestamp = 0;
  readonly #rtpTimestampBase = Math.floor(Math.random() * 0x1_0000_0000);
  #firstTimestampMs: number | undefined;

  constructor(codec: VideoCodec, maxPayloadSize = 1200) {
    this.#packetizer =
      codec === 'vp8'
        ? new Vp8Packetizer({ maxPayloadSize })
        : new H264Packetizer({ maxPayloadSize, inputFormat: 'annexb' });
  }

  packetize(frame: EncodedFrame): RtpPacket[] {
    return this.#packetizer.packetize(frame.data, this.#rtpTimestamp(frame.timestampMs));
  }

  /**
   * 90 kHz timestamps from capture times. A wall clock can step backwards (NTP); RTP timestamps
   * must not, or the receiver's jitter buffer misorders frames, so they never decrease.
   */
  #rtpTimestamp(timestampMs: number): number {
    this.#firstTimestampMs ??= timestampMs;
    if (timestampMs <= this.#lastTimestampMs) {
      this.#lastRtpTimestamp = (this.#lastRtpTimestamp + 1) >>> 0;
      return this.#lastRtpTimestamp;
    }
    this.#lastTimestampMs = timestampMs;
    const ticks = Math.round((timestampMs - this.#firstTimestampMs) * (VIDEO_CLOCK_RATE / 1000));
    this.#lastRtpTimestamp = (this.#rtpTimestampBase + ticks) % 0x1_0000_0000;
    return this.#lastRtpTimestamp;
  }
}
