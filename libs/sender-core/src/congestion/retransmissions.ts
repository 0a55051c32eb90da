/**
 * How many NACKed packets one viewer may have retransmitted. werift answers every NACK at once from
 * its history, unpaced, and a browser repeats its NACK for a missing packet every round trip until
 * it arrives. On a link that is already full that is a storm: behind 400 kbit/s (tbf, 400 ms
 * queue) Chromium sent ~500 NACKs in 14 s after a squeeze began, every retransmission burst filled
 * the queue again, and signaling over the same link stalled for 14 s (bench/congestion.mjs).
 * libwebrtc bounds retransmissions too; the rules here:
 * - a packet is retransmitted at most once per round trip (the previous copy may still be on its way);
 * - retransmissions get at most 30 % of the viewer's estimate (a token bucket, 100 ms deep);
 * - none while the viewer's pacer holds more than 150 ms of media: the link is full, and a packet
 *   retransmitted now would arrive after its frame was due; the receiver asks for a keyframe
 *   instead, which the per-viewer keyframe limit handles.
 */

/** Share of the estimate retransmissions may use. */
const RETRANSMISSION_SHARE = 0.3;
/** The bucket holds this much of the retransmission rate, ms. */
const BUCKET_MS = 100;
/** Bytes a retransmitted packet is assumed to take (werift does not say which it will resend). */
const ASSUMED_PACKET_BYTES = 1_200;
/** No retransmissions while the pacer holds more than this, ms. */
const MAX_PACER_QUEUE_MS = 150;
/** A sequence number is not retransmitted again within this long, at least (ms). */
const MIN_REPEAT_MS = 50;

export interface RetransmissionConditions {
  readonly nowMs: number;
  readonly rttMs: number | undefined;
  /** The viewer's estimate, bps. */
  readonly rateBps: number;
  readonly pacerQueueMs: number;
}

export class RetransmissionBudget {
  #tokensBits = 0;
  #lastMs: number | undefined;
  readonly #lastSent = new Map<number, number>();
  /** Sequence numbers asked for and not retransmitted. */
  denied = 0;
  allowed = 0;

  /** Of the NACKed `sequences` (16-bit RTP sequence numbers), those to retransmit now. */
  filter(sequences: readonly number[], conditions: RetransmissionConditions): number[] {
    const { nowMs, rateBps } = conditions;
    const rateBitsPerMs = (RETRANSMISSION_SHARE * rateBps) / 1000;
    this.#tokensBits = Math.min(
      this.#tokensBits + (nowMs - (this.#lastMs ?? nowMs)) * rateBitsPerMs,
      BUCKET_MS * rateBitsPerMs,
    );
    if (this.#lastMs === undefined) this.#tokensBits = BUCKET_MS * rateBitsPerMs;
    this.#lastMs = nowMs;
    this.#prune(nowMs);
    if (conditions.pacerQueueMs > MAX_PACER_QUEUE_MS) {
      this.denied += sequences.length;
      return [];
    }
    const repeatMs = Math.max(MIN_REPEAT_MS, conditions.rttMs ?? 0);
    const allowed: number[] = [];
    for (const sequence of sequences) {
      const last = this.#lastSent.get(sequence);
      const cost = ASSUMED_PACKET_BYTES * 8;
      if ((last !== undefined && nowMs - last < repeatMs) || this.#tokensBits < cost) {
        this.denied += 1;
        continue;
      }
      this.#tokensBits -= cost;
      this.#lastSent.set(sequence, nowMs);
      allowed.push(sequence);
    }
    this.allowed += allowed.length;
    return allowed;
  }

  #prune(nowMs: number): void {
    if (this.#lastSent.size < 512) return;
    for (const [sequence, at] of this.#lastSent) if (nowMs - at > 2_000) this.#lastSent.delete(sequence);
  }
}
