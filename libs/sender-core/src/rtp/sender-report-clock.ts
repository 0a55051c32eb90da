import type { RTCRtpSender } from 'werift';
import { RTP_VIDEO_CLOCK_RATE_HZ } from '@robocam/types';
import { wallMsToNtp } from './abs-capture-time.js';

/** werift's RTCRtpSender fields its sender reports are made of (private in its typings). */
interface SenderReportFields {
  ntpTimestamp: bigint;
  rtpTimestamp: number;
}

/**
 * Makes an RTCRtpSender's RTCP sender reports map NTP ↔ RTP from the frames' capture times.
 *
 * werift's SR pairs the wall-clock time a packet was *sent* with that packet's RTP timestamp,
 * which robocam derives from the frame's *capture* time: every SR claims the frame was captured
 * as late as it was sent (encode time and pacer queue later, 5–50 ms here, up to seconds on a
 * congested link), and the SR goes out 0.5–1.5 s after that packet with its stale NTP time. A
 * receiver estimating the sender's clock (Chromium's `captureTime`) is then off by both.
 *
 * Here the two fields werift reads become accessors: when the SR is built, NTP is "now" on the
 * capture wall clock and RTP is the last frame's timestamp advanced by the monotonic time since
 * its capture — one instant on both clocks, as RFC 3550 §6.4.1 defines the pair. werift's own
 * writes (per packet) are ignored once a frame was seen.
 */
export class SenderReportClock {
  /** The last frame: RTP timestamp, capture time on the wall clock and on the monotonic clock. */
  #frame: { rtpTimestamp: number; wallMs: number; monotonicMs: number } | undefined;
  /** One instant per SR: werift reads the NTP time twice (the report, then its LSR record). */
  #instant: { atMs: number; ntp: bigint; rtp: number } | undefined;

  constructor(rtpSender: RTCRtpSender) {
    const fields = rtpSender as unknown as SenderReportFields;
    let ntpWritten = fields.ntpTimestamp;
    let rtpWritten = fields.rtpTimestamp;
    Object.defineProperty(rtpSender, 'ntpTimestamp', {
      configurable: true,
      enumerable: true,
      get: () => this.#now()?.ntp ?? ntpWritten,
      set: (value: bigint) => {
        ntpWritten = value;
      },
    });
    Object.defineProperty(rtpSender, 'rtpTimestamp', {
      configurable: true,
      enumerable: true,
      get: () => this.#now()?.rtp ?? rtpWritten,
      set: (value: number) => {
        rtpWritten = value;
      },
    });
  }

  /** A frame went out with this RTP timestamp, captured at these times. */
  onFrame(rtpTimestamp: number, wallMs: number, monotonicMs: number): void {
    const last = this.#frame;
    // Retransmissions and padding carry older or equal timestamps: the newest capture wins.
    if (last !== undefined && monotonicMs <= last.monotonicMs) return;
    this.#frame = { rtpTimestamp, wallMs, monotonicMs };
  }

  #now(): { ntp: bigint; rtp: number } | undefined {
    const frame = this.#frame;
    if (frame === undefined) return undefined;
    const nowMs = performance.now();
    if (this.#instant !== undefined && nowMs - this.#instant.atMs < 1) return this.#instant;
    const sinceCaptureMs = nowMs - frame.monotonicMs;
    const ticks = Math.round(sinceCaptureMs * (RTP_VIDEO_CLOCK_RATE_HZ / 1000));
    this.#instant = {
      atMs: nowMs,
      ntp: wallMsToNtp(frame.wallMs + sinceCaptureMs),
      rtp: (frame.rtpTimestamp + ticks) >>> 0,
    };
    return this.#instant;
  }
}
