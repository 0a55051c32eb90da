import type { TileSnapshot } from '../page-hook.js';
import type { SenderClock } from './clock.js';
import { h } from './dom.js';
import { FrameMeter } from './frame-meter.js';
import {
  readInboundSample,
  senderLinkStats,
  streamStats,
  type InboundSample,
  type SenderLinkStats,
  type StreamStats,
} from './stats.js';
import type { SessionCloseInfo } from './status.js';
import { pinToLiveEdge, type WatchSession } from './watch-session.js';

/** A frame newer than this means "playing". */
const PLAYING_WITHIN_MS = 2000;
/** A connected session presenting nothing for this long is replaced. */
const STALL_MS = 4000;
/** A session without a first frame after this long is given up. */
const FIRST_FRAME_TIMEOUT_MS = 12_000;
/** Jitter buffer delay above this for JITTER_SAMPLES seconds in a row triggers a resync. */
const JITTER_LIMIT_MS = 150;
const JITTER_SAMPLES = 3;

/** The part of a tile's snapshot that describes its active playback. */
export type PlaybackSnapshot = Omit<
  TileSnapshot,
  | 'key'
  | 'sender'
  | 'senderId'
  | 'camera'
  | 'label'
  | 'status'
  | 'statusText'
  | 'sessionsStarted'
  | 'resyncs'
  | 'control'
  | 'firstFrameAt'
  | 'doctor'
>;

/** A number rounded to 0.1 for the test hook; null when unknown. */
export function roundOrNull(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : Math.round(value * 10) / 10;
}

/**
 * What one session shows: its `<video>`, the frame meter on it (fps, timecode → latency), the
 * clock pings through the session, and the receiver's stats sampled once a second.
 */
