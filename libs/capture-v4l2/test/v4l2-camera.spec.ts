import { afterEach, describe, expect, it } from '@jest/globals';
import { InvalidStateError, type CameraStatus, type Logger, type RawVideoFrame } from '@robocam/types';
import type * as TypedEmitterModule from 'typed-emitter';
import {
  CaptureFailedError,
  DeviceNotFoundError,
  InvalidSettingsError,
  PermissionDeniedError,
  UnsupportedModeError,
} from '../src/errors.js';
import type { V4l2DeviceInfo } from '../src/types.js';
import { V4l2Camera, openCamera, type V4l2CameraSettings } from '../src/v4l2-camera.js';
import { FakeBackend } from './fake-backend.js';
import { deviceFromFixture } from './helpers.js';

/** robocam sender-core's VideoSource contract (libs/sender-core/src/video-source.ts). */
type VideoSourceEvents = {
  frame: (frame: RawVideoFrame) => void;
  status: (status: CameraStatus, detail?: string) => void;
};
interface VideoSource extends TypedEmitterModule.default<VideoSourceEvents> {
  readonly kind: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly status: CameraStatus;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const vivid = deviceFromFixture('vivid-list-formats-ext.txt', 'platform');
const cameras: V4l2Camera[] = [];

function camera(backend: FakeBackend, settings: V4l2CameraSettings = {}): V4l2Camera {
  const created = new V4l2Camera({
    width: 640,
    height: 480,
    fps: 30,
    format: 'yuyv',
    reopenDelayMs: 10,
    reopenMaxDelayMs: 40,
    ...settings,
    backend,
  });
  cameras.push(created);
  return created;
}

function until(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (predicate()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`timed out after ${timeoutMs} ms`));
      }
    }, 2);
  });
}

function record(source: V4l2Camera): {
  frames: RawVideoFrame[];
  statuses: [CameraStatus, string | undefined][];
} {
  const frames: RawVideoFrame[] = [];
  const statuses: [CameraStatus, string | undefined][] = [];
  source.on('frame', (frame) => frames.push({ ...frame, data: frame.data.slice() }));
  source.on('status', (status, detail) => statuses.push([status, detail]));
  return { frames, statuses };
}

afterEach(async () => {
  await Promise.all(cameras.splice(0).map((created) => created.close()));
});

describe('V4l2Camera: contract', () => {
  it('is a robocam VideoSource', () => {
    const source: VideoSource = camera(new FakeBackend(vivid));
    expect(source.kind).toBe('v4l2');
    expect(source.status).toBe('idle');
  });

  it('reports the requested size (even) until negotiated', () => {
    const created = camera(new FakeBackend(vivid), { width: 1281, height: 721, fps: 30 });
    expect([created.width, created.height, created.fps]).toEqual([1280, 720, 30]);
    expect(created.mode).toBeUndefined();
  });

  it('validates settings', () => {
    const backend = new FakeBackend(vivid);
    expect(() => new V4l2Camera({ backend, width: 0 })).toThrow(InvalidSettingsError);
    expect(() => new V4l2Camera({ backend, fps: 0 })).toThrow(/fps must be above 0/);
    expect(() => new V4l2Camera({ backend, poolSize: 1 })).toThrow(/poolSize/);
    expect(() => new V4l2Camera({ backend, format: 'h265' as 'auto' })).toThrow(
      /unknown camera format "h265"; use one of: auto, mjpeg, yuyv/,
    );
    expect(() => new V4l2Camera({ backend, device: '' })).toThrow(/path such as \/dev\/video0/);
  });
});

