/**
 * What the estimator must remember of each packet it sent until feedback about it arrives: size
 * and send time, keyed by the unwrapped transport-wide sequence number. Chromium answers within
 * ~65 ms; anything older than {@link SentPacketHistory.maxAgeMs} is forgotten (its feedback was
 * lost or it never arrived, which loss accounting already covers).
 */
export interface SentPacket {
  /** Unwrapped transport-wide sequence number. */
  readonly sequence: number;
  /** Bytes on the wire counted by the estimator (RTP header and payload). */
  readonly sizeBytes: number;
  /** When it left, ms on the sender's monotonic clock. */
  readonly sentAtMs: number;
  /** The probe cluster it belongs to (padding sent to measure the link), if any. */
  readonly probeCluster?: number | undefined;
}

export class SentPacketHistory {
  readonly #packets = new Map<number, SentPacket>();
  readonly #order: number[] = [];
  #head = 0;

  /** Packets older than this are dropped (ms). Default 2 000: 30× Chromium's feedback interval. */
  constructor(readonly maxAgeMs = 2_000) {}

  get size(): number {
    return this.#packets.size;
  }

  add(packet: SentPacket): void {
    this.#packets.set(packet.sequence, packet);
    this.#order.push(packet.sequence);
    this.#prune(packet.sentAtMs);
  }

  get(sequence: number): SentPacket | undefined {
    return this.#packets.get(sequence);
  }

  #prune(nowMs: number): void {
    for (let sequence = this.#order[this.#head]; sequence !== undefined; sequence = this.#order[this.#head]) {
      const oldest = this.#packets.get(sequence);
      if (oldest !== undefined && nowMs - oldest.sentAtMs <= this.maxAgeMs) break;
      if (oldest !== undefined) this.#packets.delete(oldest.sequence);
      this.#head += 1;
    }
    // Compact the order list now and then instead of shifting on every packet.
    if (this.#head > 4096) {
      this.#order.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
