import { EventEmitter } from 'node:events';
import type { CameraInfo } from '@robocam/protocol';
import {
  CloseOnce,
  InvalidStateError,
  errorMessage,
  silentLogger,
  type CameraStatus,
  type CloseInfo,
  type Logger,
  type RawVideoFrame,
  type VideoCodec,
} from '@robocam/types';
import type * as TypedEmitterModule from 'typed-emitter';
import {
  TEMPORAL_PATTERNS,
  VideoEncoder,
  checkBitrateKbps,
  type TemporalLayerCount,
  type EncodedFrame,
  type EncoderPreference,
} from './encoder/index.js';
import { KeyframePolicy, type KeyframeReason } from './keyframe-policy.js';
import { LostCameraCard } from './lost-camera-card.js';
import { EncoderBudget } from './encoder-budget.js';
import { sharedEncoderTarget } from './encoder-target.js';
import { ResolutionTier, scaleI420, type ResolutionScale } from './resolution-tier.js';
import { RtpPacketizer, type PacketizedFrame } from './rtp-packetizer.js';
import type { VideoSource } from './video-source.js';

/** Where a camera's frames go: one per viewer track. */
export interface RtpSink {
  /** One encoded frame as RTP; the packets are shared by every sink and must not be modified. */
  sendFrame(frame: PacketizedFrame): void;
  /**
   * What this viewer's link carries for this camera now, bps (its congestion controller's
   * estimate); undefined while unknown. The camera's encoder target follows these.
   */
  readonly availableBps: number | undefined;
}

/** Raises of the encoder target wait this long after the last change (cuts apply at once). */
const TARGET_RAISE_INTERVAL_MS = 500;
/** A raise is at most this factor (≈ 1.7× a second): a probe's 4× jump must not re-open libvpx. */
const TARGET_RAISE_FACTOR = 1.3;

export interface CameraPipelineSettings {
  /** Camera id as viewers see it (URL-safe: lowercase letters, digits, _ and -). Required. */
  id: string;
  /** Human-readable name. Default: the id. */
  label?: string;
  /** Where frames come from. Required. */
  source: VideoSource;
  /** Codec. Default 'vp8'. */
  codec?: VideoCodec;
  /**
   * Target bitrate in kbps. Default: scaled from the frame size (see `defaultBitrateKbps`). The
   * constructor throws `InvalidEncoderSettingsError` unless it is a positive number.
   */
  bitrateKbps?: number;
  /** Encoder implementation preference. Default 'auto'. */
  encoder?: EncoderPreference;
  /**
   * VP8 temporal layers (1–3; see `VideoEncoderSettings.temporalLayers`). Default 2: a viewer on
   * a narrow link can be sent the base layer (half the frames, 60 % of the bitrate) while the
   * others get every frame. Ignored for H.264.
   */
  temporalLayers?: TemporalLayerCount;
  /** Seconds between periodic keyframes (see `KeyframePolicy`). Default 10; 0 disables them. */
  keyframeIntervalSec?: number;
  /** Minimum ms between keyframes forced by PLI/FIR. Default 300. */
  keyframeMinIntervalMs?: number;
  /**
   * Lowest encoder target congestion control may set, kbps. Default 150 (below that 720p VP8 is
   * mush; a viewer whose link carries less gets its frames dropped by its own pacer instead).
   */
  minBitrateKbps?: number;
  /**
   * Logger. The sender passes a child with `camera` bound, so lines here do not repeat that key.
   * Default `silentLogger`.
   */
  logger?: Logger;
}

/** Events of a {@link SenderCamera}: when it starts or stops encoding, and its source's status. */
export type SenderCameraEvents = Pick<CameraPipelineEvents, 'running' | 'status'>;