describe('V4l2Camera: negotiation', () => {
  it('negotiate() opens once, takes what the driver confirms, and releases the device', async () => {
    const backend = new FakeBackend(vivid);
    const created = camera(backend, { width: 640, height: 480, fps: 30 });
    const mode = await created.negotiate();
    expect(mode).toEqual({
      pixelFormat: 'yuyv422',
      captureWidth: 640,
      captureHeight: 480,
      fps: 25,
      outputWidth: 640,
      outputHeight: 480,
      decodes: false,
      scales: false,
    });
    expect([created.width, created.height, created.fps]).toEqual([640, 480, 25]);
    expect(backend.last.closed).toBe(true);
    expect(created.status).toBe('idle');
  });

  it('openCamera() creates and negotiates, scaling to the request when the size is not offered', async () => {
    const backend = new FakeBackend(vivid);
    const created = await openCamera({ backend, width: 960, height: 540, format: 'yuyv' });
    cameras.push(created);
    expect(created.mode).toMatchObject({
      captureWidth: 1280,
      captureHeight: 720,
      outputWidth: 960,
      outputHeight: 540,
      scales: true,
    });
  });

  it('throws the typed error and marks the camera lost when the device is missing', async () => {
    const backend = new FakeBackend(vivid);
    backend.describeError = new DeviceNotFoundError('/dev/video0');
    const created = camera(backend);
    await expect(created.negotiate()).rejects.toBeInstanceOf(DeviceNotFoundError);
    expect(created.status).toBe('lost');
    expect(created.statusDetail).toContain('not found');
    backend.describeError = undefined;
    await created.negotiate();
    expect(created.status).toBe('idle');
  });

  it('an unsupported format is an UnsupportedModeError listing what the device offers', async () => {
    const created = camera(new FakeBackend(vivid), { format: 'mjpeg' });
    await expect(created.negotiate()).rejects.toThrow(
      /cannot capture mjpeg 640x480@30: it offers no mjpeg format\. Supported modes: yuyv422: /,
    );
    expect(created.status).toBe('idle');
  });

  it('a mode the driver refuses is an UnsupportedModeError', async () => {
    const backend = new FakeBackend(vivid);
    backend.openHook = () => {
      throw new CaptureFailedError('/dev/video0', 'opening', 'the driver refused it', 'EINVAL');
    };
    await expect(camera(backend).negotiate()).rejects.toThrow(UnsupportedModeError);
  });

  it('retries without MJPEG when a guessed MJPEG (unnamed format) is refused', async () => {
    const guessing: V4l2DeviceInfo = {
      ...vivid,
      bus: 'usb',
      discoveredWith: 'node-av',
      formats: [
        {
          pixelFormat: 'unknown',
          compressed: true,
          capturable: true,
          sizes: [{ width: 1280, height: 720, fps: [30, 1] }],
        },
        {
          pixelFormat: 'yuyv422',
          compressed: false,
          capturable: true,
          sizes: [{ width: 1280, height: 720, fps: [10, 1] }],
        },
      ],
    };
    const backend = new FakeBackend(guessing);
    backend.openHook = (mode) => {
      if (mode.pixelFormat === 'mjpeg')
        throw new CaptureFailedError('/dev/video0', 'opening', 'refused', 'EINVAL');
    };
    const mode = await camera(backend, { width: 1280, height: 720, format: 'auto' }).negotiate();
    expect(backend.plans.map((plan) => plan.pixelFormat)).toEqual(['mjpeg', 'yuyv422']);
    expect(mode).toMatchObject({ pixelFormat: 'yuyv422', fps: 10 });
  });
});

