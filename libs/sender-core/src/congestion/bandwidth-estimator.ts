/**
 * Per-viewer send-side bandwidth estimation from transport-wide feedback: record what was sent
 * ({@link BandwidthEstimator.onPacketSent}), feed each feedback packet
 * ({@link BandwidthEstimator.onTransportFeedback}) and read {@link BandwidthEstimator.targetBps}:
 * the lower of the delay-based estimate (trendline + AIMD) and the loss-based bound.
 */
import { InterArrival, TrendlineDetector, type BandwidthUsage } from './delay-based.js';
import { LossBasedControl } from './loss-based.js';
import { ProbeController, ProbeRateMeter, type ProbeCluster } from './probing.js';
import { AckedBitrate, AimdRateControl, clamp } from './rate-control.js';
import { SentPacketHistory } from './sent-packets.js';
import { ReferenceTimeUnwrapper, SequenceUnwrapper, type TransportFeedback } from './transport-feedback.js';

/** Settings of a {@link BandwidthEstimator}. */
export interface BandwidthEstimatorSettings {
  /** Estimate before any feedback, bps. */
  startBps: number;
  /** Floor, bps. Default 100 000 (below that a 720p VP8 stream is unwatchable anyway). */
  minBps?: number;
  /** Ceiling, bps. Default 2 × startBps. */
  maxBps?: number;
}

/** What the estimator knows now, for stats and logs. */
export interface BandwidthEstimate {
  /** The rate to send at: min(delay-based, loss-based), bps. */
  readonly targetBps: number;
  readonly delayBasedBps: number;
  readonly lossBasedBps: number;
  /** Throughput the receiver saw over the last ~0.5 s, bps; undefined before enough feedback. */
  readonly ackedBps: number | undefined;
  /** Fraction of packets lost in the last judged window (0..1). */
  readonly lossFraction: number;
  readonly usage: BandwidthUsage;
  /** The detector's modified trend and threshold (ms-scaled), for diagnosis. */
  readonly trend: number;
  readonly threshold: number;
  /** Packets awaiting feedback. */
  readonly packetsInFlight: number;
}

export class BandwidthEstimator {
  readonly #sent = new SentPacketHistory();
  readonly #sequences = new SequenceUnwrapper();
  readonly #referenceTimes = new ReferenceTimeUnwrapper();
  readonly #interArrival = new InterArrival();
  readonly #detector = new TrendlineDetector();
  readonly #acked = new AckedBitrate();
  readonly #rateControl: AimdRateControl;
  readonly #lossControl: LossBasedControl;
  readonly #probes = new ProbeController();
  readonly #probeMeter = new ProbeRateMeter();
  readonly #minBps: number;
  readonly #maxBps: number;
  #rttMs = 100;
  #lastFeedbackCount: number | undefined;
  #lastOveruseMs: number | undefined;
  /** Probe results applied, for stats. */
  probesSucceeded = 0;
  probesSent = 0;

  constructor({ startBps, minBps = 100_000, maxBps = 2 * startBps }: BandwidthEstimatorSettings) {
    if (!(minBps > 0) || !(maxBps >= minBps) || !(startBps > 0)) {
      throw new RangeError(`invalid estimator bounds: start ${startBps}, min ${minBps}, max ${maxBps} bps`);
    }
    this.#minBps = minBps;
    this.#maxBps = maxBps;
    const start = clamp(startBps, minBps, maxBps);
    this.#rateControl = new AimdRateControl(start, minBps, maxBps);
    this.#lossControl = new LossBasedControl(start, minBps, maxBps);
  }

