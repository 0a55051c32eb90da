import { H264Packetizer, Vp8Packetizer, type RtpPacket } from 'werift';
import { RTP_VIDEO_CLOCK_RATE_HZ, type VideoCodec } from '@robocam/types';
import type { EncodedFrame } from './encoder/index.js';

/**
 * Turns encoded frames into RTP packets, once per frame for all viewers of a camera: werift's
 * packetizers write correct VP8 payload descriptors (picture id) and H.264 STAP-A/FU-A with the
 * marker bit on each frame's last packet. Payload type and SSRC are placeholders here; each
 * viewer's RTCRtpSender rewrites them to what that peer connection negotiated.
 */
export class RtpPacketizer {
  readonly #packetizer: Vp8Packetizer | H264Packetizer;
  #lastMonotonicMs = Number.NEGATIVE_INFINITY;
  #lastRtpTimestamp = 0;
  readonly #rtpTimestampBase = Math.floor(Math.random() * 0x1_0000_0000);
  #firstMonotonicMs: number | undefined;

  constructor(codec: VideoCodec, maxPayloadSize = 1200) {
    this.#packetizer =
      codec === 'vp8'
        ? new Vp8Packetizer({ maxPayloadSize })
        : new H264Packetizer({ maxPayloadSize, inputFormat: 'annexb' });
  }

  packetize(frame: EncodedFrame): RtpPacket[] {
    return this.#packetizer.packetize(frame.data, this.#rtpTimestamp(frame.monotonicMs));
  }

  /**
   * 90 kHz timestamps from the monotonic capture time (`monotonicMs`), never from the wall clock:
   * an NTP step (boards without an RTC sync minutes after boot) would make them jump or crawl.
   * They never decrease either (two frames with one capture time get consecutive ticks), or the
   * receiver's jitter buffer would misorder frames.
   */
  #rtpTimestamp(monotonicMs: number): number {
    this.#firstMonotonicMs ??= monotonicMs;
    if (monotonicMs <= this.#lastMonotonicMs) {
      this.#lastRtpTimestamp = (this.#lastRtpTimestamp + 1) >>> 0;
      return this.#lastRtpTimestamp;
    }
    this.#lastMonotonicMs = monotonicMs;
    const ticks = Math.round((monotonicMs - this.#firstMonotonicMs) * (RTP_VIDEO_CLOCK_RATE_HZ / 1000));
    this.#lastRtpTimestamp = (this.#rtpTimestampBase + ticks) % 0x1_0000_0000;
    return this.#lastRtpTimestamp;
  }
}
