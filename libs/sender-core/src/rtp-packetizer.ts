import { H264Packetizer, RtpHeader, RtpPacket } from 'werift';
import { RTP_VIDEO_CLOCK_RATE_HZ, type VideoCodec } from '@robocam/types';
import type { EncodedFrame } from './encoder/index.js';
import { Vp8LayerNumbering, packetizeVp8, type Vp8LayerInfo } from './rtp/vp8-payload.js';

/** Placeholder payload type: each viewer's RTCRtpSender writes the negotiated one. */
const PLACEHOLDER_PAYLOAD_TYPE = 96;

/**
 * One encoded frame as RTP, made once per camera and shared by every viewer: the packets must not
 * be modified (a viewer's copy gets its own sequence numbers, and for VP8 its own picture id).
 */
export interface PacketizedFrame {
  /** In order; the last one has the marker bit. Sequence numbers are placeholders. */
  readonly packets: readonly RtpPacket[];
  readonly keyframe: boolean;
  /** Temporal layer (0 = base; always 0 for H.264). */
  readonly temporalLayer: number;
  /** The frame references only the base layer: a viewer may move up to its layer here. */
  readonly layerSync: boolean;
  /** The VP8 layer fields written into every packet's payload descriptor; undefined for H.264. */
  readonly vp8: Vp8LayerInfo | undefined;
  /** Capture time of the source frame, ms on `performance.now()`'s clock. */
  readonly monotonicMs: number;
  /** Capture time of the source frame on the wall clock, ms since the Unix epoch (abs-capture-time, SRs). */
  readonly timestampMs: number;
}

/**
 * Turns encoded frames into RTP packets, once per frame for all viewers of a camera. VP8 gets
 * robocam's own payload descriptor with the layer fields (15-bit PictureID, TL0PICIDX, TID, Y):
 * werift's `Vp8Packetizer` writes none of them, and without them a viewer cannot be sent fewer
 * temporal layers than the encoder makes. H.264 uses werift's packetizer (STAP-A/FU-A). Payload
 * type and SSRC are placeholders; each viewer's RTCRtpSender rewrites them to what its peer
 * connection negotiated.
 */
export class RtpPacketizer {
  readonly #maxPayloadSize: number;
  readonly #h264: H264Packetizer | undefined;
  readonly #vp8Numbering = new Vp8LayerNumbering();
  #sequence = Math.floor(Math.random() * 0x1_0000);
  #lastMonotonicMs = Number.NEGATIVE_INFINITY;
  #lastRtpTimestamp = 0;
  readonly #rtpTimestampBase = Math.floor(Math.random() * 0x1_0000_0000);
  #firstMonotonicMs: number | undefined;

  constructor(codec: VideoCodec, maxPayloadSize = 1200) {
    this.#maxPayloadSize = maxPayloadSize;
    this.#h264 = codec === 'h264' ? new H264Packetizer({ maxPayloadSize, inputFormat: 'annexb' }) : undefined;
  }

  packetize(frame: EncodedFrame): PacketizedFrame {
    const timestamp = this.#rtpTimestamp(frame.monotonicMs);
    const common = {
      keyframe: frame.keyframe,
      monotonicMs: frame.monotonicMs,
      timestampMs: frame.timestampMs,
    };
    if (this.#h264 !== undefined) {
      const packets = this.#h264.packetize(frame.data, timestamp);
      return { ...common, packets, temporalLayer: 0, layerSync: frame.keyframe, vp8: undefined };
    }
    const vp8 = this.#vp8Numbering.next(frame.temporalLayer, frame.layerSync || frame.keyframe);
    const payloads = packetizeVp8(frame.data, vp8, this.#maxPayloadSize);
    const packets = payloads.map((payload, index) => {
      const header = new RtpHeader({
        payloadType: PLACEHOLDER_PAYLOAD_TYPE,
        sequenceNumber: this.#sequence,
        timestamp,
        marker: index === payloads.length - 1,
      });
      this.#sequence = (this.#sequence + 1) & 0xffff;
      return new RtpPacket(header, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
    });
    return {
      ...common,
      packets,
      temporalLayer: frame.temporalLayer,
      layerSync: frame.layerSync || frame.keyframe,
      vp8,
    };
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
