/**
 * A V4L2 camera as a live frame source: negotiates a mode, streams I420 frames with wall-clock
 * capture timestamps, never queues, and reopens the device by itself after it is lost.
 *
 * This file is the camera's state machine (idle/live/lost, start/stop/close, epochs) and its
 * recovery (reopen with backoff). Settings live in camera-settings.ts, opening a mode and the
 * output size kept across reopens in mode-opening.ts, and the read loop, frame delivery and stall
 * watch of one open stream in capture-session.ts.
 */
import { EventEmitter } from 'node:events';
import {
  Backoff,
  CloseOnce,
  InvalidStateError,
  errorMessage,
  type CameraStatus,
  type CloseInfo,
  type Logger,
  type RawVideoFrame,
} from '@robocam/types';
import type { CaptureStream } from './capture-backend.js';
import { resolveCameraSettings, type V4l2CameraSettings } from './camera-settings.js';
import { CaptureSession } from './capture-session.js';
import { CaptureError, CaptureFailedError, isRecoverableError } from './errors.js';
import { CameraModeState, describeMode } from './mode-opening.js';
import { NodeAvBackend } from './node-av-backend.js';
import { TimestampMapper } from './timestamp-mapper.js';
import type { TypedEventEmitter } from './typed-emitter.js';
import type { CaptureMode, V4l2CameraStats } from './types.js';

export type { V4l2CameraSettings } from './camera-settings.js';

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

type Counters = { -readonly [K in Exclude<keyof V4l2CameraStats, 'timestampClock'>]: number };

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
  readonly #queueSize: number;
  readonly #stallTimeoutMs: number;
  readonly #modes: CameraModeState;
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
  #status: CameraStatus = 'idle';
  #detail: string | undefined;
  #running = false;
  /** Bumped by start() and stop(): async work of an older epoch stands down. */
  #epoch = 0;
  #session: CaptureSession | undefined;
  #opening: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #sequence = 0;
  #lastError: CaptureError | undefined;

  constructor(settings: V4l2CameraSettings = {}) {
    super();
    const resolved = resolveCameraSettings(settings);
    this.device = resolved.device;
    this.#queueSize = resolved.queueSize;
    this.#stallTimeoutMs = resolved.stallTimeoutMs;
    this.#logger = resolved.logger;
    this.#backoff = new Backoff(resolved.reopenBackoff);
    const backend =
      resolved.backend ?? new NodeAvBackend({ discovery: resolved.discovery, logger: resolved.logger });
    this.#modes = new CameraModeState(
      this.device,
      resolved.request,
      backend,
      this.#logger,
      resolved.poolSize,
    );
  }

  /** Width of emitted frames: the requested width until negotiated, then the negotiated output width. */
  get width(): number {
    return this.#modes.width;
  }

  /** Height of emitted frames (see {@link width}). */
  get height(): number {
    return this.#modes.height;
  }

  /** Frame rate: the requested rate until negotiated, then the rate the driver confirmed. */
  get fps(): number {
    return this.#modes.fps;
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
    return this.#modes.mode;
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
    if (this.#running && this.#modes.mode !== undefined) return this.#modes.mode;
    let stream: CaptureStream;
    try {
      stream = await this.#modes.open();
    } catch (error) {
      const typed = this.#typed(error);
      this.#lastError = typed;
      if (!this.#running && isRecoverableError(typed)) this.#setStatus('lost', typed.message);
      throw typed;
    }
    try {
      return this.#modes.apply(stream.opened);
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
    this.#modes.fixOutput();
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
    const opening = this.#opening;
    const session = this.#session;
    this.#session = undefined;
    session?.stopWatching();
    if (opening !== undefined) await opening.catch(() => undefined);
    // Its read returns within a frame interval; a stalled device is closed when it returns.
    if (session !== undefined) await session.close(Math.max(1000, 3000 / this.#modes.fps));
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

  async #connect(epoch: number): Promise<void> {
    const attempt = (async (): Promise<void> => {
      const stream = await this.#modes.open();
      if (epoch !== this.#epoch || !this.#running) {
        await stream.close();
        return;
      }
      try {
        this.#modes.apply(stream.opened);
      } catch (error) {
        await stream.close();
        throw error;
      }
      this.#modes.preparePool();
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
    const mode = this.#modes.mode;
    this.#logger.info(
      { device: this.device, mode: mode === undefined ? undefined : describeMode(mode) },
      'camera streaming',
    );
    const session: CaptureSession = new CaptureSession(stream, {
      device: this.device,
      logger: this.#logger,
      queueSize: this.#queueSize,
      stallTimeoutMs: this.#stallTimeoutMs,
      counters: this.#counters,
      timestamps: this.#timestamps,
      isCurrent: () => epoch === this.#epoch && this.#session === session,
      pool: () => this.#modes.pool,
      onPacket: () => {
        this.#markLive();
      },
      nextSequence: () => this.#sequence++,
      emitFrame: (frame) => {
        this.#emitFrame(frame);
      },
      onStall: (silentMs) => {
        this.#stalled(silentMs);
      },
      detach: () => {
        this.#session = undefined;
      },
      onLost: (failure) => {
        this.#lost(failure, epoch);
      },
      typed: (error) => this.#typed(error),
    });
    this.#session = session;
    session.start();
  }

  #emitFrame(frame: RawVideoFrame): void {
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
    const mode = this.#modes.mode;
    this.#setStatus('live', mode === undefined ? undefined : describeMode(mode));
  }

  /** The open device delivers nothing: `lost` until it delivers again (no reopen: it may be slow, not gone). */
  #stalled(silentMs: number): void {
    if (this.#status === 'lost') return;
    this.#counters.losses += 1;
    const detail = `camera ${this.device} stalled: no frames for ${(silentMs / 1000).toFixed(1)} s (still open; waiting for it to deliver again)`;
    this.#logger.warn({ device: this.device, silentMs: Math.round(silentMs) }, 'camera stalled');
    this.#setStatus('lost', detail);
  }

  /** The device failed under a session (already closed): report it and start reopening. */
  #lost(failure: CaptureError, epoch: number): void {
    if (epoch !== this.#epoch) return;
    this.#counters.losses += 1;
    this.#lastError = failure;
    this.#logger.warn({ device: this.device, code: failure.code, err: failure.message }, 'camera lost');
    this.#setStatus('lost', failure.message);
    this.#scheduleReopen(epoch);
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

/**
 * Creates a camera and negotiates its mode (see {@link V4l2Camera.negotiate}); throws the typed
 * errors. The device is released until `start()`.
 */
export async function openCamera(settings: V4l2CameraSettings = {}): Promise<V4l2Camera> {
  const camera = new V4l2Camera(settings);
  await camera.negotiate();
  return camera;
}