/** What an embedder sees of one camera of a `Sender` (`sender.cameras`). */
export interface SenderCamera extends TypedEmitterModule.default<SenderCameraEvents> {
  /** Camera id as viewers see it. */
  readonly id: string;
  /** Human-readable name. */
  readonly label: string;
  /** Codec it is encoded with. */
  readonly codec: VideoCodec;
  /** Where its frames come from. */
  readonly source: VideoSource;
  /** What viewers are told about it (size, rate, status). */
  readonly info: CameraInfo;
  /** Whether its encoder and source run (someone watches). */
  readonly running: boolean;
  /** True once the sender closed it. */
  readonly closed: boolean;
  /** Its counters. */
  stats(): CameraStats;
}

/** Counters of one camera. */
export interface CameraStats {
  id: string;
  /** Whether the encoder and source run (at least one viewer session uses the camera). */
  running: boolean;
  viewers: number;
  framesCaptured: number;
  framesEncoded: number;
  /**
   * Frames not encoded: the encoder was still busy with the previous one, not ready yet, or no
   * viewer was connected yet.
   */
  framesDropped: number;
  /**
   * Of those, frames not encoded because the encoder made more than its lowered target even at
   * its coarsest quality (see `EncoderBudget`): on a narrow link, fewer frames instead of a queue.
   */
  framesSkippedForBitrate: number;
  /** Keyframes by reason (see `KeyframeReason`). */
  keyframes: Record<KeyframeReason, number>;
  keyframeRequestsCoalesced: number;
  bytesEncoded: number;
  packetsSent: number;
  encodeMsAvg: number;
  encodeMsMax: number;
  /** Encoder implementation in use (e.g. `libvpx`), undefined while stopped. */
  encoder: string | undefined;
  /** The encoder's target now: the configured bitrate, lowered by congestion control. */
  bitrateKbps: number | undefined;
  /** The configured bitrate (the most the encoder is given). */
  maxBitrateKbps: number | undefined;
  /** Temporal layers the encoder makes (1: none). */
  temporalLayers: number;
  /** The size frames are encoded at now: the camera's, or a half or a quarter of it (resolution-tier.ts). */
  encodedWidth: number | undefined;
  encodedHeight: number | undefined;
  /** Times the encoded size changed (see `ResolutionTier`). */
  resolutionChanges: number;
  encoderStarts: number;
}

export type CameraPipelineEvents = {
  /** The encoder started (first user) or stopped (last user left). */
  running: (running: boolean) => void;
  /** The source's status changed (a camera was lost or came back). */
  status: (status: CameraStatus, detail?: string) => void;
  /** One encoded frame, after it was handed to every sink. */
  encoded: (frame: EncodedFrame) => void;
  error: (error: Error) => void;
};

/**
 * One camera: its source, its one encoder and packetizer, and the fan-out of every encoded
 * frame's packets to all viewers. The source and encoder run only while someone uses the camera.
 */
