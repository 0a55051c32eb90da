/**
 * One viewer's pacer: packets leave at `pacingFactor` × the viewer's estimate, spread over time,
 * instead of in one burst per frame. A 720p VP8 keyframe is 30–60 packets; burst into a
 * 500 kbit/s link it alone queues ~1 s (issue #12's freezes). The queue is bounded in time: when
 * it would hold more than `maxQueueMs` of media, whole frames are dropped from the top temporal
 * layer down (never a frame already partly sent), and if a base-layer frame has to go, everything
 * up to the next keyframe goes with it (later delta frames would not decode) and
 * `onKeyframeNeeded` asks for one.
 */

/** A frame handed to the pacer: its packets in order, and what dropping it would break. */
export interface PacedFrame<Packet> {
  readonly packets: readonly Packet[];
  /** Bytes of each packet, same order. */
  readonly packetBytes: readonly number[];
  readonly keyframe: boolean;
  /** Temporal layer (0 = base; H.264 and single-layer VP8: always 0). */
  readonly temporalLayer: number;
  /**
   * The stream it belongs to (one per camera of the viewer): a dropped base-layer frame breaks
   * only its own stream's decoding. Default: one stream.
   */
  readonly stream?: unknown;
}

/** Settings of a {@link Pacer}. */
export interface PacerSettings<Packet> {
  /** Sends one packet on the wire. */
  send(packet: Packet): void;
  /** Base-layer frames of `stream` had to be dropped: it needs a keyframe to decode again. */
  onKeyframeNeeded?(stream: unknown): void;
  /** Initial estimate, bps. */
  rateBps: number;
  /** Packets leave at this multiple of the estimate (libwebrtc: 2.5). Default 2.5. */
  pacingFactor?: number;
  /** Most media the queue may hold, in ms at the current estimate. Default 250. */
  maxQueueMs?: number;
  /** A burst may use at most this much budget at once, ms of the pacing rate. Default 5. */
  maxBurstMs?: number;
}

interface QueuedFrame<Packet> {
  frame: PacedFrame<Packet>;
  next: number;
  bytesLeft: number;
}

export class Pacer<Packet> {
  readonly #settings: Required<Omit<PacerSettings<Packet>, 'onKeyframeNeeded'>> &
    Pick<PacerSettings<Packet>, 'onKeyframeNeeded'>;
  readonly #queue: QueuedFrame<Packet>[] = [];
  #rateBps: number;
  #budgetBytes = 0;
  #lastProcessMs: number | undefined;
  /** Streams whose base-layer frames were dropped: their delta frames wait for a keyframe. */
  readonly #awaitingKeyframe = new Set<unknown>();
  #queuedBytes = 0;
  /** Counters for stats. */
  readonly counters = { packetsSent: 0, bytesSent: 0, framesDropped: 0, keyframesNeeded: 0 };

  constructor({ pacingFactor = 2.5, maxQueueMs = 250, maxBurstMs = 5, ...rest }: PacerSettings<Packet>) {
    this.#settings = { pacingFactor, maxQueueMs, maxBurstMs, ...rest };
    this.#rateBps = rest.rateBps;
  }

  /** The viewer's current estimate, bps. */
  get rateBps(): number {
    return this.#rateBps;
  }

  set rateBps(bps: number) {
    if (Number.isFinite(bps) && bps > 0) this.#rateBps = bps;
  }

