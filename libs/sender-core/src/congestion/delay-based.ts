/**
 * The delay-based half of the estimator, in the shape of Google Congestion Control
 * (draft-ietf-rmcat-gcc-02; libwebrtc's `TrendlineEstimator` and `AimdRateControl`): packets are
 * grouped by send time, the growth of one-way delay between groups is smoothed and fitted with a
 * line, and the slope (the "trend") is compared with an adaptive threshold. A growing queue at
 * the bottleneck shows up as a positive trend long before packets are lost.
 */

/** What the overuse detector concludes from the latest trend. */
export type BandwidthUsage = 'normal' | 'overusing' | 'underusing';

/** Packets sent within this span form one group (a frame's packets leave in a burst). */
const GROUP_SPAN_MS = 5;
/** Trendline: smoothing of the accumulated delay, window of points, and gain on the slope. */
const SMOOTHING = 0.9;
const WINDOW_POINTS = 20;
const THRESHOLD_GAIN = 4;
/** The slope counts more as more deltas have been seen, up to this many (libwebrtc's 60). */
const MAX_DELTAS = 60;
/** Adaptive threshold: starting value and bounds (ms of modified trend), adaptation rates. */
const INITIAL_THRESHOLD = 12.5;
const MIN_THRESHOLD = 6;
const MAX_THRESHOLD = 600;
const K_UP = 0.0087;
const K_DOWN = 0.039;
/** Overuse must last this long before it is signalled (ms). */
const OVERUSE_TIME_MS = 10;
/** Burst grouping (libwebrtc's InterArrival): arrivals this close join the group... */
const BURST_DELTA_MS = 5;
/** ...for at most this long. */
const MAX_BURST_DURATION_MS = 100;

interface PacketGroup {
  firstSentAtMs: number;
  firstArrivalMs: number;
  lastSentAtMs: number;
  lastArrivalMs: number;
  sizeBytes: number;
}

/** One received packet as the estimator sees it. */
export interface ReceivedPacket {
  readonly sentAtMs: number;
  /** On the receiver's clock, continuous across feedbacks. */
  readonly arrivalMs: number;
  readonly sizeBytes: number;
}

/**
 * Groups packets by send time and yields, for each completed group, the send and arrival deltas to
 * the previous completed group.
 */
export class InterArrival {
  #current: PacketGroup | undefined;
  #previous: PacketGroup | undefined;

  /** Feeds one packet (in send order); returns the deltas when it completes a group. */
  add(
    packet: ReceivedPacket,
  ): { sendDeltaMs: number; arrivalDeltaMs: number; arrivalMs: number } | undefined {
    const current = this.#current;
    if (current === undefined) {
      this.#current = group(packet);
      return undefined;
    }
    if (packet.sentAtMs < current.firstSentAtMs) return undefined; // reordered from an old group
    if (packet.sentAtMs - current.firstSentAtMs <= GROUP_SPAN_MS || belongsToBurst(current, packet)) {
      current.lastSentAtMs = Math.max(current.lastSentAtMs, packet.sentAtMs);
      current.lastArrivalMs = Math.max(current.lastArrivalMs, packet.arrivalMs);
      current.sizeBytes += packet.sizeBytes;
      return undefined;
    }
    const previous = this.#previous;
    this.#previous = current;
    this.#current = group(packet);
    if (previous === undefined) return undefined;
    return {
      sendDeltaMs: current.lastSentAtMs - previous.lastSentAtMs,
      arrivalDeltaMs: current.lastArrivalMs - previous.lastArrivalMs,
      arrivalMs: current.lastArrivalMs,
    };
  }
}

/**
 * libwebrtc's burst rule: a packet that arrived within 5 ms of the group's last one and sooner
 * than its send spacing would predict (the path delivered a queued burst, e.g. a paced keyframe
 * leaving a Wi-Fi aggregation or a tbf bucket) joins the group instead of starting a new one, for
 * at most 100 ms. Without it such bursts read as a falling-then-rising delay and trigger overuse.
 */
function belongsToBurst(current: PacketGroup, packet: ReceivedPacket): boolean {
  const arrivalDeltaMs = packet.arrivalMs - current.lastArrivalMs;
  const sendDeltaMs = packet.sentAtMs - current.lastSentAtMs;
  if (sendDeltaMs === 0) return true;
  return (
    arrivalDeltaMs - sendDeltaMs < 0 &&
    arrivalDeltaMs <= BURST_DELTA_MS &&
    packet.arrivalMs - current.firstArrivalMs < MAX_BURST_DURATION_MS
  );
}

