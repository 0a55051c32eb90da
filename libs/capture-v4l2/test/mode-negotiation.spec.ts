import { describe, expect, it } from '@jest/globals';
import { UnsupportedModeError } from '../src/errors.js';
import {
  chooseFps,
  describeFormats,
  negotiateMode,
  outputSizeFor,
  type ModeRequest,
} from '../src/mode-negotiation.js';
import type { V4l2DeviceInfo } from '../src/types.js';
import { deviceFromFixture } from './helpers.js';

const vivid = deviceFromFixture('vivid-list-formats-ext.txt', 'platform');
const webcam = deviceFromFixture('uvc-webcam-list-formats-ext.txt', 'usb');
const csi = deviceFromFixture('csi-bcm2835-list-formats-ext.txt', 'platform');

const request = (overrides: Partial<ModeRequest> = {}): ModeRequest => ({
  width: 1280,
  height: 720,
  fps: 30,
  format: 'auto',
  allowScaling: true,
  mjpegAbovePixels: 640 * 480,
  ...overrides,
});

describe('negotiateMode: size and rate', () => {
  it('takes an exact size and the nearest rate the driver lists (vivid 640x480: 25 for 30)', () => {
    expect(negotiateMode(vivid, request({ width: 640, height: 480, format: 'yuyv422' }))).toEqual({
      pixelFormat: 'yuyv422',
      verified: true,
      captureWidth: 640,
      captureHeight: 480,
      fps: 25,
      outputWidth: 640,
      outputHeight: 480,
    });
  });

  it('captures the smallest larger size of the same aspect and scales down', () => {
    const mode = negotiateMode(vivid, request({ width: 960, height: 540, format: 'yuyv422' }));
    expect(mode).toMatchObject({
      captureWidth: 1280,
      captureHeight: 720,
      outputWidth: 960,
      outputHeight: 540,
    });
  });

  it('never upscales: a request beyond the largest size gets the largest size', () => {
    const mode = negotiateMode(webcam, request({ width: 3840, height: 2160, format: 'mjpeg' }));
    expect(mode).toMatchObject({
      captureWidth: 1920,
      captureHeight: 1080,
      outputWidth: 1920,
      outputHeight: 1080,
    });
  });

  it('keeps the capture aspect when no size of the requested aspect exists', () => {
    const square: V4l2DeviceInfo = {
      ...webcam,
      formats: [
        {
          pixelFormat: 'yuyv422',
          compressed: false,
          capturable: true,
          sizes: [{ width: 1600, height: 1200, fps: [30] }],
        },
      ],
    };
    expect(negotiateMode(square, request())).toMatchObject({
      captureWidth: 1600,
      outputWidth: 960,
      outputHeight: 720,
    });
  });

  it('keeps an output size fixed earlier, whatever the new capture size', () => {
    const mode = negotiateMode(
      vivid,
      request({ width: 640, height: 480, fixedOutput: { width: 800, height: 600 } }),
    );
    expect(mode).toMatchObject({ outputWidth: 800, outputHeight: 600 });
  });

  it('picks the requested size inside a stepwise range', () => {
    expect(negotiateMode(csi, request({ width: 1296, height: 972 }))).toMatchObject({
      pixelFormat: 'yuv420p',
      captureWidth: 1296,
      captureHeight: 972,
      fps: 30,
    });
  });

  it('passes the request through when discovery found no modes', () => {
    const empty: V4l2DeviceInfo = { ...vivid, formats: [] };
    expect(negotiateMode(empty, request())).toMatchObject({
      pixelFormat: '',
      verified: false,
      captureWidth: 1280,
      fps: 30,
    });
  });
});

