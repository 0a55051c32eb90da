/**
 * Bandwidth probing: how the estimate climbs back fast once a squeeze is over. The delay-based
 * estimate can only grow by 8 % a second (and never beyond 1.5× what got through), and a camera
 * sender is always application-limited: the encoder makes what the estimate allows, so the link
 * never shows it could carry more. Measured on the simulated bottleneck: after 400 kbit/s were
 * released, the estimate took 20 s to reach 1.9 Mbit/s. libwebrtc solves this by probing: a short
 * cluster of padding packets at a higher rate, whose arrival spread at the receiver (from the
 * same transport-wide feedback) shows what the link carries. This file decides when to probe and
 * turns a cluster's feedback into a rate (libwebrtc's `ProbeController` and
 * `ProbeBitrateEstimator`, simplified for one video stream per link).
 */

/** A probe to send: `bytes` of padding spread evenly over `durationMs` (i.e. at `rateBps`). */
export interface ProbeCluster {
  readonly id: number;
  readonly rateBps: number;
  readonly durationMs: number;
  /** Packets to send and the size of each (bytes of padding). */
  readonly packets: number;
  readonly packetBytes: number;
}

/**
 * A cluster's packets are spread over this long. Shorter spans measure the pacer's timer and the
 * bottleneck's token bucket rather than its rate: with 30 ms clusters behind `tbf rate 1mbit burst
 * 16kbit`, the 2 kB the bucket lets through at once made probes read 1.24 Mbit/s.
 */
const PROBE_DURATION_MS = 80;
const MIN_PROBE_PACKETS = 5;
/** An RTP padding length is one byte: a padding-only packet carries at most 255 bytes. */
const MAX_PADDING_BYTES = 255;
/** Probe at this multiple of the current estimate (libwebrtc's further-probe factor is 2). */
const PROBE_FACTOR = 2;
/** The result of a probe that got through at less than this share of its sending rate means the link is full. */
const SATURATED_RATIO = 0.9;
/** A probe result of a saturated link is taken at this share (what a queue-free link sustains). */
const SATURATED_UTILIZATION = 0.95;
/** Waits between probes after a probe showed no room, doubling up to the maximum: the maximum
 * bounds how long a released link goes unnoticed (a failed probe costs 30 ms at 2× the estimate). */
const FAILED_PROBE_BACKOFF_MS = { initial: 1_000, max: 4_000 };
/** A successful probe is followed by the next one this soon (exponential probing). */
const SUCCESSFUL_PROBE_INTERVAL_MS = 500;
/** No probe within this long of an overuse: the queue may still be draining. */
const QUIET_AFTER_OVERUSE_MS = 1_500;

/** What {@link ProbeController.next} needs to know of the estimator now. */
export interface ProbeConditions {
  readonly nowMs: number;
  readonly targetBps: number;
  readonly maxBps: number;
  readonly lossFraction: number;
  /** When the detector last reported overuse (ms), undefined if never. */
  readonly lastOveruseMs: number | undefined;
}

/** Decides when to probe and at what rate. */
export class ProbeController {
  #nextId = 1;
  #earliestNextMs = 0;
  #backoffMs = FAILED_PROBE_BACKOFF_MS.initial;
  /** The cluster in flight (its result not known yet). */
  #pending: { id: number; rateBps: number; sentAtMs: number } | undefined;