  /** Media waiting, in ms at the current estimate. */
  get queueMs(): number {
    return (this.#queuedBytes * 8 * 1000) / this.#rateBps;
  }

  /** Frames waiting (including one partly sent). */
  get queuedFrames(): number {
    return this.#queue.length;
  }

  /** Whether a frame matching `predicate` is queued and not completely sent yet. */
  hasQueued(predicate: (frame: PacedFrame<Packet>) => boolean): boolean {
    return this.#queue.some((queued) => predicate(queued.frame));
  }

  /** Queues a frame, then makes room if the queue got too long. */
  enqueue(frame: PacedFrame<Packet>): void {
    if (this.#awaitingKeyframe.has(frame.stream) && !frame.keyframe) {
      this.counters.framesDropped += 1;
      return;
    }
    if (frame.keyframe) {
      // A keyframe makes everything of its stream queued before it pointless: drop what has not
      // started.
      this.#awaitingKeyframe.delete(frame.stream);
      this.#dropWhere((queued) => queued.next === 0 && queued.frame.stream === frame.stream);
    }
    const bytes = frame.packetBytes.reduce((sum, b) => sum + b, 0);
    this.#queue.push({ frame, next: 0, bytesLeft: bytes });
    this.#queuedBytes += bytes;
    this.#trim();
  }

  /** Sends what the budget allows since the last call; call every few ms. */
  process(nowMs: number): void {
    const elapsedMs = nowMs - (this.#lastProcessMs ?? nowMs);
    this.#lastProcessMs = nowMs;
    const pacingBytesPerMs = (this.#rateBps * this.#settings.pacingFactor) / 8 / 1000;
    this.#budgetBytes = Math.min(
      this.#budgetBytes + elapsedMs * pacingBytesPerMs,
      Math.max(this.#settings.maxBurstMs * pacingBytesPerMs, 1),
    );
    if (this.#queue.length === 0) {
      // Idle time does not bank credit for a later burst.
      this.#budgetBytes = Math.min(this.#budgetBytes, 0);
      return;
    }
    while (this.#budgetBytes > 0) {
      const head = this.#queue[0];
      if (head === undefined) break;
      const packet = head.frame.packets[head.next];
      const bytes = head.frame.packetBytes[head.next] ?? 0;
      if (packet === undefined) {
        this.#queue.shift();
        continue;
      }
      head.next += 1;
      head.bytesLeft -= bytes;
      this.#queuedBytes -= bytes;
      this.#budgetBytes -= bytes;
      this.counters.packetsSent += 1;
      this.counters.bytesSent += bytes;
      this.#settings.send(packet);
      if (head.next >= head.frame.packets.length) this.#queue.shift();
    }
  }

  /**
   * Media waiting behind keyframes, in ms at the current estimate: what the queue bound applies
   * to. A keyframe's own transmission time is the price of recovering a picture and is not
   * counted: on a free 3 Mbit/s link a 720p keyframe of the camera-like pattern alone (~90 kB,
   * ~250 ms at the estimate) made the pacer drop the delta frames right behind it, and the
   * viewer then needed another keyframe.
   */
  get #boundedQueueMs(): number {
    let bytes = 0;
    for (const queued of this.#queue) if (!queued.frame.keyframe) bytes += queued.bytesLeft;
    return (bytes * 8 * 1000) / this.#rateBps;
  }

  /** Drops frames from the top layer down until the queue fits `maxQueueMs`. */
  #trim(): void {
    if (this.#boundedQueueMs <= this.#settings.maxQueueMs) return;
    const layers = [...new Set(this.#queue.map((q) => q.frame.temporalLayer))].sort((a, b) => b - a);
    for (const layer of layers) {
      if (layer === 0) break;
      this.#dropWhere(
        (queued) => queued.next === 0 && queued.frame.temporalLayer === layer && !queued.frame.keyframe,
      );
      if (this.#boundedQueueMs <= this.#settings.maxQueueMs) return;
    }
    // Only base-layer frames left and still too much: a base frame must go, and every delta frame
    // of its stream after it is then useless until a keyframe. Drop every frame that has not
    // started except keyframes; a stream needs (and asks for) a new keyframe unless one of its
    // kept keyframes comes after its last dropped frame.
    const lastDropped = new Map<unknown, number>();
    const lastKeyframe = new Map<unknown, number>();
    this.#queue.forEach((queued, index) => {
      if (queued.next !== 0) return;
      (queued.frame.keyframe ? lastKeyframe : lastDropped).set(queued.frame.stream, index);
    });
    this.#dropWhere((queued) => queued.next === 0 && !queued.frame.keyframe);
    for (const [stream, dropped] of lastDropped) {
      if (dropped < (lastKeyframe.get(stream) ?? -1)) continue;
      this.#awaitingKeyframe.add(stream);
      this.counters.keyframesNeeded += 1;
      this.#settings.onKeyframeNeeded?.(stream);
    }
  }

  #dropWhere(predicate: (queued: QueuedFrame<Packet>) => boolean): void {
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      const queued = this.#queue[i];
      if (queued !== undefined && predicate(queued)) {
        this.#queue.splice(i, 1);
        this.#queuedBytes -= queued.bytesLeft;
        this.counters.framesDropped += 1;
      }
    }
  }
}
