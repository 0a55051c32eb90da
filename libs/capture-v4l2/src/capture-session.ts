/**
 * One open stream of a {@link V4l2Camera}: the read loop, conversion of the latest packet into the
 * frame pool, frame delivery, stall detection, and closing without freeing what a blocked read
 * still uses. The camera owns status, epochs and recovery; a session only reports to it.
 */
import { errorMessage, type Logger, type RawVideoFrame } from '@robocam/types';
import type { CapturedPacket, CaptureStream } from './capture-backend.js';
import { DropOldestQueue } from './drop-oldest-queue.js';
import type { CaptureError } from './errors.js';
import type { FramePool } from './frame-pool.js';
import { monotonicNowUs, type TimestampMapper } from './timestamp-mapper.js';

/** The frame counters a session adds to (shared with its camera's stats). */
export interface FrameCounters {
  framesCaptured: number;
  framesEmitted: number;
  framesDropped: number;
  framesFailed: number;
}

/** What a session needs from its camera. */
export interface CaptureSessionHost {
  readonly device: string;
  readonly logger: Logger;
  /** Captured frames kept waiting while one is converted. */
  readonly queueSize: number;
  /** No packet for this long reports a stall, in ms. */
  readonly stallTimeoutMs: number;
  readonly counters: FrameCounters;
  /** Maps driver timestamps to the wall clock and `performance.now()`; reset by the camera per open. */
  readonly timestamps: TimestampMapper;
  /** Whether this session still is the camera's current one (not stopped, not replaced). */
  isCurrent(): boolean;
  /** The pool frames are converted into, read at each conversion. */
  pool(): FramePool | undefined;
  /** A packet arrived on the current session. */
  onPacket(): void;
  /** The sequence number of the next emitted frame; counts it. */
  nextSequence(): number;
  /** Delivers a converted frame to listeners. */
  emitFrame(frame: RawVideoFrame): void;
  /** No packet for `silentMs` (≥ `stallTimeoutMs`) on the current session; checked every ≤ 500 ms. */
  onStall(silentMs: number): void;
  /** The device failed under the current session: it stops being current, now (before closing). */
  detach(): void;
  /** The device failed under the session; called after {@link detach} once the stream is closed. */
  onLost(failure: CaptureError): void;
  /** Turns anything a stream throws into a typed error. */
  typed(error: unknown): CaptureError;
}

interface Pending {
  packet: CapturedPacket;
  timestampMs: number;
  monotonicMs: number;
}

export class CaptureSession {
  readonly stream: CaptureStream;
  readonly #host: CaptureSessionHost;
  /** Settles when the read loop has ended and its last conversion is done. */
  #done: Promise<void> = Promise.resolve();
  #stallTimer: NodeJS.Timeout | undefined;
  #lastPacketAt = 0;

  constructor(stream: CaptureStream, host: CaptureSessionHost) {
    this.stream = stream;
    this.#host = host;
  }

  /** Starts reading and watching for stalls. */
  start(): void {
    this.#lastPacketAt = performance.now();
    this.#armStallTimer();
    this.#done = this.#run();
  }

  /** Stops watching for stalls (the session is being stopped or was lost). */
  stopWatching(): void {
    clearInterval(this.#stallTimer);
    this.#stallTimer = undefined;
  }

  /**
   * Closes the stream once its read returns (within a frame interval once the session is no
   * longer current); a stalled device is closed later, after waiting `waitMs`.
   */
  async close(waitMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.#done.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => {
          resolve(true);
        }, waitMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      // Closing under a blocked read would free what the read still uses: close once it returns.
      this.#host.logger.warn(
        { device: this.#host.device, waitMs },
        'camera read still blocked; the device is released when it returns',
      );
      void this.#done.then(() => this.stream.close());
      return;
    }
    await this.stream.close();
  }

  /** Reads as fast as the driver delivers; converts the latest packet whenever the converter is free. */
  async #run(): Promise<void> {
    const host = this.#host;
    const { stream } = this;
    const queue = new DropOldestQueue<Pending>(host.queueSize, (item) => {
      stream.release(item.packet);
    });
    let converting: Promise<void> | undefined;
    const drain = async (): Promise<void> => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
        await this.#convertAndEmit(item);
      }
    };
    let failure: CaptureError | undefined;
    for (;;) {
      let packet: CapturedPacket;
      try {
        packet = await stream.read();
      } catch (error) {
        failure = host.typed(error);
        break;
      }
      const wallNowMs = Date.now();
      const nowUs = monotonicNowUs();
      const performanceNowMs = performance.now();
      if (!host.isCurrent()) {
        stream.release(packet);
        break;
      }
      host.counters.framesCaptured += 1;
      this.#lastPacketAt = performanceNowMs;
      host.onPacket();
      const { timestampMs, monotonicMs } = host.timestamps.map(packet.timestampUs, {
        monotonicNowUs: nowUs,
        wallNowMs,
        performanceNowMs,
      });
      if (queue.push({ packet, timestampMs, monotonicMs }) !== undefined) host.counters.framesDropped += 1;
      converting ??= drain().finally(() => {
        converting = undefined;
      });
    }
    queue.clear();
    await converting;
    if (failure === undefined || !host.isCurrent()) {
      // Stopped or replaced: the camera has moved on, nothing is left to watch.
      this.stopWatching();
      return;
    }
    // The device failed under us: close, then let the camera report and start reopening.
    host.detach();
    this.stopWatching();
    await stream.close().catch((error: unknown) => {
      host.logger.warn({ device: host.device, err: errorMessage(error) }, 'closing the lost camera failed');
    });
    host.onLost(failure);
  }

  async #convertAndEmit(item: Pending): Promise<void> {
    const host = this.#host;
    const pool = host.pool();
    if (pool === undefined) {
      this.stream.release(item.packet);
      return;
    }
    const target = pool.current();
    try {
      await this.stream.convert(item.packet, target, pool.width, pool.height);
    } catch (error) {
      host.counters.framesFailed += 1;
      host.logger.debug({ device: host.device, err: errorMessage(error) }, 'frame skipped');
      return;
    } finally {
      this.stream.release(item.packet);
    }
    if (!host.isCurrent()) return;
    pool.commit();
    const frame: RawVideoFrame = {
      data: target,
      width: pool.width,
      height: pool.height,
      timestampMs: item.timestampMs,
      monotonicMs: item.monotonicMs,
      sequence: host.nextSequence(),
    };
    host.counters.framesEmitted += 1;
    host.emitFrame(frame);
  }

  #armStallTimer(): void {
    this.stopWatching();
    const period = Math.max(50, Math.min(500, this.#host.stallTimeoutMs / 4));
    this.#stallTimer = setInterval(() => {
      if (!this.#host.isCurrent()) return;
      const silentMs = performance.now() - this.#lastPacketAt;
      if (silentMs < this.#host.stallTimeoutMs) return;
      this.#host.onStall(silentMs);
    }, period);
    this.#stallTimer.unref();
  }
}
