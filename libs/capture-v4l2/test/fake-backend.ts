/** An in-memory CaptureBackend: a "driver" that delivers packets on a timer, and can fail. */
import type { CaptureBackend, CapturedPacket, CaptureStream, OpenedMode } from '../src/capture-backend.js';
import { streamError } from '../src/error-mapping.js';
import type { PlannedMode } from '../src/mode-negotiation.js';
import { monotonicNowUs } from '../src/timestamp-mapper.js';
import type { V4l2DeviceInfo } from '../src/types.js';

export interface FakePacket extends CapturedPacket {
  readonly id: number;
}

export class FakeStream implements CaptureStream {
  readonly opened: OpenedMode;
  readonly released: FakePacket[] = [];
  delivered = 0;
  /** Packets handed out by read(). */
  reads = 0;
  converted = 0;
  closed = false;
  /** Time each conversion takes. */
  convertDelayMs = 0;
  #waiter: { resolve: (packet: FakePacket) => void; reject: (error: Error) => void } | undefined;
  #buffered: FakePacket[] = [];
  #failure: Error | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly device: string,
    opened: OpenedMode,
    intervalMs: number,
  ) {
    this.opened = opened;
    if (intervalMs > 0) {
      this.#timer = setInterval(() => {
        this.deliver();
      }, intervalMs);
    }
  }

  /** Stops the timer: the device goes silent. */
  pause(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  resume(intervalMs: number): void {
    this.pause();
    this.#timer = setInterval(() => {
      this.deliver();
    }, intervalMs);
  }

  deliver(timestampUs: number | undefined = monotonicNowUs() - 3000): void {
    if (this.closed || this.#failure !== undefined) return;
    const packet: FakePacket = { id: this.delivered, timestampUs };
    this.delivered += 1;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) waiter.resolve(packet);
    else this.#buffered.push(packet);
  }

  fail(error: Error = streamError(this.device, 'ENODEV', 'No such device')): void {
    this.pause();
    this.#failure = error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
  }

  read(): Promise<CapturedPacket> {
    const buffered = this.#buffered.shift();
    if (buffered) {
      this.reads += 1;
      return Promise.resolve(buffered);
    }
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiter = {
        resolve: (packet) => {
          this.reads += 1;
          resolve(packet);
        },
        reject,
      };
    });
  }

  async convert(packet: CapturedPacket, target: Uint8Array, width: number, height: number): Promise<void> {
    if (target.byteLength !== (width * height * 3) / 2) throw new RangeError('wrong target size');
    if (this.convertDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.convertDelayMs));
    target.fill((packet as FakePacket).id % 256);
    this.converted += 1;
  }

  release(packet: CapturedPacket): void {
    this.released.push(packet as FakePacket);
  }

  close(): Promise<void> {
    this.pause();
    this.closed = true;
    this.#waiter?.reject(streamError(this.device, 'EOF'));
    this.#waiter = undefined;
    return Promise.resolve();
  }
}

export class FakeBackend implements CaptureBackend {
  readonly streams: FakeStream[] = [];
  readonly plans: PlannedMode[] = [];
  describeError: Error | undefined;
  /** Called per open; throw to refuse. */
  openHook: ((mode: PlannedMode) => void) | undefined;
  /** What the "driver" changes, e.g. the rate. */
  adjust: (mode: PlannedMode) => Partial<OpenedMode> = () => ({});
  intervalMs = 5;

  constructor(public info: V4l2DeviceInfo) {}

  describe(): Promise<V4l2DeviceInfo> {
    return this.describeError ? Promise.reject(this.describeError) : Promise.resolve(this.info);
  }

  open(device: string, mode: PlannedMode): Promise<CaptureStream> {
    return new Promise((resolve) => {
      this.plans.push(mode);
      this.openHook?.(mode); // a throw here rejects
      const opened: OpenedMode = {
        pixelFormat: mode.pixelFormat,
        width: mode.captureWidth,
        height: mode.captureHeight,
        fps: mode.fps,
        ...this.adjust(mode),
      };
      const stream = new FakeStream(device, opened, this.intervalMs);
      this.streams.push(stream);
      resolve(stream);
    });
  }

  get last(): FakeStream {
    const stream = this.streams.at(-1);
    if (!stream) throw new Error('no stream opened');
    return stream;
  }
}
