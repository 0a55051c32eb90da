/**
 * A V4L2 camera as a live frame source: negotiates a mode, streams I420 frames with wall-clock
 * capture timestamps, never queues, and reopens the device by itself after it is lost.
 */
import { EventEmitter } from 'node:events';
import {
  Backoff,
  CloseOnce,
  InvalidStateError,
  errorMessage,
  silentLogger,
  type CameraStatus,
  type CloseInfo,
  type Logger,
  type RawVideoFrame,
} from '@robocam/types';
import type { CaptureBackend, CapturedPacket, CaptureStream, OpenedMode } from './capture-backend.js';
import { DropOldestQueue } from './drop-oldest-queue.js';
import {
  CaptureError,
  CaptureFailedError,
  InvalidSettingsError,
  UnsupportedModeError,
  isRecoverableError,
} from './errors.js';
import { FramePool } from './frame-pool.js';
import {
  describeFormats,
  describeRequest,
  negotiateMode,
  outputSizeFor,
  type ModeRequest,
  type PlannedMode,
} from './mode-negotiation.js';
import { NodeAvBackend } from './node-av-backend.js';
import { normalizeFormat } from './pixel-formats.js';
import { TimestampMapper, monotonicNowUs } from './timestamp-mapper.js';
import type { TypedEventEmitter } from './typed-emitter.js';
import type {
  CaptureFormat,
  CaptureMode,
  DiscoveryMethod,
  V4l2CameraStats,
  V4l2DeviceInfo,
} from './types.js';

/**
 * Reopen delays after a loss: 250, 500, 1000, 2000, 4000, 5000, 5000… ms by default. No jitter:
 * the device is local to this process, so there is no crowd of clients to spread out (jitter is for
 * reconnects to a shared server), and a camera replugged mid-wait comes back on a predictable
 * schedule.
 */
const REOPEN_BACKOFF = { factor: 2, jitter: 0 } as const;

export interface V4l2CameraSettings {
  /** Device node; a stable link such as `/dev/v4l/by-id/usb-…-video-index0` survives replugging. Default `/dev/video0`. */
  device?: string;
  /** Requested frame width; the output size once negotiated (see {@link V4l2Camera.width}). Default 1280. */
  width?: number;
  /** Requested frame height. Default 720. */
  height?: number;
  /** Requested frames per second; the driver's nearest rate is used. Default 30. */
  fps?: number;
  /** Capture format. Default `auto`: MJPEG above {@link mjpegAbovePixels} on USB cameras, raw otherwise. */
  format?: CaptureFormat;
  /**
   * Whether another capture size may be used and scaled to the requested size. When false the
   * device must offer the requested size exactly, else {@link UnsupportedModeError}. Default true.
   */
  allowScaling?: boolean;
  /** In `auto`, USB cameras use MJPEG for frames larger than this many pixels. Default 307200 (640x480). */
  mjpegAbovePixels?: number;
  /** I420 output buffers in rotation: a frame's `data` stays valid while `poolSize - 1` more frames are emitted. Default 4. */
  poolSize?: number;
  /** Captured frames kept waiting while one is converted; older ones are dropped. Default 1. */
  queueSize?: number;
  /** No frame for this long while streaming reports `lost` ("stalled"). Default 2000 ms or 5 frame intervals, whichever is longer. */
  stallTimeoutMs?: number;
  /** First delay before reopening a lost device; doubles up to {@link reopenMaxDelayMs}. Default 250 ms. */
  reopenDelayMs?: number;
  /** Longest delay between reopen attempts. Default 5000 ms. */
  reopenMaxDelayMs?: number;
  /** Where discovery reads formats from (see {@link DiscoverySettings}). Default `auto`. */
  discovery?: DiscoveryMethod;
  /** Replaces node-av (tests, other capture stacks). Default: node-av. */
  backend?: CaptureBackend;
  /**
   * Where losses, reopens, mode changes and errors are logged (pino's signature; pass the app's
   * logger or a child of it). Default `silentLogger`.
   */
  logger?: Logger;
}

