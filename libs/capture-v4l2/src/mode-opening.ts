/**
 * Opening a device at the negotiated mode and recording what the driver actually gave; the output
 * size a camera keeps across reopens.
 */
import type { Logger } from '@robocam/types';
import type { CaptureBackend, CaptureStream, OpenedMode } from './capture-backend.js';
import { CaptureError, UnsupportedModeError } from './errors.js';
import { FramePool } from './frame-pool.js';
import {
  describeFormats,
  describeRequest,
  negotiateMode,
  outputSizeFor,
  type ModeRequest,
  type PlannedMode,
} from './mode-negotiation.js';
import type { CaptureMode, V4l2DeviceInfo } from './types.js';

/**
 * Discovery, negotiation and opening; retries once without an MJPEG guess the driver refused.
 * `request(excludeUnknown)` builds the negotiation request. A mode the driver refuses (EINVAL)
 * becomes an {@link UnsupportedModeError}.
 */
export async function openNegotiatedStream(
  backend: CaptureBackend,
  device: string,
  request: (excludeUnknown: boolean) => ModeRequest,
  logger: Logger,
): Promise<CaptureStream> {
  const info = await backend.describe(device);
  const plan = negotiateMode(info, request(false));
  try {
    return await backend.open(device, plan);
  } catch (error) {
    if (!(error instanceof CaptureError) || error.errno !== 'EINVAL') throw error;
    if (plan.verified || plan.pixelFormat !== 'mjpeg') throw refused(device, info, plan, error);
    logger.debug({ device }, 'MJPEG guessed for an unnamed format was refused; trying without');
    const second = negotiateMode(info, request(true));
    try {
      return await backend.open(device, second);
    } catch (retryError) {
      if (retryError instanceof CaptureError && retryError.errno === 'EINVAL')
        throw refused(device, info, second, retryError);
      throw retryError;
    }
  }
}

function refused(
  device: string,
  info: V4l2DeviceInfo,
  plan: PlannedMode,
  error: CaptureError,
): UnsupportedModeError {
  const requested = describeRequest({
    format: plan.pixelFormat === '' ? 'auto' : plan.pixelFormat,
    width: plan.captureWidth,
    height: plan.captureHeight,
    fps: plan.fps,
  });
  return new UnsupportedModeError(
    device,
    requested,
    `the driver refused it (${error.message})`,
    describeFormats(info.formats),
  );
}

/**
 * The mode a camera runs in: what the driver `opened`, emitted at the `output` size. Throws
 * {@link UnsupportedModeError} when that needs scaling and `request.allowScaling` is false.
 */
export function capturedMode(
  device: string,
  opened: OpenedMode,
  output: { width: number; height: number },
  request: Pick<ModeRequest, 'format' | 'fps' | 'allowScaling'>,
): CaptureMode {
  const scales = opened.width !== output.width || opened.height !== output.height;
  if (scales && !request.allowScaling) {
    throw new UnsupportedModeError(
      device,
      describeRequest({ ...request, width: output.width, height: output.height }),
      `the driver delivers ${opened.width}x${opened.height} and scaling is off`,
      [],
    );
  }
  return {
    pixelFormat: opened.pixelFormat,
    captureWidth: opened.width,
    captureHeight: opened.height,
    fps: opened.fps,
    outputWidth: output.width,
    outputHeight: output.height,
    decodes: opened.pixelFormat === 'mjpeg',
    scales,
  };
}

/** `mjpeg 1280x720@30 → 640x360`, for logs and status details. */
export function describeMode(mode: CaptureMode): string {
  const rate = Number.isInteger(mode.fps) ? String(mode.fps) : mode.fps.toFixed(2);
  const output = mode.scales ? ` → ${mode.outputWidth}x${mode.outputHeight}` : '';
  return `${mode.pixelFormat} ${mode.captureWidth}x${mode.captureHeight}@${rate}${output}`;
}

/**
 * The mode a camera asks for and runs in: the output size (fixed by the first negotiation or
 * start, then kept across reopens: later modes are scaled to it), the driver's current mode, and
 * the frame pool of the output size.
 */
export class CameraModeState {
  readonly #device: string;
  readonly #request: Omit<ModeRequest, 'fixedOutput' | 'excludeUnknown'>;
  readonly #backend: CaptureBackend;
  readonly #logger: Logger;
  readonly #poolSize: number;
  #width: number;
  #height: number;
  #fps: number;
  #outputFixed = false;
  #mode: CaptureMode | undefined;
  #pool: FramePool | undefined;

  constructor(
    device: string,
    request: Omit<ModeRequest, 'fixedOutput' | 'excludeUnknown'>,
    backend: CaptureBackend,
    logger: Logger,
    poolSize: number,
  ) {
    this.#device = device;
    this.#request = request;
    this.#backend = backend;
    this.#logger = logger;
    this.#poolSize = poolSize;
    this.#width = even(request.width);
    this.#height = even(request.height);
    this.#fps = request.fps;
  }

  /** Output width: the requested width until fixed, then the negotiated one. */
  get width(): number {
    return this.#width;
  }

  get height(): number {
    return this.#height;
  }

  /** The requested rate until fixed, then the rate the driver confirmed. */
  get fps(): number {
    return this.#fps;
  }

  /** The driver's mode, once negotiated or opened; updated on every open. */
  get mode(): CaptureMode | undefined {
    return this.#mode;
  }

  /** The pool frames are converted into, from the first {@link preparePool}. */
  get pool(): FramePool | undefined {
    return this.#pool;
  }

  /** Keeps the current output size from now on (a start fixes it even before a negotiation). */
  fixOutput(): void {
    this.#outputFixed = true;
  }

  /** Negotiates and opens the device (see {@link openNegotiatedStream}). */
  open(): Promise<CaptureStream> {
    return openNegotiatedStream(
      this.#backend,
      this.#device,
      (excludeUnknown) => ({
        ...this.#request,
        fixedOutput: this.#outputFixed ? { width: this.#width, height: this.#height } : undefined,
        excludeUnknown,
      }),
      this.#logger,
    );
  }

  /** Records what the driver gave; fixes the output size on first use. */
  apply(opened: OpenedMode): CaptureMode {
    if (!this.#outputFixed) {
      const output = outputSizeFor(opened.width, opened.height, this.#request.width, this.#request.height);
      this.#width = output.width;
      this.#height = output.height;
      this.#fps = opened.fps;
      this.#outputFixed = true;
    }
    const output = { width: this.#width, height: this.#height };
    this.#mode = capturedMode(this.#device, opened, output, this.#request);
    return this.#mode;
  }

  /** Makes sure the pool matches the output size (kept while the size stays). */
  preparePool(): void {
    if (this.#pool?.width !== this.#width || this.#pool.height !== this.#height) {
      this.#pool = new FramePool(this.#width, this.#height, this.#poolSize);
    }
  }
}

function even(value: number): number {
  return Math.max(2, Math.floor(value / 2) * 2);
}
