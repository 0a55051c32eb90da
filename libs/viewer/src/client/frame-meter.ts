import { decodeTimecode, timecodeGeometry } from '@robocam/testpattern';
import { frameCaptureWallMs } from './capture-time.js';
import { median } from './stats.js';

/**
 * How a glass-to-glass latency was measured: `capture-time` from the frame's capture time the
 * browser derives from the sender's RTP (abs-capture-time, RTCP sender reports), any source;
 * `timecode` from the capture time the test pattern draws into the frame.
 */
export type LatencyMethod = 'capture-time' | 'timecode';

/** What the meter knows about the frames a `<video>` element displayed. */
export interface FrameReading {
  /** Frames presented for composition so far (rVFC `presentedFrames`). */
  framesPresented: number;
  /** Presented frames per second over the last second. */
  fps: number | undefined;
  /**
   * Median glass-to-glass latency over the last ~30 frames, in ms: from the frames' capture time
   * when the browser gives one, else from the timecode strip.
   */
  latencyMs: number | undefined;
  /** Which method `latencyMs` comes from; undefined with no latency. */
  latencyMethod: LatencyMethod | undefined;
  /** Each method's median on its own (both, on the test pattern in Chromium), in ms. */
  captureTimeLatencyMs: number | undefined;
  timecodeLatencyMs: number | undefined;
  /** Median time from the last packet's arrival to display (jitter buffer, decode, render), in ms. */
  receiveToDisplayMs: number | undefined;
  /** Size of the last presented frame. */
  width: number | undefined;
  height: number | undefined;
  /** performance.now() of the first and the last presented frame. */
  firstFrameAt: number | undefined;
  lastFrameAt: number | undefined;
  /** Whether recent frames carried a readable timecode strip. */
  timecode: boolean;
}

export interface FrameMeterSettings {
  /** Sender clock minus local clock in ms, once estimated (see ClockOffsetEstimator). */
  clockOffsetMs: () => number | undefined;
  /** The receiver of the video, for the frames' capture time (abs-capture-time); none: not used. */
  receiver?: () => RTCRtpReceiver | undefined;
  /** Called after every presented frame. */
  onFrame?: () => void;
}

const WINDOW = 30;
/** After this many frames without a timecode, only every GIVE_UP_STRIDE-th frame is tried. */
const GIVE_UP_AFTER = 30;
const GIVE_UP_STRIDE = 30;

/**
 * Watches every frame a `<video>` presents (`requestVideoFrameCallback`): counts them, and reads
 * the test pattern's timecode strip — only its rows, drawn into a small canvas — to measure
 * glass-to-glass latency: the time the frame is expected on screen, on the sender's clock
 * (local time + clock offset), minus the capture time the sender drew into the frame.
 */