/** Events of {@link V4l2Camera}; the same as robocam's `VideoSource`. */
export type V4l2CameraEvents = {
  /**
   * A captured frame (I420): `timestampMs` is the driver's capture time on the wall clock,
   * `monotonicMs` the same moment on `performance.now()`'s timeline. Listeners run synchronously;
   * copy `data` to keep it past the pool's rotation.
   */
  frame: (frame: RawVideoFrame) => void;
  /** Status changed, or the reason of `lost` changed; `detail` says why. */
  status: (status: CameraStatus, detail?: string) => void;
};

interface Pending {
  packet: CapturedPacket;
  timestampMs: number;
  monotonicMs: number;
}

interface Session {
  stream: CaptureStream;
  done: Promise<void>;
}

interface Counters {
  framesCaptured: number;
  framesEmitted: number;
  framesDropped: number;
  framesFailed: number;
  losses: number;
  recoveries: number;
  failedReopens: number;
}

/**
 * A V4L2 camera (USB/UVC, CSI, or any V4L2 capture node) captured with node-av.
 *
 * Structurally a robocam `VideoSource`: `kind` `v4l2`, `width`/`height`/`fps` of the emitted
 * frames, `status`, `start()`/`stop()`, and `frame`/`status` events. Call {@link negotiate} (or
 * use {@link openCamera}) before reading `width`/`height` to get the negotiated output size;
 * they are final from then on, or from the first {@link start}.
 */