export class Playback {
  readonly video: HTMLVideoElement;
  readonly meter: FrameMeter;
  session!: WatchSession;
  receiver: RTCRtpReceiver | undefined;
  previous: InboundSample | undefined;
  stats: StreamStats | undefined;
  #highJitterSamples = 0;
  sampling = false;
  #pingTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    /** The sender's clock estimate; the session's pings feed it. */
    readonly clock: SenderClock,
    onFirstFrame: () => void,
  ) {
    this.video = h('video', { attrs: { 'aria-hidden': 'true' } });
    this.video.muted = true;
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.disablePictureInPicture = true;
    let first = true;
    this.meter = new FrameMeter(this.video, {
      clockOffsetMs: () => clock.offsetMs,
      receiver: () => this.receiver,
      onFrame: () => {
        if (!first) return;
        first = false;
        onFirstFrame();
      },
    });
  }

  get playing(): boolean {
    const last = this.meter.reading.lastFrameAt;
    return last !== undefined && performance.now() - last < PLAYING_WITHIN_MS;
  }

  attach(stream: MediaStream, receiver: RTCRtpReceiver): void {
    this.receiver = receiver;
    this.video.srcObject = stream;
    this.meter.start();
    this.video.play().catch(() => {
      // Muted autoplay is allowed everywhere; if a browser still refuses, a click on the tile
      // (a user gesture) plays it: see TileView's click handler.
    });
  }

  /** Pings the sender through this session: three quick ones, then every 2 s. */
  startPinging(): void {
    const clock = this.clock;
    let count = 0;
    const ping = (): void => {
      if (this.session.closed) return;
      count += 1;
      this.session.ping().then(
        (estimate) => {
          clock.add(estimate);
        },
        () => undefined, // a lost ping only delays the next estimate
      );
      this.#pingTimer = setTimeout(ping, count < 3 ? 300 : 2000);
    };
    ping();
  }

  async sample(): Promise<void> {
    if (this.receiver === undefined || this.sampling || this.session.closed) return;
    this.sampling = true;
    try {
      const sample = readInboundSample((await this.receiver.getStats()).values(), performance.now());
      if (sample === undefined) return;
      this.stats = streamStats(this.previous, sample);
      this.previous = sample;
    } catch {
      // The connection closed under us.
    } finally {
      this.sampling = false;
    }
  }

  /**
   * Why the session should be given up, if it should: no first frame in time, or a connected
   * session whose video stalled.
   */
  watchdog(now: number): SessionCloseInfo | undefined {
    if (this.session.closed) return undefined;
    const last = this.meter.reading.lastFrameAt;
    if (last === undefined && now - this.session.startedAt > FIRST_FRAME_TIMEOUT_MS) {
      return { origin: 'failure', code: 'connect-timeout', message: 'no video from the sender' };
    }
    if (last !== undefined && this.session.state === 'connected' && now - last > STALL_MS) {
      return { origin: 'failure', code: 'peer-failed', message: 'video stalled' };
    }
    return undefined;
  }

  /**
   * Counts the latest stats sample: after JITTER_SAMPLES in a row over JITTER_LIMIT_MS, re-pins
   * the receiver to the live edge and returns the jitter buffer delay (ms), else undefined.
   */
  jitterBufferGrew(): number | undefined {
    const jitter = this.stats?.jitterBufferMs;
    if (jitter === undefined || jitter <= JITTER_LIMIT_MS) {
      this.#highJitterSamples = 0;
      return undefined;
    }
    this.#highJitterSamples += 1;
    if (this.#highJitterSamples < JITTER_SAMPLES) return undefined;
    this.#highJitterSamples = 0;
    if (this.receiver !== undefined) pinToLiveEdge(this.receiver);
    return jitter;
  }

  /** What the sender reports of this playback's camera (undefined before its first report). */
  get senderStats(): SenderLinkStats | undefined {
    return senderLinkStats(this.session.linkStats, this.session.cameras[0] ?? '');
  }

  /** What the test hook shows of this playback. */
  snapshot(): PlaybackSnapshot {
    const reading = this.meter.reading;
    const stats = this.stats;
    const sender = this.senderStats;
    return {
      session: this.session.id,
      framesPresented: reading.framesPresented,
      framesDecoded: this.previous?.framesDecoded ?? 0,
      fps: roundOrNull(reading.fps),
      decodedFps: roundOrNull(stats?.decodedFps),
      latencyMs: roundOrNull(reading.latencyMs),
      latencyMethod: reading.latencyMethod ?? null,
      captureTimeLatencyMs: roundOrNull(reading.captureTimeLatencyMs),
      timecodeLatencyMs: roundOrNull(reading.timecodeLatencyMs),
      receiveToDisplayMs: roundOrNull(reading.receiveToDisplayMs),
      clockOffsetMs: roundOrNull(this.clock.offsetMs),
      videoWidth: this.video.videoWidth,
      videoHeight: this.video.videoHeight,
      bitrateKbps: roundOrNull(stats?.bitrateKbps),
      packetLossPct: roundOrNull(stats?.packetLossPct),
      rttMs: roundOrNull(stats?.rttMs),
      jitterBufferMs: roundOrNull(stats?.jitterBufferMs),
      codec: stats?.codec ?? null,
      senderEstimateKbps: sender?.estimateKbps ?? null,
      senderCameraKbps: sender?.cameraKbps ?? null,
      senderEncodedWidth: sender?.encodedWidth ?? null,
      senderEncodedHeight: sender?.encodedHeight ?? null,
      senderLayer: sender?.layer ?? null,
      senderMaxLayer: sender?.maxLayer ?? null,
      senderQueueMs: sender?.queueMs ?? null,
      senderLossPct: sender?.lossPct ?? null,
      senderRttMs: sender?.rttMs ?? null,
      lastFrameAt: roundOrNull(reading.lastFrameAt),
      timeline: {
        offer: roundOrNull(this.session.startedAt) ?? 0,
        answer: roundOrNull(this.session.answeredAt),
        connected: roundOrNull(this.session.connectedAt),
        firstFrame: roundOrNull(reading.firstFrameAt),
      },
    };
  }

  /** What the test hook shows while no playback is active. */
  static readonly emptySnapshot: PlaybackSnapshot = {
    session: null,
    framesPresented: 0,
    framesDecoded: 0,
    fps: null,
    decodedFps: null,
    latencyMs: null,
    latencyMethod: null,
    captureTimeLatencyMs: null,
    timecodeLatencyMs: null,
    receiveToDisplayMs: null,
    clockOffsetMs: null,
    videoWidth: 0,
    videoHeight: 0,
    bitrateKbps: null,
    packetLossPct: null,
    rttMs: null,
    jitterBufferMs: null,
    codec: null,
    senderEstimateKbps: null,
    senderCameraKbps: null,
    senderEncodedWidth: null,
    senderEncodedHeight: null,
    senderLayer: null,
    senderMaxLayer: null,
    senderQueueMs: null,
    senderLossPct: null,
    senderRttMs: null,
    lastFrameAt: null,
    timeline: null,
  };

  dispose(): void {
    clearTimeout(this.#pingTimer);
    this.meter.stop();
    this.video.srcObject = null;
    this.video.remove();
  }
}
