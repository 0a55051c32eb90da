import { RobocamError, TimeoutError, i420ByteLength, type RawVideoFrame } from '@robocam/types';
import type { SenderCamera } from '../camera-pipeline.js';
import type { VideoSource } from '../video-source.js';
import { encodeJpeg } from './jpeg.js';

/** A snapshot of a camera that exists but gives no picture now (code `camera-unavailable`). */
export class CameraUnavailableError extends RobocamError {
  declare readonly code: 'camera-unavailable';

  constructor(message: string, options?: ErrorOptions) {
    super('camera-unavailable', message, options);
  }
}

export interface SnapshotOptions {
  /** Width of the JPEG in pixels (height follows the aspect ratio; never above the camera's). Default: the camera's. */
  width?: number;
}

/** How long a running camera may take to deliver its next frame, beyond three frame intervals (ms). */
const LIVE_FRAME_GRACE_MS = 1000;
/** How long an idle camera, opened for a snapshot, may take to deliver its first frame (ms). */
const OPEN_FRAME_TIMEOUT_MS = 5000;

/**
 * JPEG snapshots of a sender's cameras (`sender.cameras`) without a second capture: a camera that
 * runs (someone watches) gives its next frame from the capture already running; an idle one is
 * started for one frame and stopped again, unless a viewer started using it meanwhile. Requests
 * for the same camera while one is being taken share its frame.
 */
export class CameraSnapshots {
  readonly #cameras: ReadonlyMap<string, SenderCamera>;
  readonly #grabbing = new Map<string, Promise<RawVideoFrame>>();

  constructor(cameras: ReadonlyMap<string, SenderCamera>) {
    this.#cameras = cameras;
  }

  /** Whether `id` names a camera. */
  has(id: string): boolean {
    return this.#cameras.has(id);
  }

  /**
   * The camera's latest frame as JPEG.
   *
   * @throws {@link CameraUnavailableError} for an unknown id, a lost camera or one that gave no
   *   frame in time (timeout: three frame intervals + 1 s while running, 5 s when opened for it).
   */
  async jpeg(id: string, { width }: SnapshotOptions = {}): Promise<Buffer> {
    const camera = this.#cameras.get(id);
    if (camera === undefined)
      throw new CameraUnavailableError(`no camera ${JSON.stringify(id.slice(0, 64))}`);
    let grab = this.#grabbing.get(id);
    if (grab === undefined) {
      grab = grabFrame(camera).finally(() => this.#grabbing.delete(id));
      this.#grabbing.set(id, grab);
    }
    return encodeJpeg(await grab, width);
  }
}

async function grabFrame(camera: SenderCamera): Promise<RawVideoFrame> {
  const { source } = camera;
  // A getter that changes while we wait (TypeScript would keep the first read's narrowing).
  const capturing = (): boolean => source.status === 'live';
  if (camera.info.status === 'lost') throw new CameraUnavailableError(`camera ${camera.id} is lost`);
  if (capturing()) {
    try {
      return await nextFrame(source, 3000 / Math.max(1, source.fps) + LIVE_FRAME_GRACE_MS);
    } catch (error) {
      // The last viewer left and the capture stopped while waiting: open it as an idle camera.
      if (capturing() || !(error instanceof TimeoutError)) throw unavailable(camera, error);
    }
  }
  try {
    await source.start();
    return await nextFrame(source, OPEN_FRAME_TIMEOUT_MS);
  } catch (error) {
    throw unavailable(camera, error);
  } finally {
    // The pipeline owns the capture once a viewer uses the camera (`info.status` is `live` from
    // the viewer's arrival on, before its encoder runs): stop only what nobody else uses.
    if (camera.info.status === 'idle' && !camera.running) await source.stop().catch(() => undefined);
  }
}

/** The source's next frame, copied (sources reuse their buffers a few frames later). */
function nextFrame(source: VideoSource, timeoutMs: number): Promise<RawVideoFrame> {
  return new Promise((resolve, reject) => {
    const onFrame = (frame: RawVideoFrame): void => {
      clearTimeout(timer);
      const bytes = frame.data.subarray(0, i420ByteLength(frame.width, frame.height));
      resolve({ ...frame, data: Uint8Array.prototype.slice.call(bytes) });
    };
    const timer = setTimeout(() => {
      source.off('frame', onFrame);
      reject(new TimeoutError(`no frame within ${Math.round(timeoutMs)} ms`));
    }, timeoutMs);
    source.once('frame', onFrame);
  });
}

function unavailable(camera: SenderCamera, error: unknown): CameraUnavailableError {
  if (error instanceof CameraUnavailableError) return error;
  const why = error instanceof Error ? error.message : String(error);
  return new CameraUnavailableError(`camera ${camera.id} gave no frame: ${why}`, { cause: error });
}