describe('negotiateMode: format choice in auto', () => {
  it('uses MJPEG on a USB camera above 640x480 (raw 720p only reaches 10 fps over USB 2.0)', () => {
    expect(negotiateMode(webcam, request())).toMatchObject({
      pixelFormat: 'mjpeg',
      captureWidth: 1280,
      fps: 30,
    });
  });

  it('uses raw on a USB camera at 640x480 (no decoding needed)', () => {
    expect(negotiateMode(webcam, request({ width: 640, height: 480 }))).toMatchObject({
      pixelFormat: 'yuyv422',
      fps: 30,
    });
  });

  it('honours mjpegAbovePixels', () => {
    expect(negotiateMode(webcam, request({ width: 640, height: 480, mjpegAbovePixels: 0 })).pixelFormat).toBe(
      'mjpeg',
    );
  });

  it('still prefers the rate: USB raw at 5 fps loses to MJPEG at 30 even when raw is preferred by size', () => {
    expect(negotiateMode(webcam, request({ mjpegAbovePixels: 10_000_000 }))).toMatchObject({
      pixelFormat: 'mjpeg',
      fps: 30,
    });
  });

  it('uses raw on CSI/platform cameras, least conversion first (yuv420p)', () => {
    expect(negotiateMode(csi, request()).pixelFormat).toBe('yuv420p');
    expect(negotiateMode(vivid, request({ width: 640, height: 360 })).pixelFormat).toBe('yuv420p');
  });

  it('tries MJPEG for a format node-av could not name, unless that already failed', () => {
    const unnamed: V4l2DeviceInfo = {
      ...webcam,
      discoveredWith: 'node-av',
      formats: [
        {
          pixelFormat: 'yuyv422',
          compressed: false,
          capturable: true,
          sizes: [{ width: 1280, height: 720, fps: [10, 5] }],
        },
        {
          pixelFormat: 'unknown',
          compressed: true,
          capturable: true,
          sizes: [{ width: 1280, height: 720, fps: [30, 15] }],
        },
      ],
    };
    expect(negotiateMode(unnamed, request())).toMatchObject({
      pixelFormat: 'mjpeg',
      verified: false,
      fps: 30,
    });
    expect(negotiateMode(unnamed, request({ excludeUnknown: true }))).toMatchObject({
      pixelFormat: 'yuyv422',
      verified: true,
      fps: 10,
    });
  });
});

describe('negotiateMode: unsupported requests', () => {
  it('rejects a format the device lacks, listing what it offers', () => {
    let error: unknown;
    try {
      negotiateMode(vivid, request({ format: 'mjpeg' }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnsupportedModeError);
    const unsupported = error as UnsupportedModeError;
    expect(unsupported.code).toBe('unsupported-mode');
    expect(unsupported.message).toContain(
      '/dev/video0 cannot capture mjpeg 1280x720@30: it offers no mjpeg format',
    );
    expect(unsupported.message).toContain('yuyv422: 320x180@60, 640x360@40, 640x480@25, 1280x720@12.5');
    expect(unsupported.supported).toHaveLength(4); // YVYU is not capturable
  });

  it('rejects a size the device lacks when scaling is off', () => {
    expect(() =>
      negotiateMode(vivid, request({ width: 1000, height: 700, format: 'yuyv422', allowScaling: false })),
    ).toThrow(/no yuyv422 size is exactly 1000x700 and scaling is off\. Supported modes: yuyv422: 320x180/);
  });

  it('rejects H.264-only devices', () => {
    const h264: V4l2DeviceInfo = {
      ...webcam,
      formats: webcam.formats.filter((format) => format.pixelFormat === 'h264'),
    };
    expect(() => negotiateMode(h264, request())).toThrow(/it offers no format this library can capture/);
  });
});

describe('helpers', () => {
  it('chooseFps picks the nearest listed rate (ties: higher) or clamps into a range', () => {
    expect(chooseFps([25, 15, 12.5], 30)).toBe(25);
    expect(chooseFps([60, 30, 15], 30)).toBe(30);
    expect(chooseFps([50, 25], 37.5)).toBe(50);
    expect(chooseFps([25, 1], 30, true)).toBe(25);
    expect(chooseFps([25, 1], 20, true)).toBe(20);
    expect(chooseFps([], 30)).toBe(30);
  });

  it('outputSizeFor keeps even sizes and never upscales', () => {
    expect(outputSizeFor(1920, 1080, 1280, 720)).toEqual({ width: 1280, height: 720 });
    expect(outputSizeFor(1366, 768, 1280, 720)).toEqual({ width: 1280, height: 720 });
    expect(outputSizeFor(640, 480, 1280, 720)).toEqual({ width: 640, height: 480 });
    expect(outputSizeFor(1600, 1200, 1280, 720)).toEqual({ width: 960, height: 720 });
    expect(outputSizeFor(1280, 720, 1279, 719)).toEqual({ width: 1278, height: 718 });
  });

  it('describeFormats lists capturable formats with their sizes and top rates', () => {
    expect(describeFormats(webcam.formats)).toEqual([
      'yuyv422: 640x480@30, 1280x720@10, 1920x1080@5',
      'mjpeg: 640x480@30, 1280x720@30, 1920x1080@30',
    ]);
    expect(describeFormats(csi.formats)[0]).toBe('yuv420p: 32x32–2592x1944');
  });
});
