/**
 * `VideoEncoder`: one per camera, shared by every viewer of that camera (encode once, fan out the
 * packets).
 *
 * Built on node-av's low-level API (`CodecContext`, `Frame`, `Packet`) with the async variants
 * (`open2`, `sendFrame`, `receivePacket`): those run on libuv's thread pool, so the event loop stays
 * free while a frame is being encoded. node-av's high-level `Encoder` is not used on purpose: it
 * resets `frame.pictType` to NONE before encoding (so keyframes can't be forced through it), opens
 * lazily on the first frame and can't change the bitrate.
 *
 * Latency design: no lookahead, no B-frames, no frame reordering, no encoder-side buffering – every
 * encode() returns the packet of exactly that frame (software encoders); CBR-ish rate control with a
 * small (500 ms) buffer. Keyframes only where the caller forces them (`encode(f, { keyframe })`: the
 * keyframe policy decides first frame, joins, PLI/FIR and the periodic interval), plus the one a
 * re-open at a new bitrate starts with, reported as `keyframeCause: 'reopen'`.
 *
 * VP8 temporal layers (`temporalLayers`, default 2): libvpx encodes a fixed layer pattern that
 * FFmpeg restarts at every forced keyframe and at every open; FFmpeg does not say which layer a
 * packet is, so the encoder follows the same counter (see temporal-layers.ts) and labels each
 * frame with its `temporalLayer` and `layerSync`.
 */
import {
  RTP_VIDEO_CLOCK_RATE_HZ,
  errorMessage,
  silentLogger,
  type Logger,
  type VideoCodec,
} from '@robocam/types';
import { keyframeWithParamSets } from '../h264.js';
import { CodecSession, type RawPacket } from './codec-session.js';
import {
  EncodeFailedError,
  EncoderBusyError,
  EncoderClosedError,
  InvalidFrameError,
  type EncoderAttempt,
} from './errors.js';
import type { Implementation, ImplementationName } from './implementations.js';
import { openEncoder, type ProbeResult } from './probe.js';
import {
  checkBitrateKbps,
  clampBitrateKbps,
  frameMismatch,
  resolveEncoderSettings,
  type BitrateUpdateMode,
  type EncodeOptions,
  type EncodedFrame,
  type EncoderInputFrame,
  type KeyframeCause,
  type ResolvedVideoEncoderSettings,
  type VideoEncoderSettings,
  type VideoEncoderStats,
} from './settings.js';
import { TEMPORAL_PATTERNS, type TemporalLayerCount, type TemporalPattern } from './temporal-layers.js';

interface PendingFrame {
  timestampMs: number;
  monotonicMs: number;
  startedAt: number;
  forced: boolean;
  /** Position in the temporal-layer period at which the frame went into the codec. */
  layerPosition: number;
}

/**
 * Encodes the frames of one camera for all of its viewers. Create with {@link VideoEncoder.create};
 * call encode() for each frame (one at a time: check {@link busy} and drop frames while it is
 * true), `encode(f, { keyframe: true })` where a keyframe is wanted, setBitrate() from congestion
 * control, close() when done.
 */
export class VideoEncoder {
  /** Codec produced. */
  readonly codec: VideoCodec;
  /** FFmpeg encoder in use: `'libvpx'`, `'libx264'`, `'h264_v4l2m2m'`, `'h264_vaapi'` or `'h264_nvenc'`. */
  readonly implementation: ImplementationName;
  /** Whether {@link implementation} is a hardware encoder. */
  readonly hardware: boolean;
  /** How setBitrate() takes effect with this implementation. */
  readonly bitrateUpdate: BitrateUpdateMode;
  /** Settings with defaults applied (bitrateKbps is the initial bitrate). */
  readonly settings: ResolvedVideoEncoderSettings;
  /** Implementations that were tried before {@link implementation} and why they were skipped. */
  readonly fallbacks: readonly EncoderAttempt[];