  /** A cluster to send now, or undefined. */
  next(conditions: ProbeConditions): ProbeCluster | undefined {
    const { nowMs, targetBps, maxBps } = conditions;
    if (this.#pending !== undefined) {
      // A result that never comes (feedback lost) must not stop probing for good.
      if (nowMs - this.#pending.sentAtMs < 2_000) return undefined;
      this.#pending = undefined;
    }
    if (nowMs < this.#earliestNextMs) return undefined;
    if (targetBps >= maxBps * 0.95) return undefined;
    if (conditions.lossFraction > 0.02) return undefined;
    if (conditions.lastOveruseMs !== undefined && nowMs - conditions.lastOveruseMs < QUIET_AFTER_OVERUSE_MS)
      return undefined;
    const rateBps = Math.min(maxBps, targetBps * PROBE_FACTOR);
    const bytes = (rateBps * PROBE_DURATION_MS) / 8 / 1000;
    const packets = Math.max(MIN_PROBE_PACKETS, Math.ceil(bytes / MAX_PADDING_BYTES));
    const packetBytes = Math.max(50, Math.min(MAX_PADDING_BYTES, Math.round(bytes / packets)));
    const id = this.#nextId++;
    this.#pending = { id, rateBps, sentAtMs: nowMs };
    return { id, rateBps, durationMs: PROBE_DURATION_MS, packets, packetBytes };
  }

  /** The measured result of cluster `id` (undefined: too few packets arrived to tell). */
  onResult(id: number, resultBps: number | undefined, nowMs: number): void {
    const pending = this.#pending;
    if (pending?.id !== id) return;
    this.#pending = undefined;
    if (resultBps !== undefined && resultBps >= pending.rateBps * 0.8) {
      this.#backoffMs = FAILED_PROBE_BACKOFF_MS.initial;
      this.#earliestNextMs = nowMs + SUCCESSFUL_PROBE_INTERVAL_MS;
    } else {
      this.#earliestNextMs = nowMs + this.#backoffMs;
      this.#backoffMs = Math.min(this.#backoffMs * 2, FAILED_PROBE_BACKOFF_MS.max);
    }
  }
}

interface ClusterTally {
  announcedMs: number;
  /** Packets the cluster has; until all are reported (or it is pruned) it is not finished. */
  expected: number;
  sent: number;
  sentBytes: number;
  reported: number;
  received: number;
  bytes: number;
  firstSendMs: number;
  lastSendMs: number;
  lastSendBytes: number;
  firstArrivalMs: number;
  lastArrivalMs: number;
  firstArrivalBytes: number;
}

/** Turns the feedback of a probe cluster's packets into the rate the link carried. */
export class ProbeRateMeter {
  readonly #clusters = new Map<number, ClusterTally>();

  /**
   * Announces a cluster of `packets` packets. Its result is taken once every one of them has been
   * reported: the pacer spreads a cluster over 80 ms and feedback comes every ~65 ms, so a cluster
   * judged on its first feedback would be judged on a part of it (and twice).
   */
  expect(clusterId: number, packets: number, nowMs: number): void {
    this.#clusters.set(clusterId, {
      announcedMs: nowMs,
      expected: packets,
      sent: 0,
      sentBytes: 0,
      reported: 0,
      received: 0,
      bytes: 0,
      firstSendMs: Infinity,
      lastSendMs: -Infinity,
      lastSendBytes: 0,
      firstArrivalMs: Infinity,
      lastArrivalMs: -Infinity,
      firstArrivalBytes: 0,
    });
  }

  /** Records a probe packet as it leaves. */
  sent(clusterId: number, sizeBytes: number, sentAtMs: number): void {
    const tally = this.#clusters.get(clusterId);
    if (tally === undefined) return;
    tally.sent += 1;
    tally.sentBytes += sizeBytes;
    tally.firstSendMs = Math.min(tally.firstSendMs, sentAtMs);
    if (sentAtMs >= tally.lastSendMs) {
      tally.lastSendMs = sentAtMs;
      tally.lastSendBytes = sizeBytes;
    }
  }

  /** One probe packet's feedback: arrival time (ms, receiver clock) or undefined if lost. */
  reported(clusterId: number, sizeBytes: number, arrivalMs: number | undefined): void {
    const tally = this.#clusters.get(clusterId);
    if (tally === undefined) return;
    tally.reported += 1;
    if (arrivalMs === undefined) return;
    tally.received += 1;
    tally.bytes += sizeBytes;
    if (arrivalMs < tally.firstArrivalMs) {
      tally.firstArrivalMs = arrivalMs;
      tally.firstArrivalBytes = sizeBytes;
    }
    tally.lastArrivalMs = Math.max(tally.lastArrivalMs, arrivalMs);
  }

  /**
   * Clusters whose every packet has been reported, with their result in bps: the lower of the
   * sending and the receiving rate, or 95 % of the receiving rate when it fell clearly short of
   * the sending rate (the probe filled the link). Undefined result: too few packets arrived.
   */
  takeFinished(): { id: number; resultBps: number | undefined }[] {
    const finished: { id: number; resultBps: number | undefined }[] = [];
    for (const [id, tally] of this.#clusters) {
      if (tally.reported < tally.expected) continue;
      this.#clusters.delete(id);
      finished.push({ id, resultBps: clusterRate(tally) });
    }
    return finished;
  }

  /**
   * Forgets clusters announced more than `maxAgeMs` ago whose feedback never completed (feedback
   * lost, or the pacer dropped their padding to keep its queue short).
   */
  prune(nowMs: number, maxAgeMs = 2_000): void {
    for (const [id, tally] of this.#clusters)
      if (nowMs - tally.lastSendMs > maxAgeMs) this.#clusters.delete(id);
  }
}

function clusterRate(tally: ClusterTally): number | undefined {
  if (tally.received < Math.max(MIN_PROBE_PACKETS - 1, tally.sent * 0.8)) return undefined;
  const sendSpanMs = tally.lastSendMs - tally.firstSendMs;
  const receiveSpanMs = tally.lastArrivalMs - tally.firstArrivalMs;
  if (sendSpanMs <= 0 || receiveSpanMs <= 0) return undefined;
  // The last packet's bytes leave at the end of the send span, the first one's arrive at the
  // start of the receive span: neither belongs to the interval measured.
  const sendBps = ((tally.sentBytes - tally.lastSendBytes) * 8 * 1000) / sendSpanMs;
  const receiveBps = ((tally.bytes - tally.firstArrivalBytes) * 8 * 1000) / receiveSpanMs;
  if (receiveBps < SATURATED_RATIO * sendBps) return receiveBps * SATURATED_UTILIZATION;
  return Math.min(sendBps, receiveBps);
}