  /**
   * Records a packet as it leaves: its 16-bit transport-wide sequence number, size and time, and
   * the probe cluster it belongs to when it is probe padding.
   */
  onPacketSent(transportSequence: number, sizeBytes: number, sentAtMs: number, probeCluster?: number): void {
    this.#sent.add({
      sequence: this.#sequences.unwrap(transportSequence),
      sizeBytes,
      sentAtMs,
      probeCluster,
    });
    if (probeCluster !== undefined) this.#probeMeter.sent(probeCluster, sizeBytes, sentAtMs);
  }

  /**
   * A probe cluster to send now (padding at a higher rate than the estimate, see `probing.ts`), or
   * undefined. Ask every few hundred ms; send what it returns with {@link onPacketSent}'s
   * `probeCluster` set.
   */
  nextProbe(nowMs: number): ProbeCluster | undefined {
    this.#probeMeter.prune(nowMs);
    const cluster = this.#probes.next({
      nowMs,
      targetBps: this.targetBps,
      maxBps: this.#maxBps,
      lossFraction: this.#lossControl.lossFraction,
      lastOveruseMs: this.#lastOveruseMs,
    });
    if (cluster !== undefined) {
      this.probesSent += 1;
      this.#probeMeter.expect(cluster.id, cluster.packets, nowMs);
    }
    return cluster;
  }

  /** The latest round-trip time (from RTCP receiver reports), ms. */
  onRtt(rttMs: number): void {
    if (Number.isFinite(rttMs) && rttMs >= 0) this.#rttMs = rttMs;
  }

  /** Feeds one decoded feedback packet; returns the new estimate. */
  onTransportFeedback(feedback: TransportFeedback, nowMs: number): BandwidthEstimate {
    // Feedback that arrives twice (or late, after newer feedback) must not count packets twice.
    // The count is 8 bits: a step of 1..127 is new feedback (gaps mean lost feedback, whose
    // packets are simply never acknowledged), 0 or a step back is a duplicate or stale.
    if (this.#lastFeedbackCount !== undefined) {
      const step = (feedback.feedbackPacketCount - this.#lastFeedbackCount) & 0xff;
      if (step === 0 || step >= 128) return this.estimate;
    }
    this.#lastFeedbackCount = feedback.feedbackPacketCount;
    const referenceUs = this.#referenceTimes.unwrap(feedback.referenceTimeUs);
    const offsetUs = referenceUs - feedback.referenceTimeUs;
    let received = 0;
    let lost = 0;
    let usage: BandwidthUsage = this.#detector.usage;
    for (const status of feedback.packets) {
      const sent = this.#sent.get(this.#sequences.unwrap(status.sequence));
      if (sent === undefined) continue; // not ours, or forgotten
      const arrivalMs =
        status.receivedAtUs === undefined ? undefined : (status.receivedAtUs + offsetUs) / 1000;
      if (sent.probeCluster !== undefined)
        this.#probeMeter.reported(sent.probeCluster, sent.sizeBytes, arrivalMs);
      if (arrivalMs === undefined) {
        lost += 1;
        continue;
      }
      received += 1;
      this.#acked.add(arrivalMs, sent.sizeBytes);
      const deltas = this.#interArrival.add({
        sentAtMs: sent.sentAtMs,
        arrivalMs,
        sizeBytes: sent.sizeBytes,
      });
      if (deltas !== undefined)
        usage = this.#detector.update(deltas.sendDeltaMs, deltas.arrivalDeltaMs, deltas.arrivalMs);
    }
    if (usage === 'overusing') this.#lastOveruseMs = nowMs;
    const delayBased = this.#rateControl.update(usage, this.#acked.bps, this.#rttMs, nowMs);
    this.#lossControl.update(received, lost, delayBased, nowMs);
    for (const { id, resultBps } of this.#probeMeter.takeFinished()) {
      this.#probes.onResult(id, resultBps, nowMs);
      // A probe only ever raises the estimate: lowering is the delay and loss detectors' job.
      if (resultBps !== undefined && resultBps > this.#rateControl.rateBps && usage !== 'overusing') {
        this.#rateControl.setEstimate(resultBps, nowMs);
        this.#lossControl.raiseTo(this.#rateControl.rateBps);
        this.probesSucceeded += 1;
      }
    }
    return this.estimate;
  }

  /** The rate to send at now, bps. */
  get targetBps(): number {
    return clamp(Math.min(this.#rateControl.rateBps, this.#lossControl.rateBps), this.#minBps, this.#maxBps);
  }

  get estimate(): BandwidthEstimate {
    return {
      targetBps: this.targetBps,
      delayBasedBps: this.#rateControl.rateBps,
      lossBasedBps: this.#lossControl.rateBps,
      ackedBps: this.#acked.bps,
      lossFraction: this.#lossControl.lossFraction,
      usage: this.#detector.usage,
      trend: this.#detector.trend,
      threshold: this.#detector.threshold,
      packetsInFlight: this.#sent.size,
    };
  }
}