  readonly #impl: Implementation;
  readonly #logger: Logger;
  readonly #pattern: TemporalPattern;
  /** Position of the next frame in the layer pattern: FFmpeg's libvpxenc `current_temporal_idx`,
   * which is 0 at open, 0 for a forced keyframe, and advanced after each encode call. */
  #layerPosition = 0;
  /** An encode failed with layers on: where FFmpeg's counter stands is unknown, so the next frame
   * is forced to be a keyframe, which restarts the pattern at a known point. */
  #layerPositionLost = false;
  #session: CodecSession;
  /** Why the current session was opened: its first keyframe is reported with this cause. */
  #sessionCause: 'start' | 'reopen' = 'start';
  #h264ProfileLevelId: string | undefined;
  /** Latest SPS+PPS (Annex B), re-inserted before keyframes that lack them. */
  #paramSets: Buffer | undefined;
  #targetKbps: number;
  /** libvpx timestamp scaling: target / session bitrate. */
  #ptsScale = 1;
  /** Target bitrate not yet applied to the session (in-place / reinit modes). */
  #pendingKbps: number | undefined;
  #lastReinitAt = -Infinity;
  #nextPts = 0n;
  #lastInputMonotonicMs: number | undefined;
  #sequence = 0;
  readonly #pending = new Map<bigint, PendingFrame>();
  #inFlight: Promise<EncodedFrame[]> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #stats: VideoEncoderStats;