describe('V4l2Camera: streaming', () => {
  it('emits packed I420 frames of the output size, numbered from 0, with wall-clock capture times', async () => {
    const backend = new FakeBackend(vivid);
    const created = camera(backend);
    const { frames, statuses } = record(created);
    const startedWall = Date.now();
    const startedMonotonic = performance.now();
    await created.start();
    await until(() => frames.length >= 10);
    expect(created.status).toBe('live');
    expect(statuses[0]).toEqual(['live', 'yuyv422 640x480@25']);
    expect(
      frames.every(
        (frame) =>
          frame.data.byteLength === (640 * 480 * 3) / 2 && frame.width === 640 && frame.height === 480,
      ),
    ).toBe(true);
    expect(frames.slice(0, 3).map((frame) => frame.sequence)).toEqual([0, 1, 2]);
    const now = Date.now();
    const monotonicNow = performance.now();
    for (const frame of frames) {
      // Captured during this test (the fake backend stamps a packet 3 ms before delivering it),
      // however slowly the machine ran it.
      expect(frame.timestampMs).toBeLessThanOrEqual(now);
      expect(frame.timestampMs).toBeGreaterThanOrEqual(startedWall - 10);
      // The same capture moment on performance.now()'s timeline.
      expect(frame.monotonicMs).toBeLessThanOrEqual(monotonicNow);
      expect(frame.monotonicMs).toBeGreaterThanOrEqual(startedMonotonic - 10);
    }
    for (const [previous, next] of frames.slice(1).map((frame, index) => [frames[index]!, frame] as const)) {
      expect(next.monotonicMs).toBeGreaterThanOrEqual(previous.monotonicMs);
    }
    expect(created.stats.timestampClock).toBe('monotonic');
    await created.stop();
    expect(created.status).toBe('idle');
    const stream = backend.last;
    expect(stream.closed).toBe(true);
    expect(new Set(stream.released).size).toBe(stream.reads); // every packet read was given back
  });

  it('start() and stop() are idempotent, and start() again counts from 0', async () => {
    const backend = new FakeBackend(vivid);
    const created = camera(backend);
    const { frames } = record(created);
    await Promise.all([created.start(), created.start()]);
    await until(() => frames.length >= 3);
    await Promise.all([created.stop(), created.stop()]);
    expect(backend.streams).toHaveLength(1);
    frames.length = 0;
    await created.start();
    await until(() => frames.length >= 1);
    expect(frames[0]!.sequence).toBe(0);
    expect(backend.streams).toHaveLength(2);
  });

  it('drops the oldest frame when conversion is slower than the camera (latest frame wins)', async () => {
    const backend = new FakeBackend(vivid);
    backend.intervalMs = 2;
    const created = camera(backend);
    const { frames } = record(created);
    await created.start();
    backend.last.convertDelayMs = 25;
    await until(() => frames.length >= 8);
    await created.stop();
    const { framesCaptured, framesEmitted, framesDropped } = created.stats;
    expect(framesDropped).toBeGreaterThan(framesEmitted);
    expect(framesCaptured).toBeGreaterThanOrEqual(framesEmitted + framesDropped);
    expect(new Set(backend.last.released).size).toBe(backend.last.reads); // no driver buffer left held
    // Each emitted frame is the newest at the time: ids jump forward.
    const gaps = frames
      .slice(1)
      .map((frame, index) => (frame.data[0]! - frames[index]!.data[0]! + 256) % 256);
    expect(Math.max(...gaps)).toBeGreaterThan(1);
  });

  it('a throwing frame listener does not stop capture', async () => {
    const created = camera(new FakeBackend(vivid));
    let count = 0;
    created.on('frame', () => {
      count += 1;
      throw new Error('consumer bug');
    });
    await created.start();
    await until(() => count >= 5);
  });

  it('keeps the output size fixed at start() even when the driver delivers another size', async () => {
    const backend = new FakeBackend(vivid);
    backend.adjust = () => ({ width: 1280, height: 720 });
    const created = camera(backend, { width: 640, height: 360 });
    const { frames } = record(created);
    await created.start();
    await until(() => frames.length >= 1);
    expect(frames[0]).toMatchObject({ width: 640, height: 360 });
    expect(created.mode).toMatchObject({ captureWidth: 1280, outputWidth: 640, scales: true });
  });
});

