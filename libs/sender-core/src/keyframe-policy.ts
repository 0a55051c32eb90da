/**
 * The one keyframe policy of a camera: which frame the encoder must make a keyframe, and why.
 * The encoder only obeys (`encode(frame, { keyframe })`); the camera pipeline asks this policy
 * before every frame and reports every keyframe that came out, so the counts by reason are exact.
 */
import { InvalidEncoderSettingsError } from './encoder/index.js';
import type { KeyframeCause } from './encoder/index.js';

/**
 * Why a keyframe was produced: `first` the encoder (re)started, `join` a viewer joined, `pli`/`fir`
 * a viewer lost pictures / asked for a full intra frame, `periodic` the interval elapsed,
 * `reopen` the encoder re-opened itself at a new bitrate (an extra keyframe nobody asked for),
 * `encoder` the codec made one on its own (not expected).
 */
export type KeyframeReason = 'first' | 'join' | 'pli' | 'fir' | 'periodic' | 'reopen' | 'encoder';

/** The reasons a caller can ask for a keyframe with. */
export type KeyframeRequest = 'first' | 'join' | 'pli' | 'fir';

/** Every {@link KeyframeReason}. */
export const KEYFRAME_REASONS: readonly KeyframeReason[] = [
  'first',
  'join',
  'pli',
  'fir',
  'periodic',
  'reopen',
  'encoder',
];

export interface KeyframePolicySettings {
  /**
   * Seconds between periodic keyframes, measured on the frames' monotonic capture times (dropped
   * frames don't stretch it), from the last keyframe of any reason. Default 10; `0` disables them.
   */
  intervalSec?: number;
  /**
   * Minimum time between keyframes forced by PLI/FIR, in ms. Default 300: a lossy link makes every
   * viewer send PLIs, and a keyframe per PLI would flood the link with the largest frames there are.
   */
  minRequestIntervalMs?: number;
}

/**
 * Decides, frame by frame, whether to force a keyframe. Requests are coalesced: many requests before
 * the next frame make one keyframe, and PLI/FIR requests within `minRequestIntervalMs` of the last
 * keyframe are deferred to the first frame after it. A first frame or a joining viewer is never
 * deferred: a new viewer sees nothing until it gets a keyframe. All times are the frames'
 * `monotonicMs` (capture time on `performance.now()`'s clock).
 */
export class KeyframePolicy {
  readonly #intervalMs: number;
  readonly #minRequestIntervalMs: number;
  #pending: KeyframeRequest | undefined;
  #lastKeyframeAt: number | undefined;
  #lastFrameAt: number | undefined;
  #frameIntervalMs = 0;
  /** Reasons of the frames forced and not yet seen encoded, by the frame's monotonicMs. */
  readonly #forced = new Map<number, KeyframeReason>();
  readonly #produced: Record<KeyframeReason, number> = {
    first: 0,
    join: 0,
    pli: 0,
    fir: 0,
    periodic: 0,
    reopen: 0,
    encoder: 0,
  };
  #coalesced = 0;

  /** Throws `InvalidEncoderSettingsError` for a negative or non-finite interval. */
  constructor({ intervalSec = 10, minRequestIntervalMs = 300 }: KeyframePolicySettings = {}) {
    if (!Number.isFinite(intervalSec) || intervalSec < 0) {
      throw new InvalidEncoderSettingsError(
        `keyframeIntervalSec must be >= 0 (0 = no periodic keyframes), got ${String(intervalSec)}`,
      );
    }
    if (!Number.isFinite(minRequestIntervalMs) || minRequestIntervalMs < 0) {
      throw new InvalidEncoderSettingsError(
        `keyframeMinIntervalMs must be >= 0, got ${String(minRequestIntervalMs)}`,
      );
    }
    this.#intervalMs = intervalSec * 1000;
    this.#minRequestIntervalMs = minRequestIntervalMs;
  }

  /** Keyframes produced, by reason. */
  get produced(): Readonly<Record<KeyframeReason, number>> {
    return { ...this.#produced };
  }

  /** Requests absorbed by an already pending one. */
  get coalesced(): number {
    return this.#coalesced;
  }

  /** Asks for a keyframe on a coming frame. */
  request(reason: KeyframeRequest): void {
    if (this.#pending !== undefined) {
      this.#coalesced += 1;
      // A join (or restart) upgrades a deferred PLI/FIR to "now".
      if (reason === 'join' || reason === 'first') this.#pending = reason;
      return;
    }
    this.#pending = reason;
  }

  /**
   * Called before encoding the frame captured at `monotonicMs`: the reason to force it to be a
   * keyframe, or undefined for a delta frame.
   */
  forFrame(monotonicMs: number): KeyframeReason | undefined {
    if (this.#lastFrameAt !== undefined && monotonicMs > this.#lastFrameAt) {
      this.#frameIntervalMs = monotonicMs - this.#lastFrameAt;
    }
    this.#lastFrameAt = monotonicMs;
    const reason = this.#decide(monotonicMs);
    if (reason !== undefined) this.#forced.set(monotonicMs, reason);
    return reason;
  }

  #decide(at: number): KeyframeReason | undefined {
    const pending = this.#pending;
    const last = this.#lastKeyframeAt;
    if (pending !== undefined) {
      const deferred =
        (pending === 'pli' || pending === 'fir') &&
        last !== undefined &&
        at < last + this.#minRequestIntervalMs;
      if (!deferred) {
        this.#pending = undefined;
        // The encoder's first frame is a keyframe anyway: a join that asks for it (the first
        // viewer, whose frame was held until it attached) counts as the first keyframe.
        return pending === 'join' && last === undefined ? 'first' : pending;
      }
    }
    // Periodic: due within half a frame of the interval, so a 10 s interval at 30 fps is not 10.03 s.
    if (
      this.#intervalMs > 0 &&
      last !== undefined &&
      at - last >= this.#intervalMs - this.#frameIntervalMs / 2
    ) {
      return 'periodic';
    }
    return undefined;
  }

  /**
   * Called for every encoded frame: counts a keyframe under its reason (the one it was forced for,
   * else from the encoder's `keyframeCause`) and returns that reason; undefined for delta frames.
   */
  encoded(frame: {
    readonly keyframe: boolean;
    readonly keyframeCause?: KeyframeCause | undefined;
    readonly monotonicMs: number;
  }): KeyframeReason | undefined {
    let forced: KeyframeReason | undefined;
    // Forget this frame's entry and older ones (frames that never came out).
    for (const [at, reason] of this.#forced) {
      if (at > frame.monotonicMs) break;
      if (at === frame.monotonicMs) forced = reason;
      this.#forced.delete(at);
    }
    if (!frame.keyframe) return undefined;
    const reason: KeyframeReason =
      forced ??
      (frame.keyframeCause === 'reopen' ? 'reopen' : frame.keyframeCause === 'start' ? 'first' : 'encoder');
    this.#produced[reason] += 1;
    this.#lastKeyframeAt = frame.monotonicMs;
    return reason;
  }

  /** Forgets pending requests and history, e.g. when the encoder restarts. Counters stay. */
  reset(): void {
    this.#pending = undefined;
    this.#lastKeyframeAt = undefined;
    this.#lastFrameAt = undefined;
    this.#frameIntervalMs = 0;
    this.#forced.clear();
  }
}