export class FrameMeter {
  readonly #video: HTMLVideoElement;
  readonly #settings: FrameMeterSettings;
  readonly #canvas = document.createElement('canvas');
  #context: CanvasRenderingContext2D | null = null;
  #handle: number | undefined;
  #stopped = false;
  readonly #latencies: number[] = [];
  readonly #captureLatencies: number[] = [];
  readonly #browserDelays: number[] = [];
  readonly #presentations: { at: number; presented: number }[] = [];
  #misses = 0;
  #reading: FrameReading = {
    framesPresented: 0,
    fps: undefined,
    latencyMs: undefined,
    latencyMethod: undefined,
    captureTimeLatencyMs: undefined,
    timecodeLatencyMs: undefined,
    receiveToDisplayMs: undefined,
    width: undefined,
    height: undefined,
    firstFrameAt: undefined,
    lastFrameAt: undefined,
    timecode: false,
  };

  constructor(video: HTMLVideoElement, settings: FrameMeterSettings) {
    this.#video = video;
    this.#settings = settings;
  }

  get reading(): FrameReading {
    return this.#reading;
  }

  start(): void {
    if (this.#stopped || this.#handle !== undefined) return;
    if (typeof this.#video.requestVideoFrameCallback !== 'function') {
      this.#fallback();
      return;
    }
    this.#handle = this.#video.requestVideoFrameCallback(this.#onFrame);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#handle !== undefined && typeof this.#video.cancelVideoFrameCallback === 'function') {
      this.#video.cancelVideoFrameCallback(this.#handle);
    }
    this.#handle = undefined;
  }

  readonly #onFrame = (now: DOMHighResTimeStamp, metadata: VideoFrameCallbackMetadata): void => {
    if (this.#stopped) return;
    this.#handle = this.#video.requestVideoFrameCallback(this.#onFrame);
    const wallNow = Date.now();
    const perfNow = performance.now();
    const presentations = this.#presentations;
    presentations.push({ at: now, presented: metadata.presentedFrames });
    while (presentations.length > 2 && (presentations[0] as { at: number }).at < now - 1000)
      presentations.shift();
    const first = presentations[0] as { at: number; presented: number };
    const span = now - first.at;

    if (metadata.receiveTime !== undefined) {
      push(this.#browserDelays, metadata.expectedDisplayTime - metadata.receiveTime);
    }
    const displayWallMs = wallNow + (metadata.expectedDisplayTime - perfNow);
    const timecodeRead = this.#readTimecode(metadata, displayWallMs);
    const captureLatencyMs = this.#captureLatency(metadata, displayWallMs);
    if (captureLatencyMs !== undefined) push(this.#captureLatencies, captureLatencyMs);
    const captureTimeLatencyMs = median(this.#captureLatencies);
    const timecodeLatencyMs = median(this.#latencies);
    const latencyMethod: LatencyMethod | undefined =
      captureTimeLatencyMs !== undefined
        ? 'capture-time'
        : timecodeLatencyMs !== undefined
          ? 'timecode'
          : undefined;
    this.#reading = {
      framesPresented: metadata.presentedFrames,
      fps: span >= 500 ? ((metadata.presentedFrames - first.presented) * 1000) / span : this.#reading.fps,
      latencyMs: latencyMethod === 'capture-time' ? captureTimeLatencyMs : timecodeLatencyMs,
      latencyMethod,
      captureTimeLatencyMs,
      timecodeLatencyMs,
      receiveToDisplayMs: median(this.#browserDelays),
      width: metadata.width,
      height: metadata.height,
      firstFrameAt: this.#reading.firstFrameAt ?? now,
      lastFrameAt: now,
      timecode: timecodeRead ?? this.#reading.timecode,
    };
    this.#settings.onFrame?.();
  };

  /**
   * The frame's latency from its capture time in RTP, or undefined when the browser has none.
   * rVFC's `captureTime` is on this page's clock already (Chromium converts the sender's with its
   * own RTCP-based estimate; it gives one only when it can measure the round trip, which a
   * receive-only peer often cannot). Otherwise the abs-capture-time of the frame (the receiver's
   * synchronization source) is on the sender's clock: corrected by the page's ping-based offset,
   * as the timecode strip is.
   */
  #captureLatency(metadata: VideoFrameCallbackMetadata, displayWallMs: number): number | undefined {
    if (metadata.captureTime !== undefined) return metadata.expectedDisplayTime - metadata.captureTime;
    const receiver = this.#settings.receiver?.();
    const offset = this.#settings.clockOffsetMs();
    if (receiver === undefined || offset === undefined || metadata.rtpTimestamp === undefined)
      return undefined;
    const captureWallMs = frameCaptureWallMs(receiver, metadata.rtpTimestamp);
    return captureWallMs === undefined ? undefined : displayWallMs + offset - captureWallMs;
  }

  /** Returns whether a timecode was read, or undefined when this frame was skipped. */
  #readTimecode(metadata: VideoFrameCallbackMetadata, displayWallMs: number): boolean | undefined {
    if (this.#misses >= GIVE_UP_AFTER && metadata.presentedFrames % GIVE_UP_STRIDE !== 0) return undefined;
    const { width, height } = metadata;
    let stripHeight: number;
    try {
      stripHeight = timecodeGeometry(width, height).stripHeight;
    } catch {
      return false; // too small or odd-sized: no strip to read
    }
    if (stripHeight < 2) return false;
    if (this.#canvas.width !== width || this.#canvas.height !== stripHeight) {
      this.#canvas.width = width;
      this.#canvas.height = stripHeight;
      this.#context = null;
    }
    this.#context ??= this.#canvas.getContext('2d', { willReadFrequently: true, alpha: false });
    const context = this.#context;
    if (context === null) return false;
    context.drawImage(this.#video, 0, 0, width, stripHeight, 0, 0, width, stripHeight);
    const timecode = decodeTimecode(context.getImageData(0, 0, width, stripHeight).data, width, height);
    if (timecode === null) {
      this.#misses += 1;
      if (this.#misses >= GIVE_UP_AFTER) this.#latencies.length = 0;
      return false;
    }
    this.#misses = 0;
    const offset = this.#settings.clockOffsetMs();
    if (offset !== undefined) push(this.#latencies, displayWallMs + offset - timecode.timestampMs);
    return true;
  }

  /** Browsers without requestVideoFrameCallback: sizes only, sampled twice a second. */
  #fallback(): void {
    const timer = setInterval(() => {
      if (this.#stopped) {
        clearInterval(timer);
        return;
      }
      const { videoWidth, videoHeight } = this.#video;
      if (videoWidth === 0) return;
      const now = performance.now();
      this.#reading = {
        ...this.#reading,
        width: videoWidth,
        height: videoHeight,
        firstFrameAt: this.#reading.firstFrameAt ?? now,
        lastFrameAt: this.#video.paused ? this.#reading.lastFrameAt : now,
      };
      this.#settings.onFrame?.();
    }, 500);
  }
}

function push(window: number[], value: number): void {
  window.push(value);
  if (window.length > WINDOW) window.shift();
}