  private constructor(
    impl: Implementation,
    settings: ResolvedVideoEncoderSettings,
    session: CodecSession,
    probed: ProbeResult,
    fallbacks: readonly EncoderAttempt[],
    logger: Logger,
  ) {
    this.#impl = impl;
    this.#logger = logger;
    this.#pattern = TEMPORAL_PATTERNS[settings.temporalLayers];
    this.codec = settings.codec;
    this.implementation = impl.name;
    this.hardware = impl.hardware;
    this.bitrateUpdate = impl.bitrateUpdate;
    this.settings = settings;
    this.fallbacks = fallbacks;
    this.#session = session;
    this.#targetKbps = settings.bitrateKbps;
    this.#h264ProfileLevelId = probed.profileLevelId;
    this.#paramSets = probed.paramSets;
    this.#stats = {
      framesIn: 0,
      framesOut: 0,
      keyframes: 0,
      keyframesRequested: 0,
      bytesOut: 0,
      busyRejections: 0,
      reinits: 0,
      errors: 0,
      bitrateKbps: settings.bitrateKbps,
    };
  }

  /**
   * Open an encoder. For H.264 each candidate implementation is probed by opening it and encoding a
   * test frame (this also tells {@link h264ProfileLevelId}). Rejects with
   * `InvalidEncoderSettingsError` or `EncoderUnavailableError`.
   */
  static async create(settings: VideoEncoderSettings): Promise<VideoEncoder> {
    const s = resolveEncoderSettings(settings);
    const logger = settings.logger ?? silentLogger;
    if (settings.bitrateKbps !== undefined && s.bitrateKbps !== settings.bitrateKbps) {
      logger.debug({ requestedKbps: settings.bitrateKbps, bitrateKbps: s.bitrateKbps }, 'bitrate clamped');
    }
    if (settings.temporalLayers !== undefined && s.temporalLayers !== settings.temporalLayers) {
      logger.debug(
        { codec: s.codec, requested: settings.temporalLayers, temporalLayers: s.temporalLayers },
        'temporal layers ignored (VP8 only)',
      );
    }
    const { impl, session, probed, fallbacks } = await openEncoder(s, logger);
    return new VideoEncoder(impl, s, session, probed, fallbacks, logger);
  }

  /**
   * H.264 only: the RFC 6184 profile-level-id the encoder really emits (from the SPS of the probe
   * at create(), updated from the SPS of real keyframes), e.g. `'42c01f'`. For the SDP fmtp line.
   */
  get h264ProfileLevelId(): string | undefined {
    return this.#h264ProfileLevelId;
  }

  /** An encode() is running; a further encode() would reject with `EncoderBusyError`. */
  get busy(): boolean {
    return this.#inFlight !== undefined;
  }

  /** close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * VP8 temporal layers in effect (1, 2 or 3; always 1 for H.264). Layer ids repeat 0,1 (2 layers)
   * or 0,2,1,2 (3 layers) from every keyframe; see `EncodedFrame.temporalLayer` / `layerSync`.
   */
  get temporalLayers(): TemporalLayerCount {
    return this.#pattern.layers;
  }

  /** Current target bitrate (kbit/s). */
  get bitrateKbps(): number {
    return this.#targetKbps;
  }

  /** Snapshot of the counters. */
  get stats(): Readonly<VideoEncoderStats> {
    return { ...this.#stats };
  }

  /**
   * Change the target bitrate (kbit/s, clamped to [100, 20000]) without recreating the encoder;
   * takes effect from the next frame (see {@link bitrateUpdate} for how). Throws
   * `InvalidEncoderSettingsError` unless `kbps` is a positive number. No-op after close().
   */
  setBitrate(kbps: number): void {
    checkBitrateKbps(kbps, 'bitrate');
    if (this.#closed) return;
    const target = clampBitrateKbps(kbps);
    if (target === this.#targetKbps) return;
    this.#logger.debug(
      { fromKbps: this.#targetKbps, bitrateKbps: target, mode: this.bitrateUpdate },
      'encoder bitrate changed',
    );
    this.#targetKbps = target;
    this.#stats.bitrateKbps = target;
    if (this.bitrateUpdate === 'timestamp-scaling') {
      this.#ptsScale = target / this.#session.kbps;
    } else {
      // Applied by the next encode() (never while the worker thread is inside the codec).
      this.#pendingKbps = target === this.#session.kbps ? undefined : target;
    }
  }

  /**
   * Tells the encoder a frame was deliberately not encoded (to bring the bitrate down): its time is
   * left out of the encoder's timeline, so the next frame is not given the skipped frame's bits
   * too. Frames missing for other reasons (a busy encoder, a slow camera) are simply not encoded:
   * their time goes to the next frame, as a real frame interval would. Without this, skipping half
   * the frames made libvpx (which sizes a frame by its duration) double every kept frame, and the
   * skipping never stopped (measured: 8 fps at 700 kbit/s at 640x360, where 30 fps fit).
   */
  skip(monotonicMs: number): void {
    if (this.#lastInputMonotonicMs === undefined || monotonicMs > this.#lastInputMonotonicMs) {
      this.#lastInputMonotonicMs = monotonicMs;
    }
  }

  /**
   * Encode one frame. Resolves with the encoded frames that became ready – for the software
   * encoders exactly one, the frame's own. Only one call may run at a time: a call while
   * {@link busy} rejects with `EncoderBusyError` (the caller drops the frame). The frame data is
   * copied before this returns. Rejects with `EncoderClosedError`, `InvalidFrameError` or
   * `EncodeFailedError`.
   */
  encode(frame: EncoderInputFrame, options: EncodeOptions = {}): Promise<EncodedFrame[]> {
    if (this.#closed) return Promise.reject(new EncoderClosedError());
    if (this.#inFlight) {
      this.#stats.busyRejections += 1;
      return Promise.reject(new EncoderBusyError());
    }
    const invalid = frameMismatch(frame, this.settings);
    if (invalid !== undefined) return Promise.reject(new InvalidFrameError(invalid));
    const startedAt = performance.now();
    try {
      // Synchronous copy: the caller's buffer is free again when this returns.
      this.#session.load(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength));
    } catch (e) {
      this.#stats.errors += 1;
      return Promise.reject(
        new EncodeFailedError(`loading the frame failed: ${errorMessage(e)}`, { cause: e }),
      );
    }
    const pending: PendingFrame = {
      timestampMs: frame.timestampMs,
      monotonicMs: frame.monotonicMs,
      startedAt,
      forced: options.keyframe === true,
      layerPosition: 0,
    };
    const run = this.#encodeLoaded(pending).finally(() => {
      this.#inFlight = undefined;
    });
    this.#inFlight = run;
    return run;
  }

  async #encodeLoaded(frame: PendingFrame): Promise<EncodedFrame[]> {
    this.#stats.framesIn += 1;
    if (frame.forced) this.#stats.keyframesRequested += 1;
    let keyframe = frame.forced || this.#layerPositionLost;
    const raw: RawPacket[] = [];
    try {
      if (this.#needsReinit(keyframe)) {
        const flushed = await this.#reinit();
        if (flushed) {
          raw.push(...flushed);
          keyframe = false; // a freshly opened encoder starts with a keyframe anyway
        }
      } else if (this.#pendingKbps !== undefined && this.bitrateUpdate === 'in-place') {
        this.#session.setBitrate(this.#pendingKbps);
        this.#pendingKbps = undefined;
      }
      const { pts, duration } = this.#timestamps(frame.monotonicMs);
      // FFmpeg restarts the pattern for a frame sent with pict_type I (a new session is at 0).
      if (keyframe) this.#layerPosition = 0;
      frame.layerPosition = this.#layerPosition;
      this.#pending.set(pts, frame);
      this.#layerPositionLost = false;
      const encoding = this.#session.encode(pts, duration, keyframe);
      // Advanced once per encode call, as libvpxenc.c does after vpx_codec_encode.
      this.#layerPosition = (this.#layerPosition + 1) % this.#pattern.layerIds.length;
      raw.push(...(await encoding));
    } catch (e) {
      this.#stats.errors += 1;
      // Did FFmpeg's counter advance? Unknowable: restart the pattern with the next frame.
      if (this.#pattern.layers > 1) this.#layerPositionLost = true;
      throw new EncodeFailedError(`${this.implementation} failed to encode: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    return raw.map((p) => this.#finish(p));
  }

  /** Whether to re-open the encoder (at the target bitrate) before this frame. */
  #needsReinit(keyframe: boolean): boolean {
    // Re-opens that cost an extra keyframe are rate limited (also retries after a failed re-open).
    const mayForce = performance.now() - this.#lastReinitAt >= 1000;
    if (this.bitrateUpdate === 'timestamp-scaling') {
      const k = this.#ptsScale;
      return (keyframe && Math.abs(k - 1) > 0.05) || (mayForce && (k < 0.25 || k > 4));
    }
    if (this.bitrateUpdate === 'reinit-at-keyframe' && this.#pendingKbps !== undefined) {
      return keyframe || (mayForce && this.#pendingKbps <= this.#session.kbps * 0.8);
    }
    return false;
  }

  /** Re-open at the target bitrate. Returns the old session's leftover packets, or undefined if the
   * new session could not be opened (then the old one stays in use). */
  async #reinit(): Promise<RawPacket[] | undefined> {
    const old = this.#session;
    const kbps = this.#targetKbps;
    let next: CodecSession;
    try {
      next = await CodecSession.open(this.#impl, this.settings, kbps);
    } catch (e) {
      this.#logger.warn(
        { implementation: this.implementation, bitrateKbps: kbps, keptKbps: old.kbps, err: errorMessage(e) },
        'encoder re-open failed; keeping the old bitrate',
      );
      this.#lastReinitAt = performance.now();
      return undefined;
    }
    next.loadFrom(old);
    const leftovers = await old.flush().catch(() => []);
    old.free();
    this.#session = next;
    this.#sessionCause = 'reopen';
    this.#layerPosition = 0; // a newly opened libvpxenc starts its layer pattern over
    this.#ptsScale = 1;
    this.#pendingKbps = undefined;
    this.#lastReinitAt = performance.now();
    this.#stats.reinits += 1;
    this.#logger.info(
      { implementation: this.implementation, fromKbps: old.kbps, bitrateKbps: kbps },
      'encoder re-opened at a new bitrate',
    );
    // Packets of the old session are no session's first any more.
    return leftovers.map((p) => ({ ...p, first: false }));
  }

  /**
   * Encoder timestamps (90 kHz) from monotonic capture times: strictly increasing (libvpx requires
   * it), each frame lasting the time since the previous frame, bounded to [¼, 4] nominal frame
   * intervals (so a capture stall does not hand one frame seconds worth of bits), times the libvpx
   * bitrate scale.
   */
  #timestamps(monotonicMs: number): { pts: bigint; duration: bigint } {
    const nominal = RTP_VIDEO_CLOCK_RATE_HZ / this.settings.fps;
    let ticks = nominal;
    if (this.#lastInputMonotonicMs !== undefined) {
      const delta = (monotonicMs - this.#lastInputMonotonicMs) * (RTP_VIDEO_CLOCK_RATE_HZ / 1000);
      ticks = delta > 0 ? Math.min(nominal * 4, Math.max(nominal / 4, delta)) : nominal;
    }
    this.#lastInputMonotonicMs = monotonicMs;
    const duration = BigInt(Math.max(1, Math.round(ticks * this.#ptsScale)));
    const pts = this.#nextPts;
    this.#nextPts += duration;
    return { pts, duration };
  }

  #finish(p: RawPacket): EncodedFrame {
    let info = this.#pending.get(p.pts);
    // Forget this frame's entry and any older ones (frames the encoder dropped).
    for (const [pts, pending] of this.#pending) {
      if (pts > p.pts) break;
      info ??= pending;
      this.#pending.delete(pts);
    }
    const encodeMs = info ? performance.now() - info.startedAt : 0;
    let data = p.data;
    let keyframeCause: KeyframeCause | undefined;
    if (p.keyframe) {
      if (this.codec === 'h264') data = this.#withParamSets(data);
      keyframeCause = info?.forced === true ? 'forced' : p.first ? this.#sessionCause : 'encoder';
      this.#stats.keyframes += 1;
    }
    // A keyframe replaces every reference buffer: layer 0 for everyone, wherever it fell.
    const position = info?.layerPosition ?? 0;
    const temporalLayer = p.keyframe ? 0 : (this.#pattern.layerIds[position] ?? 0);
    const layerSync = p.keyframe || (this.#pattern.sync[position] ?? false);
    this.#stats.framesOut += 1;
    this.#stats.bytesOut += data.length;
    return {
      data,
      keyframe: p.keyframe,
      keyframeCause,
      timestampMs: info?.timestampMs ?? 0,
      monotonicMs: info?.monotonicMs ?? this.#lastInputMonotonicMs ?? 0,
      sequence: this.#sequence++,
      encodeMs,
      temporalLayer,
      layerSync,
    };
  }

  /** Make sure an H.264 keyframe starts with SPS and PPS; track the profile-level-id. */
  #withParamSets(accessUnit: Buffer): Buffer {
    const known = this.#paramSets ?? this.#session.extradata;
    const { data, carried } = keyframeWithParamSets(accessUnit, known);
    if (carried === undefined) {
      if (known === undefined) {
        this.#logger.warn({ implementation: this.implementation }, 'H.264 keyframe without SPS/PPS');
      }
      return data;
    }
    this.#paramSets = carried.annexB;
    if (carried.profileLevelId !== this.#h264ProfileLevelId) {
      this.#logger.debug(
        { profileLevelId: carried.profileLevelId, previous: this.#h264ProfileLevelId ?? 'unknown' },
        'encoder profile-level-id changed',
      );
      this.#h264ProfileLevelId = carried.profileLevelId;
    }
    return data;
  }

  /**
   * Release the encoder. Waits for a running encode() to finish first. Idempotent; encode() after
   * close() rejects with `EncoderClosedError`.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight) await this.#inFlight.catch(() => undefined);
    this.#session.free();
    this.#pending.clear();
    this.#logger.debug(
      { implementation: this.implementation, framesOut: this.#stats.framesOut },
      'encoder closed',
    );
  }
}