function group(packet: ReceivedPacket): PacketGroup {
  return {
    firstSentAtMs: packet.sentAtMs,
    firstArrivalMs: packet.arrivalMs,
    lastSentAtMs: packet.sentAtMs,
    lastArrivalMs: packet.arrivalMs,
    sizeBytes: packet.sizeBytes,
  };
}

/** Trendline filter and overuse detector with adaptive threshold. */
export class TrendlineDetector {
  #accumulatedDelayMs = 0;
  #smoothedDelayMs = 0;
  #firstArrivalMs: number | undefined;
  #points: { x: number; y: number }[] = [];
  #deltas = 0;
  #threshold = INITIAL_THRESHOLD;
  #lastThresholdUpdateMs: number | undefined;
  #timeOverUsingMs = -1;
  #overuseCount = 0;
  #previousTrend = 0;
  #usage: BandwidthUsage = 'normal';
  /** Latest modified trend (for stats). */
  trend = 0;

  get usage(): BandwidthUsage {
    return this.#usage;
  }

  get threshold(): number {
    return this.#threshold;
  }

  /** Feeds one group delta; returns the detector's state after it. */
  update(sendDeltaMs: number, arrivalDeltaMs: number, arrivalMs: number): BandwidthUsage {
    this.#deltas = Math.min(this.#deltas + 1, 1000);
    this.#accumulatedDelayMs += arrivalDeltaMs - sendDeltaMs;
    this.#smoothedDelayMs = SMOOTHING * this.#smoothedDelayMs + (1 - SMOOTHING) * this.#accumulatedDelayMs;
    this.#firstArrivalMs ??= arrivalMs;
    this.#points.push({ x: arrivalMs - this.#firstArrivalMs, y: this.#smoothedDelayMs });
    if (this.#points.length > WINDOW_POINTS) this.#points.shift();
    if (this.#points.length === WINDOW_POINTS) {
      const slope = linearSlope(this.#points);
      if (slope !== undefined) this.#detect(slope, sendDeltaMs, arrivalMs);
    }
    return this.#usage;
  }

  #detect(slope: number, sendDeltaMs: number, nowMs: number): void {
    const modified = Math.min(this.#deltas, MAX_DELTAS) * slope * THRESHOLD_GAIN;
    this.trend = modified;
    if (modified > this.#threshold) {
      this.#timeOverUsingMs =
        this.#timeOverUsingMs === -1 ? sendDeltaMs / 2 : this.#timeOverUsingMs + sendDeltaMs;
      this.#overuseCount += 1;
      if (
        this.#timeOverUsingMs > OVERUSE_TIME_MS &&
        this.#overuseCount > 1 &&
        modified >= this.#previousTrend
      ) {
        this.#timeOverUsingMs = 0;
        this.#overuseCount = 0;
        this.#usage = 'overusing';
      }
    } else if (modified < -this.#threshold) {
      this.#timeOverUsingMs = -1;
      this.#overuseCount = 0;
      this.#usage = 'underusing';
    } else {
      this.#timeOverUsingMs = -1;
      this.#overuseCount = 0;
      this.#usage = 'normal';
    }
    this.#previousTrend = modified;
    this.#adaptThreshold(modified, nowMs);
  }

  #adaptThreshold(modified: number, nowMs: number): void {
    const last = this.#lastThresholdUpdateMs ?? nowMs;
    this.#lastThresholdUpdateMs = nowMs;
    // A spike far above the threshold (e.g. a route change) must not drag the threshold up.
    if (Math.abs(modified) > this.#threshold + 15) return;
    const k = Math.abs(modified) < this.#threshold ? K_DOWN : K_UP;
    const dtMs = Math.min(nowMs - last, 100);
    this.#threshold += k * (Math.abs(modified) - this.#threshold) * dtMs;
    this.#threshold = Math.min(MAX_THRESHOLD, Math.max(MIN_THRESHOLD, this.#threshold));
  }
}

function linearSlope(points: readonly { x: number; y: number }[]): number | undefined {
  let sumX = 0;
  let sumY = 0;
  for (const p of points) {
    sumX += p.x;
    sumY += p.y;
  }
  const meanX = sumX / points.length;
  const meanY = sumY / points.length;
  let numerator = 0;
  let denominator = 0;
  for (const p of points) {
    numerator += (p.x - meanX) * (p.y - meanY);
    denominator += (p.x - meanX) ** 2;
  }
  return denominator === 0 ? undefined : numerator / denominator;
}