describe('V4l2Camera: loss and recovery', () => {
  it('a failing stream reports lost with the reason, reopens with backoff and goes live again', async () => {
    const backend = new FakeBackend(vivid);
    const created = camera(backend);
    const { frames, statuses } = record(created);
    await created.start();
    await until(() => frames.length >= 3);
    const before = frames.length;
    backend.last.fail();
    await until(() => created.status === 'lost');
    expect(created.statusDetail).toBe(
      'camera /dev/video0 was lost while streaming (ENODEV: No such device): unplugged, reset or failing; reopening automatically',
    );
    expect(created.lastError?.code).toBe('device-lost');
    await until(() => created.status === 'live');
    await until(() => frames.length >= before + 3);
    expect(backend.streams).toHaveLength(2);
    expect(backend.streams[0]!.closed).toBe(true);
    expect(statuses.map(([status]) => status)).toEqual(['live', 'lost', 'live']);
    expect(created.stats).toMatchObject({ losses: 1, recoveries: 1 });
    // numbering continues across the loss
    expect(frames.at(-1)!.sequence).toBe(frames.length - 1);
  });

  it('logs the loss and the reopen through the logger it was given', async () => {
    const lines: { level: string; object: object; message: string | undefined }[] = [];
    const at =
      (level: string) =>
      (object: object, message?: string): void => {
        lines.push({ level, object, message });
      };
    const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    const backend = new FakeBackend(vivid);
    const created = camera(backend, { logger });
    const { frames } = record(created);
    await created.start();
    await until(() => frames.length >= 3);
    backend.last.fail();
    await until(() => created.status === 'lost');
    await until(() => created.status === 'live');
    expect(lines).toContainEqual({
      level: 'warn',
      object: expect.objectContaining({ device: '/dev/video0', code: 'device-lost' }),
      message: 'camera lost',
    });
    expect(lines).toContainEqual({
      level: 'info',
      object: { device: '/dev/video0', delayMs: 10, attempt: 1 },
      message: 'reopening camera',
    });
  });

  it('starts lost when the device is absent, retries, and goes live when it appears', async () => {
    const backend = new FakeBackend(vivid);
    backend.describeError = new DeviceNotFoundError('/dev/video0', { videoNodes: [] });
    const created = camera(backend);
    const { statuses } = record(created);
    await created.start();
    expect(created.status).toBe('lost');
    await until(() => created.stats.failedReopens >= 3);
    backend.describeError = new PermissionDeniedError('/dev/video0');
    await until(() => created.statusDetail?.includes('usermod -aG video') === true);
    backend.describeError = undefined;
    await until(() => created.status === 'live');
    expect(statuses.map(([status, detail]) => `${status}:${detail?.slice(0, 20) ?? ''}`)).toEqual([
      'lost:camera /dev/video0 n',
      'lost:permission denied op',
      'live:yuyv422 640x480@25',
    ]);
  });

  it('reports a silent (stalled) device as lost and live again when frames resume', async () => {
    const backend = new FakeBackend(vivid);
    const created = camera(backend, { stallTimeoutMs: 150 });
    await created.start();
    await until(() => created.status === 'live');
    backend.last.pause();
    await until(() => created.status === 'lost');
    expect(created.statusDetail).toMatch(/stalled: no frames for 0\.\d s/);
    backend.last.resume(5);
    await until(() => created.status === 'live');
  });

  it('stop() during recovery cancels it', async () => {
    const backend = new FakeBackend(vivid);
    backend.describeError = new DeviceNotFoundError('/dev/video0');
    const created = camera(backend);
    await created.start();
    await created.stop();
    const attempts = created.stats.failedReopens;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(created.stats.failedReopens).toBe(attempts);
    expect(created.status).toBe('idle');
  });

  it('start() throws configuration errors instead of retrying', async () => {
    const created = camera(new FakeBackend(vivid), { format: 'mjpeg' });
    await expect(created.start()).rejects.toBeInstanceOf(UnsupportedModeError);
    expect(created.running).toBe(false);
  });
});

describe('V4l2Camera: close', () => {
  it('close() stops and refuses further use', async () => {
    const backend = new FakeBackend(vivid);
    const created = camera(backend);
    await created.start();
    await until(() => created.status === 'live');
    await created.close();
    expect(created.closed).toBe(true);
    expect(backend.last.closed).toBe(true);
    await expect(created.start()).rejects.toBeInstanceOf(InvalidStateError);
    await expect(created.negotiate()).rejects.toThrow('camera /dev/video0 is closed');
  });

  it('close() is idempotent, awaitable from every caller, and records who closed it', async () => {
    const backend = new FakeBackend(vivid);
    const created = camera(backend);
    await created.start();
    await until(() => created.status === 'live');
    expect(created.closeInfo).toBeUndefined();
    const info = { origin: 'parent', code: 'shutting-down', message: 'sender closed' } as const;
    await Promise.all([created.close(info), created.close()]);
    expect(created.closed).toBe(true);
    expect(created.closeInfo).toEqual(info);
    expect(created.status).toBe('idle');
    expect(backend.streams.every((stream) => stream.closed)).toBe(true);
  });
});