export class CameraPipeline
  extends (EventEmitter as new () => TypedEmitterModule.default<CameraPipelineEvents>)
  implements SenderCamera
{
  readonly id: string;
  readonly label: string;
  readonly source: VideoSource;
  readonly codec: VideoCodec;
  readonly #settings: CameraPipelineSettings;
  readonly #logger: Logger;
  /** Sinks, and whether each still waits for its first keyframe. */
  readonly #sinks = new Map<RtpSink, { awaitingKeyframe: boolean; attachedAt: number }>();
  readonly #keyframes: KeyframePolicy;
  #users = 0;
  #encoder: VideoEncoder | undefined;
  #packetizer: RtpPacketizer | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  /**
   * The latest frame, not encoded because no viewer was attached yet (the encoder opens while the
   * first viewer's ICE/DTLS run). `attach` encodes it at once as the joining keyframe instead of
   * waiting for the next frame. Valid: sources keep a frame's data while ≥ 1 more frame is emitted.
   */
  #unsentFrame: RawVideoFrame | undefined;
  /** Configured bitrate (setBitrate), the ceiling of the encoder target. */
  #bitrateKbps: number | undefined;
  /** Encoder target set by congestion control (≤ the configured bitrate); undefined: not lowered. */
  #targetKbps: number | undefined;
  #lastTargetChangeMs = Number.NEGATIVE_INFINITY;
  /** Skips frames while the encoder overshoots a lowered target (see EncoderBudget). */
  readonly #budget = new EncoderBudget();
  /** Half-size encoding while the target is far below the configured bitrate (resolution-tier.ts). */
  readonly #tier = new ResolutionTier();
  readonly #scaledFrames: { half?: Uint8Array; quarter?: Uint8Array } = {};
  #resolutionSwitch: Promise<void> | undefined;
  #resolutionChanges = 0;
  readonly #closing = new CloseOnce();
  #h264ProfileLevelId: string | undefined;
  readonly #counters = {
    framesCaptured: 0,
    framesEncoded: 0,
    framesDropped: 0,
    framesSkippedForBitrate: 0,
    bytesEncoded: 0,
    packetsSent: 0,
  };
  #encoderStarts = 0;
  #encodeMsSum = 0;
  #encodeMsMax = 0;
  readonly #onFrame = (frame: RawVideoFrame): void => {
    this.#handleFrame(frame);
  };
  readonly #onStatus = (status: CameraStatus, detail?: string): void => {
    if (status === 'lost' && this.running) this.#lostCard.start();
    else if (status === 'live') this.#lostCard.stop();
    this.#statusDetail = detail;
    this.emit('status', status, detail);
  };
  readonly #lostCard: LostCameraCard;
  #statusDetail: string | undefined;

  constructor(settings: CameraPipelineSettings) {
    super();
    this.#settings = settings;
    this.id = settings.id;
    this.label = settings.label ?? settings.id;
    this.source = settings.source;
    this.codec = settings.codec ?? 'vp8';
    if (settings.bitrateKbps !== undefined) checkBitrateKbps(settings.bitrateKbps);
    this.#bitrateKbps = settings.bitrateKbps;
    this.#logger = settings.logger ?? silentLogger;
    this.#keyframes = new KeyframePolicy({
      ...(settings.keyframeIntervalSec === undefined ? {} : { intervalSec: settings.keyframeIntervalSec }),
      ...(settings.keyframeMinIntervalMs === undefined
        ? {}
        : { minRequestIntervalMs: settings.keyframeMinIntervalMs }),
    });
    this.#lostCard = new LostCameraCard(this.source, this.label, (frame) => {
      this.#handleFrame(frame);
    });
    this.source.on('status', this.#onStatus);
  }

  /** What viewers are told about this camera. */
  get info(): CameraInfo {
    const detail = this.source.status === 'lost' ? (this.#statusDetail ?? 'camera lost') : undefined;
    return {
      id: this.id,
      label: this.label,
      width: this.source.width,
      height: this.source.height,
      fps: this.source.fps,
      codec: this.codec,
      status: this.source.status === 'lost' ? 'lost' : this.#users > 0 ? 'live' : 'idle',
      ...(detail === undefined ? {} : { detail: detail.slice(0, 256) }),
    };
  }

  get running(): boolean {
    return this.#encoder !== undefined;
  }

  /** True from the first {@link close} on. */
  get closed(): boolean {
    return this.#closing.closed;
  }

  /** Who closed the camera and why; undefined while open. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closing.info;
  }

  /**
   * The H.264 `profile-level-id` the encoder really emits (for the SDP), known once the encoder
   * ran; undefined for VP8.
   */
  get h264ProfileLevelId(): string | undefined {
    return this.#encoder?.h264ProfileLevelId ?? this.#h264ProfileLevelId;
  }

  /**
   * Registers one user (a viewer session) and makes sure the encoder and source run. The first
   * user starts them; resolves when the encoder is ready.
   */
  async acquire(): Promise<void> {
    if (this.closed) throw new InvalidStateError(`camera ${this.id} is closed`);
    this.#users += 1;
    try {
      await this.#ensureStarted();
    } catch (error) {
      this.#users -= 1;
      throw error;
    }
  }

  /** Unregisters one user; the last one stops the source and encoder. */
  async release(): Promise<void> {
    if (this.#users === 0) return;
    this.#users -= 1;
    if (this.#users === 0) await this.#stop();
  }

  /** Starts sending this camera's packets to `sink`, beginning with a fresh keyframe. */
  attach(sink: RtpSink): void {
    // Delta frames before the first keyframe are undecodable to a new viewer: skip them.
    this.#sinks.set(sink, { awaitingKeyframe: true, attachedAt: performance.now() });
    this.#keyframes.request('join');
    // The first viewer: encode the frame in hand now rather than the next one (saves up to one
    // frame interval, 16 ms on average at 30 fps; bench/ttff.mjs).
    const frame = this.#takeUnsentFrame();
    if (frame !== undefined) this.#handleFrame(frame, false);
  }

  detach(sink: RtpSink): void {
    this.#sinks.delete(sink);
  }

  /** A viewer lost pictures (PLI) or asked for a full intra frame (FIR). */
  requestKeyframe(reason: 'pli' | 'fir'): void {
    this.#keyframes.request(reason);
  }

  /**
   * Changes the target bitrate, in place when the encoder allows it. Throws
   * `InvalidEncoderSettingsError` unless `kbps` is a positive number (the camera stays as it was).
   */
  setBitrate(kbps: number): void {
    checkBitrateKbps(kbps, 'bitrate');
    this.#bitrateKbps = kbps;
    this.#targetKbps = undefined;
    this.#encoder?.setBitrate(kbps);
  }

  /** Highest temporal layer the encoder makes (0: a single layer). */
  get maxTemporalLayer(): number {
    return this.#temporalLayers() - 1;
  }

  /** Share of the bitrate carried by temporal layers 0..k (cumulative), index k. */
  get layerShares(): readonly number[] {
    return TEMPORAL_PATTERNS[this.#temporalLayers()].cumulativeShare;
  }

  /** The configured bitrate (the ceiling of the encoder target), bps; 0 before the encoder first ran. */
  get maxBitrateBps(): number {
    return this.#configuredKbps() * 1000;
  }

  /** The encoder's current target, bps. */
  get targetBitrateBps(): number {
    return (this.#targetKbps ?? this.#configuredKbps()) * 1000;
  }

  #temporalLayers(): TemporalLayerCount {
    return this.#encoder?.temporalLayers ?? 1;
  }

  #configuredKbps(): number {
    return this.#bitrateKbps ?? this.#encoder?.settings.bitrateKbps ?? 0;
  }

  /**
   * Moves the encoder target to what the viewers' links carry (see `sharedEncoderTarget`): cuts at
   * once (a queue is building somewhere), raises at most ×1.3 every 500 ms (an estimate that
   * jumps after a probe must not re-open libvpx or overshoot a link that only looked free).
   */
  #followViewers(encoder: VideoEncoder, nowMs: number): void {
    const ceilingKbps = this.#configuredKbps();
    const available: number[] = [];
    for (const sink of this.#sinks.keys()) {
      const bps = sink.availableBps;
      if (bps !== undefined) available.push(bps);
    }
    const floorKbps = Math.min(this.#settings.minBitrateKbps ?? 150, ceilingKbps);
    const wantedKbps =
      sharedEncoderTarget({
        ceilingBps: ceilingKbps * 1000,
        floorBps: floorKbps * 1000,
        baseLayerShare: this.layerShares[0] ?? 1,
        viewersBps: available,
      }) / 1000;
    const currentKbps = this.#targetKbps ?? ceilingKbps;
    let nextKbps = currentKbps;
    if (wantedKbps < currentKbps * 0.97) {
      nextKbps = wantedKbps;
    } else if (
      wantedKbps > currentKbps * 1.03 &&
      nowMs - this.#lastTargetChangeMs >= TARGET_RAISE_INTERVAL_MS
    ) {
      nextKbps = Math.min(wantedKbps, currentKbps * TARGET_RAISE_FACTOR);
    }
    if (nextKbps !== currentKbps) {
      nextKbps = Math.round(nextKbps);
      this.#lastTargetChangeMs = nowMs;
      this.#targetKbps = nextKbps >= ceilingKbps ? undefined : nextKbps;
      encoder.setBitrate(Math.max(nextKbps, 1));
    }
    this.#followTier(encoder, nextKbps, ceilingKbps, nowMs);
  }

  /** Re-opens the encoder at half or full size when the target crosses the tier's thresholds. */
  #followTier(encoder: VideoEncoder, targetKbps: number, ceilingKbps: number, nowMs: number): void {
    const { width, height } = this.source;
    const maxScale = ResolutionTier.maxScale(width, height);
    if (this.#resolutionSwitch !== undefined || maxScale === 1) return;
    const scale = this.#tier.decide(targetKbps * 1000, ceilingKbps * 1000, nowMs, maxScale);
    if (scale === this.#encodedScale(encoder)) return;
    this.#resolutionSwitch = this.#reopenEncoder(encoder, width / scale, height / scale, targetKbps)
      .catch((error: unknown) => {
        this.#logger.warn({ err: errorMessage(error) }, 'changing the encoded resolution failed');
      })
      .finally(() => {
        this.#resolutionSwitch = undefined;
      });
  }

  /** The divisor of the camera's size the encoder runs at (1, 2 or 4). */
  #encodedScale(encoder: VideoEncoder): ResolutionScale {
    const ratio = Math.round(this.source.width / encoder.settings.width);
    return ratio === 4 ? 4 : ratio === 2 ? 2 : 1;
  }

  async #reopenEncoder(
    previous: VideoEncoder,
    width: number,
    height: number,
    bitrateKbps: number,
  ): Promise<void> {
    const next = await VideoEncoder.create({
      ...previous.settings,
      width,
      height,
      bitrateKbps: Math.max(1, Math.round(bitrateKbps)),
      logger: this.#logger,
    });
    if (this.#encoder !== previous) {
      // Stopped (or replaced) meanwhile.
      await next.close();
      return;
    }
    this.#encoder = next;
    this.#resolutionChanges += 1;
    this.#logger.info(
      { width, height, bitrateKbps: next.bitrateKbps, configuredKbps: this.#configuredKbps() },
      width === this.source.width
        ? "camera back to full size: the viewers' links carry enough again"
        : "camera encoded at a smaller size: its viewers' links carry too little for more",
    );
    await previous.close();
  }

  stats(): CameraStats {
    const encoderStats = this.#encoder?.stats;
    return {
      id: this.id,
      running: this.running,
      viewers: this.#sinks.size,
      ...this.#counters,
      keyframes: { ...this.#keyframes.produced },
      keyframeRequestsCoalesced: this.#keyframes.coalesced,
      encodeMsAvg: this.#counters.framesEncoded === 0 ? 0 : this.#encodeMsSum / this.#counters.framesEncoded,
      encodeMsMax: this.#encodeMsMax,
      encoder: this.#encoder?.implementation,
      bitrateKbps: encoderStats?.bitrateKbps ?? this.#bitrateKbps,
      maxBitrateKbps: this.#bitrateKbps ?? encoderStats?.bitrateKbps,
      temporalLayers: this.#temporalLayers(),
      encodedWidth: this.#encoder?.settings.width,
      encodedHeight: this.#encoder?.settings.height,
      resolutionChanges: this.#resolutionChanges,
      encoderStarts: this.#encoderStarts,
    };
  }

  /**
   * Stops the encoder and the source and detaches all sinks; `acquire()` then throws
   * `InvalidStateError`. Idempotent: every call resolves when the first one has released
   * everything. `info` says who closed it (the sender passes origin `parent`). Default: `local`.
   */
  close(info: CloseInfo = { origin: 'local', code: 'closed', message: 'camera closed' }): Promise<void> {
    return this.#closing.close(info, async () => {
      this.#sinks.clear();
      this.#users = 0;
      this.source.off('status', this.#onStatus);
      await this.#stop();
      // Whatever state a failed start left, a closed camera's source is stopped and unheard.
      this.source.off('frame', this.#onFrame);
      this.#lostCard.stop();
      await this.source.stop();
    });
  }

  async #ensureStarted(): Promise<void> {
    await this.#stopping;
    if (this.#encoder !== undefined) return;
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    await this.#starting;
  }

  async #start(): Promise<void> {
    const { source } = this;
    source.on('frame', this.#onFrame);
    let encoder: VideoEncoder;
    try {
      // A camera settles its real size while starting; the encoder must be made for that size.
      await source.start();
      if (source.status === 'lost') this.#lostCard.start();
      encoder = await this.#createEncoder();
    } catch (error) {
      // Nobody can use the camera: stop the source and stop listening, or every retry would leave
      // it running with one more frame listener.
      source.off('frame', this.#onFrame);
      this.#lostCard.stop();
      await source.stop().catch((stopError: unknown) => {
        this.#logger.warn({ err: errorMessage(stopError) }, 'stopping the source failed');
      });
      this.#logger.error({ err: errorMessage(error) }, 'camera pipeline failed to start');
      throw error;
    }
    if (this.closed || this.#users === 0) {
      source.off('frame', this.#onFrame);
      this.#lostCard.stop();
      await Promise.all([encoder.close(), source.stop()]);
      return;
    }
    this.#encoder = encoder;
    this.#targetKbps = undefined;
    this.#budget.reset();
    this.#tier.reset();
    this.#packetizer = new RtpPacketizer(this.codec);
    this.#keyframes.reset();
    this.#keyframes.request('first');
    this.#encoderStarts += 1;
    this.#logger.info(
      {
        encoder: encoder.implementation,
        hardware: encoder.hardware,
        bitrateKbps: encoder.bitrateKbps,
        width: source.width,
        height: source.height,
        fps: source.fps,
      },
      'camera pipeline started',
    );
    this.emit('running', true);
  }

  #createEncoder(): Promise<VideoEncoder> {
    const { source } = this;
    return VideoEncoder.create({
      codec: this.codec,
      width: source.width,
      height: source.height,
      fps: source.fps,
      ...(this.#bitrateKbps === undefined ? {} : { bitrateKbps: this.#bitrateKbps }),
      ...(this.#settings.encoder === undefined ? {} : { encoder: this.#settings.encoder }),
      ...(this.#settings.temporalLayers === undefined
        ? {}
        : { temporalLayers: this.#settings.temporalLayers }),
      logger: this.#logger,
    });
  }

  async #stop(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    const encoder = this.#encoder;
    if (encoder === undefined) return;
    this.#encoder = undefined;
    this.#packetizer = undefined;
    if (this.#takeUnsentFrame() !== undefined) this.#counters.framesDropped += 1;
    this.#h264ProfileLevelId = encoder.h264ProfileLevelId;
    this.source.off('frame', this.#onFrame);
    this.#lostCard.stop();
    this.#stopping = Promise.all([this.source.stop(), encoder.close()]).then(() => undefined);
    await this.#stopping;
    this.#stopping = undefined;
    this.#logger.info({}, 'camera pipeline stopped: no viewers');
    this.emit('running', false);
  }

  /** The unsent frame if it can still be encoded now, else undefined (and counted as dropped). */
  #takeUnsentFrame(): RawVideoFrame | undefined {
    const frame = this.#unsentFrame;
    this.#unsentFrame = undefined;
    if (frame === undefined || this.#encoder?.busy !== true) return frame;
    this.#counters.framesDropped += 1;
    return undefined;
  }

  /** `captured` false: a frame already counted, held back by the no-viewer branch below. */
  #handleFrame(frame: RawVideoFrame, captured = true): void {
    if (captured) this.#counters.framesCaptured += 1;
    const encoder = this.#encoder;
    const packetizer = this.#packetizer;
    if (encoder === undefined || packetizer === undefined) {
      // The source starts before the encoder is made (a camera settles its size first).
      this.#counters.framesDropped += 1;
      return;
    }
    const scale = this.#encodedScale(encoder);
    if (
      scale !== 1 &&
      frame.width === scale * encoder.settings.width &&
      frame.height === scale * encoder.settings.height
    ) {
      // The low-resolution tier: encode() copies the frame at once, so the buffers are reused.
      frame = scaleI420(frame, scale, this.#scaledFrames);
    }
    if (frame.width !== encoder.settings.width || frame.height !== encoder.settings.height) {
      // Sources keep their negotiated size; a frame of another size cannot go into this encoder.
      this.#counters.framesDropped += 1;
      return;
    }
    if (encoder.busy) {
      // Latest frame wins: queuing behind a busy encoder would only add latency.
      this.#counters.framesDropped += 1;
      return;
    }
    if (this.#sinks.size === 0) {
      // No viewer connected yet: nothing to send to, keep the frame for the first one's keyframe.
      if (this.#takeUnsentFrame() !== undefined) this.#counters.framesDropped += 1;
      this.#unsentFrame = frame;
      return;
    }
    const nowMs = performance.now();
    this.#followViewers(encoder, nowMs);
    // Media timing (keyframe intervals, RTP timestamps) runs on the monotonic clock.
    const forced = this.#keyframes.forFrame(frame.monotonicMs);
    // Only while congestion control holds the target down: at the configured rate an encoder's
    // start-up overshoot (libvpx: ~14 % for a few seconds) is no reason to show fewer frames.
    if (
      forced === undefined &&
      this.#targetKbps !== undefined &&
      this.#budget.shouldSkip(nowMs, this.targetBitrateBps)
    ) {
      this.#counters.framesDropped += 1;
      this.#counters.framesSkippedForBitrate += 1;
      encoder.skip(frame.monotonicMs);
      return;
    }
    encoder
      .encode(frame, { keyframe: forced !== undefined })
      .then((outputs) => {
        for (const output of outputs) this.#deliver(output, packetizer);
      })
      .catch((error: unknown) => {
        if (encoder.closed) return; // stopped mid-encode: nothing to report
        this.#logger.error({ err: errorMessage(error) }, 'encode failed');
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
      });
  }

  #deliver(output: EncodedFrame, packetizer: RtpPacketizer): void {
    this.#counters.framesEncoded += 1;
    this.#counters.bytesEncoded += output.data.length;
    this.#encodeMsSum += output.encodeMs;
    this.#encodeMsMax = Math.max(this.#encodeMsMax, output.encodeMs);
    this.#keyframes.encoded(output);
    this.#budget.onEncoded(output.data.length, performance.now(), this.targetBitrateBps);
    const frame = packetizer.packetize(output);
    for (const [sink, state] of this.#sinks) {
      if (state.awaitingKeyframe) {
        if (!output.keyframe) continue;
        state.awaitingKeyframe = false;
        // The join's share of the time to first frame (see bench/ttff.mjs).
        this.#logger.debug(
          {
            sinceAttachMs: Math.round(performance.now() - state.attachedAt),
            encodeMs: Math.round(output.encodeMs),
            bytes: output.data.length,
          },
          'first keyframe to a new viewer',
        );
      }
      sink.sendFrame(frame);
      this.#counters.packetsSent += frame.packets.length;
    }
    this.emit('encoded', output);
  }
}