export class V4l2Camera extends (EventEmitter as new () => TypedEventEmitter<V4l2CameraEvents>) {
  readonly kind = 'v4l2';
  /** The device node as given. */
  readonly device: string;
  readonly #request: Omit<ModeRequest, 'fixedOutput' | 'excludeUnknown'>;
  readonly #poolSize: number;
  readonly #queueSize: number;
  readonly #stallTimeoutMs: number;
  readonly #backend: CaptureBackend;
  readonly #backoff: Backoff;
  readonly #logger: Logger;
  readonly #closing = new CloseOnce();
  readonly #timestamps = new TimestampMapper();
  readonly #counters: Counters = {
    framesCaptured: 0,
    framesEmitted: 0,
    framesDropped: 0,
    framesFailed: 0,
    losses: 0,
    recoveries: 0,
    failedReopens: 0,
  };
  #width: number;
  #height: number;
  #fps: number;
  #outputFixed = false;
  #mode: CaptureMode | undefined;
  #status: CameraStatus = 'idle';
  #detail: string | undefined;
  #running = false;
  /** Bumped by start() and stop(): async work of an older epoch stands down. */
  #epoch = 0;
  #session: Session | undefined;
  #opening: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #lastPacketAt = 0;
  #pool: FramePool | undefined;
  #sequence = 0;
  #lastError: CaptureError | undefined;

  constructor({
    device = '/dev/video0',
    width = 1280,
    height = 720,
    fps = 30,
    format = 'auto',
    allowScaling = true,
    mjpegAbovePixels = 640 * 480,
    poolSize = 4,
    queueSize = 1,
    stallTimeoutMs,
    reopenDelayMs = 250,
    reopenMaxDelayMs = 5000,
    discovery = 'auto',
    backend,
    logger = silentLogger,
  }: V4l2CameraSettings = {}) {
    super();
    if (typeof device !== 'string' || device === '')
      throw new InvalidSettingsError('camera device must be a path such as /dev/video0');
    const integer = (name: string, value: number, min: number, max: number): void => {
      if (!Number.isInteger(value) || value < min || value > max) {
        throw new InvalidSettingsError(
          `camera ${name} must be an integer from ${min} to ${max}, got ${value}`,
        );
      }
    };
    integer('width', width, 16, 8192);
    integer('height', height, 16, 8192);
    integer('poolSize', poolSize, 2, 64);
    integer('queueSize', queueSize, 1, 64);
    integer('mjpegAbovePixels', mjpegAbovePixels, 0, 8192 * 8192);
    if (!Number.isFinite(fps) || fps <= 0 || fps > 240)
      throw new InvalidSettingsError(`camera fps must be above 0 and at most 240, got ${fps}`);
    const stall = stallTimeoutMs ?? Math.max(2000, 5000 / fps);
    if (!Number.isFinite(stall) || stall < 100)
      throw new InvalidSettingsError(`camera stallTimeoutMs must be at least 100, got ${stall}`);
    if (!(reopenDelayMs > 0) || !(reopenMaxDelayMs >= reopenDelayMs)) {
      throw new InvalidSettingsError(
        `camera reopen delays must satisfy 0 < reopenDelayMs (${reopenDelayMs}) ≤ reopenMaxDelayMs (${reopenMaxDelayMs})`,
      );
    }
    this.device = device;
    this.#request = { width, height, fps, format: normalizeFormat(format), allowScaling, mjpegAbovePixels };
    this.#poolSize = poolSize;
    this.#queueSize = queueSize;
    this.#stallTimeoutMs = stall;
    this.#logger = logger;
    this.#backend = backend ?? new NodeAvBackend({ discovery, logger });
    this.#backoff = new Backoff({
      initialDelayMs: reopenDelayMs,
      maxDelayMs: reopenMaxDelayMs,
      ...REOPEN_BACKOFF,
    });
    this.#width = even(width);
    this.#height = even(height);
    this.#fps = fps;
  }

  /** Width of emitted frames: the requested width until negotiated, then the negotiated output width. */
  get width(): number {
    return this.#width;
  }

  /** Height of emitted frames (see {@link width}). */
  get height(): number {
    return this.#height;
  }

  /** Frame rate: the requested rate until negotiated, then the rate the driver confirmed. */
  get fps(): number {
    return this.#fps;
  }

  get status(): CameraStatus {
    return this.#status;
  }

  /** Why the camera is in its status (for `lost`: the error message), if known. */
  get statusDetail(): string | undefined {
    return this.#detail;
  }

  /** The negotiated mode, once negotiated or opened; updated on every reopen. */
  get mode(): CaptureMode | undefined {
    return this.#mode;
  }

  /** The last error met while opening or streaming (also after recovery). */
  get lastError(): CaptureError | undefined {
    return this.#lastError;
  }

  /** True from the first {@link close} on. */
  get closed(): boolean {
    return this.#closing.closed;
  }

  /** Who closed the camera and why; undefined while open. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closing.info;
  }

  /** Whether start() was called and stop() was not. */
  get running(): boolean {
    return this.#running;
  }

  get stats(): V4l2CameraStats {
    return { ...this.#counters, timestampClock: this.#timestamps.clock };
  }

  /**
   * Finds the closest mode the device offers, opens it once to confirm what the driver gives, and
   * releases the device again. Fixes `width`/`height`/`fps`. Throws the typed errors
   * ({@link DeviceNotFoundError}, {@link PermissionDeniedError}, {@link DeviceBusyError},
   * {@link UnsupportedModeError}, {@link NotACaptureDeviceError}); after a recoverable one the
   * status is `lost` and {@link start} keeps retrying.
   */
  async negotiate(): Promise<CaptureMode> {
    this.#assertOpen();
    if (this.#running && this.#mode !== undefined) return this.#mode;
    let stream: CaptureStream;
    try {
      stream = await this.#openStream();
    } catch (error) {
      const typed = this.#typed(error);
      this.#lastError = typed;
      if (!this.#running && isRecoverableError(typed)) this.#setStatus('lost', typed.message);
      throw typed;
    }
    try {
      return this.#applyMode(stream.opened);
    } finally {
      await stream.close();
      if (!this.#running && this.#status === 'lost') this.#setStatus('idle');
    }
  }

  /**
   * Starts capturing. Idempotent. When the device is missing, busy or not permitted, resolves
   * anyway with status `lost` and keeps retrying; throws only for configuration errors
   * ({@link UnsupportedModeError}, {@link NotACaptureDeviceError}) and after {@link close}.
   */
  async start(): Promise<void> {
    this.#assertOpen();
    if (this.#running) return;
    this.#running = true;
    const epoch = ++this.#epoch;
    this.#sequence = 0;
    this.#backoff.reset();
    this.#outputFixed = true;
    try {
      await this.#connect(epoch);
    } catch (error) {
      if (epoch !== this.#epoch) return;
      const typed = this.#typed(error);
      this.#lastError = typed;
      if (!isRecoverableError(typed)) {
        this.#running = false;
        this.#epoch += 1;
        throw typed;
      }
      this.#setStatus('lost', typed.message);
      this.#scheduleReopen(epoch);
    }
  }

  /** Stops capturing and releases the device; waits for a read in progress (one frame interval). Idempotent. */
  async stop(): Promise<void> {
    if (!this.#running) {
      if (this.#status !== 'idle') this.#setStatus('idle');
      return;
    }
    this.#running = false;
    this.#epoch += 1;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#clearStallTimer();
    const opening = this.#opening;
    const session = this.#session;
    this.#session = undefined;
    if (opening !== undefined) await opening.catch(() => undefined);
    if (session !== undefined) await this.#closeSession(session);
    this.#setStatus('idle');
  }

  /**
   * Stops for good and releases the device; `start()`/`negotiate()` then throw `InvalidStateError`.
   * Idempotent: every call resolves when the first one has released the device. `info` says who
   * closed it (default: its owner, `local`).
   */
  close(info: CloseInfo = { origin: 'local', code: 'closed', message: 'camera closed' }): Promise<void> {
    return this.#closing.close(info, () => this.stop());
  }

  #assertOpen(): void {
    if (this.#closing.closed) throw new InvalidStateError(`camera ${this.device} is closed`);
  }

  #typed(error: unknown): CaptureError {
    if (error instanceof CaptureError) return error;
    return new CaptureFailedError(
      this.device,
      'capturing from',
      error instanceof Error ? error.message : String(error),
    );
  }

  #modeRequest(excludeUnknown = false): ModeRequest {
    return {
      ...this.#request,
      fixedOutput: this.#outputFixed ? { width: this.#width, height: this.#height } : undefined,
      excludeUnknown,
    };
  }

  /** Discovery, negotiation and opening; retries once without an MJPEG guess the driver refused. */
  async #openStream(): Promise<CaptureStream> {
    const info = await this.#backend.describe(this.device);
    const plan = negotiateMode(info, this.#modeRequest());
    try {
      return await this.#backend.open(this.device, plan);
    } catch (error) {
      if (!(error instanceof CaptureError) || error.errno !== 'EINVAL') throw error;
      if (plan.verified || plan.pixelFormat !== 'mjpeg') throw this.#refused(info, plan, error);
      this.#logger.debug(
        { device: this.device },
        'MJPEG guessed for an unnamed format was refused; trying without',
      );
      const second = negotiateMode(info, this.#modeRequest(true));
      try {
        return await this.#backend.open(this.device, second);
      } catch (retryError) {
        if (retryError instanceof CaptureError && retryError.errno === 'EINVAL')
          throw this.#refused(info, second, retryError);
        throw retryError;
      }
    }
  }

  #refused(info: V4l2DeviceInfo, plan: PlannedMode, error: CaptureError): UnsupportedModeError {
    const requested = describeRequest({
      format: plan.pixelFormat === '' ? 'auto' : plan.pixelFormat,
      width: plan.captureWidth,
      height: plan.captureHeight,
      fps: plan.fps,
    });
    return new UnsupportedModeError(
      this.device,
      requested,
      `the driver refused it (${error.message})`,
      describeFormats(info.formats),
    );
  }

  /** Records what the driver gave; fixes the output size on first use. */
  #applyMode(opened: OpenedMode): CaptureMode {
    if (!this.#outputFixed) {
      const output = outputSizeFor(opened.width, opened.height, this.#request.width, this.#request.height);
      this.#width = output.width;
      this.#height = output.height;
      this.#fps = opened.fps;
      this.#outputFixed = true;
    }
    const scales = opened.width !== this.#width || opened.height !== this.#height;
    if (scales && !this.#request.allowScaling) {
      throw new UnsupportedModeError(
        this.device,
        describeRequest({ ...this.#request, width: this.#width, height: this.#height }),
        `the driver delivers ${opened.width}x${opened.height} and scaling is off`,
        [],
      );
    }
    this.#mode = {
      pixelFormat: opened.pixelFormat,
      captureWidth: opened.width,
      captureHeight: opened.height,
      fps: opened.fps,
      outputWidth: this.#width,
      outputHeight: this.#height,
      decodes: opened.pixelFormat === 'mjpeg',
      scales,
    };
    return this.#mode;
  }

  async #connect(epoch: number): Promise<void> {
    const attempt = (async (): Promise<void> => {
      const stream = await this.#openStream();
      if (epoch !== this.#epoch || !this.#running) {
        await stream.close();
        return;
      }
      try {
        this.#applyMode(stream.opened);
      } catch (error) {
        await stream.close();
        throw error;
      }
      if (this.#pool?.width !== this.#width || this.#pool.height !== this.#height) {
        this.#pool = new FramePool(this.#width, this.#height, this.#poolSize);
      }
      this.#timestamps.reset();
      this.#startSession(stream, epoch);
    })();
    this.#opening = attempt;
    try {
      await attempt;
    } finally {
      if (this.#opening === attempt) this.#opening = undefined;
    }
  }

  #startSession(stream: CaptureStream, epoch: number): void {
    const mode = this.#mode;
    this.#logger.info(
      { device: this.device, mode: mode === undefined ? undefined : describeMode(mode) },
      'camera streaming',
    );
    const session: Session = { stream, done: Promise.resolve() };
    this.#session = session;
    this.#lastPacketAt = performance.now();
    this.#armStallTimer(epoch);
    session.done = this.#runSession(session, epoch);
  }

  /** Reads as fast as the driver delivers; converts the latest packet whenever the converter is free. */
  async #runSession(session: Session, epoch: number): Promise<void> {
    const { stream } = session;
    const current = (): boolean => epoch === this.#epoch && this.#session === session;
    const queue = new DropOldestQueue<Pending>(this.#queueSize, (item) => {
      stream.release(item.packet);
    });
    let converting: Promise<void> | undefined;
    const drain = async (): Promise<void> => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
        await this.#convertAndEmit(session, item, current);
      }
    };
    let failure: CaptureError | undefined;
    for (;;) {
      let packet: CapturedPacket;
      try {
        packet = await stream.read();
      } catch (error) {
        failure = this.#typed(error);
        break;
      }
      const wallNowMs = Date.now();
      const nowUs = monotonicNowUs();
      const performanceNowMs = performance.now();
      if (!current()) {
        stream.release(packet);
        break;
      }
      this.#counters.framesCaptured += 1;
      this.#lastPacketAt = performanceNowMs;
      this.#markLive();
      const { timestampMs, monotonicMs } = this.#timestamps.map(packet.timestampUs, {
        monotonicNowUs: nowUs,
        wallNowMs,
        performanceNowMs,
      });
      if (queue.push({ packet, timestampMs, monotonicMs }) !== undefined) this.#counters.framesDropped += 1;
      converting ??= drain().finally(() => {
        converting = undefined;
      });
    }
    queue.clear();
    await converting;
    if (failure === undefined || !current()) return;
    // The device failed under us: close, report, and start reopening.
    this.#session = undefined;
    this.#clearStallTimer();
    await stream.close().catch((error: unknown) => {
      this.#logger.warn({ device: this.device, err: errorMessage(error) }, 'closing the lost camera failed');
    });
    if (epoch !== this.#epoch) return;
    this.#counters.losses += 1;
    this.#lastError = failure;
    this.#logger.warn({ device: this.device, code: failure.code, err: failure.message }, 'camera lost');
    this.#setStatus('lost', failure.message);
    this.#scheduleReopen(epoch);
  }

  async #convertAndEmit(session: Session, item: Pending, current: () => boolean): Promise<void> {
    const pool = this.#pool;
    if (pool === undefined) {
      session.stream.release(item.packet);
      return;
    }
    const target = pool.current();
    try {
      await session.stream.convert(item.packet, target, pool.width, pool.height);
    } catch (error) {
      this.#counters.framesFailed += 1;
      this.#logger.debug({ device: this.device, err: errorMessage(error) }, 'frame skipped');
      return;
    } finally {
      session.stream.release(item.packet);
    }
    if (!current()) return;
    pool.commit();
    const frame: RawVideoFrame = {
      data: target,
      width: pool.width,
      height: pool.height,
      timestampMs: item.timestampMs,
      monotonicMs: item.monotonicMs,
      sequence: this.#sequence,
    };
    this.#sequence += 1;
    this.#counters.framesEmitted += 1;
    try {
      this.emit('frame', frame);
    } catch (error) {
      this.#logger.error({ device: this.device, err: errorMessage(error) }, 'a frame listener threw');
    }
  }

  #markLive(): void {
    if (this.#status === 'live') return;
    if (this.#status === 'lost') this.#counters.recoveries += 1;
    this.#backoff.reset();
    const mode = this.#mode;
    this.#setStatus('live', mode === undefined ? undefined : describeMode(mode));
  }

  #armStallTimer(epoch: number): void {
    this.#clearStallTimer();
    const period = Math.max(50, Math.min(500, this.#stallTimeoutMs / 4));
    this.#stallTimer = setInterval(() => {
      if (epoch !== this.#epoch || this.#session === undefined) return;
      const silentMs = performance.now() - this.#lastPacketAt;
      if (silentMs < this.#stallTimeoutMs || this.#status === 'lost') return;
      this.#counters.losses += 1;
      const detail = `camera ${this.device} stalled: no frames for ${(silentMs / 1000).toFixed(1)} s (still open; waiting for it to deliver again)`;
      this.#logger.warn({ device: this.device, silentMs: Math.round(silentMs) }, 'camera stalled');
      this.#setStatus('lost', detail);
    }, period);
    this.#stallTimer.unref();
  }

  #clearStallTimer(): void {
    clearInterval(this.#stallTimer);
    this.#stallTimer = undefined;
  }

  #scheduleReopen(epoch: number): void {
    if (epoch !== this.#epoch || !this.#running) return;
    const delay = this.#backoff.next();
    this.#logger.info(
      { device: this.device, delayMs: delay, attempt: this.#backoff.attempts },
      'reopening camera',
    );
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#reopen(epoch);
    }, delay);
  }

  async #reopen(epoch: number): Promise<void> {
    if (epoch !== this.#epoch || !this.#running) return;
    try {
      await this.#connect(epoch);
    } catch (error) {
      if (epoch !== this.#epoch) return;
      const typed = this.#typed(error);
      this.#counters.failedReopens += 1;
      this.#lastError = typed;
      this.#logger.warn(
        { device: this.device, code: typed.code, err: typed.message },
        'camera reopen failed',
      );
      this.#setStatus('lost', typed.message);
      this.#scheduleReopen(epoch);
    }
  }

  /** Ends a session: its read returns within a frame interval; a stalled device is closed later. */
  async #closeSession(session: Session): Promise<void> {
    const waitMs = Math.max(1000, 3000 / this.#fps);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      session.done.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => {
          resolve(true);
        }, waitMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      // Closing under a blocked read would free what the read still uses: close once it returns.
      this.#logger.warn(
        { device: this.device, waitMs },
        'camera read still blocked; the device is released when it returns',
      );
      void session.done.then(() => session.stream.close());
      return;
    }
    await session.stream.close();
  }

  #setStatus(status: CameraStatus, detail?: string): void {
    if (status === this.#status && detail === this.#detail) return;
    this.#status = status;
    this.#detail = detail;
    this.#logger.debug({ device: this.device, status, detail }, 'camera status');
    try {
      this.emit('status', status, detail);
    } catch (error) {
      this.#logger.error({ device: this.device, err: errorMessage(error) }, 'a status listener threw');
    }
  }
}

function even(value: number): number {
  return Math.max(2, Math.floor(value / 2) * 2);
}

function describeMode(mode: CaptureMode): string {
  const rate = Number.isInteger(mode.fps) ? String(mode.fps) : mode.fps.toFixed(2);
  const output = mode.scales ? ` → ${mode.outputWidth}x${mode.outputHeight}` : '';
  return `${mode.pixelFormat} ${mode.captureWidth}x${mode.captureHeight}@${rate}${output}`;
}

/**
 * Creates a camera and negotiates its mode (see {@link V4l2Camera.negotiate}); throws the typed
 * errors. The device is released until `start()`.
 */
export async function openCamera(settings: V4l2CameraSettings = {}): Promise<V4l2Camera> {
  const camera = new V4l2Camera(settings);
  await camera.negotiate();
  return camera;
}
