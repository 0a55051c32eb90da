import { describe, expect, it } from '@jest/globals';
import { buildInputOptions } from '../src/ffmpeg-options.js';
import type { PlannedMode } from '../src/mode-negotiation.js';

const mode = (overrides: Partial<PlannedMode>): PlannedMode => ({
  pixelFormat: 'yuyv422',
  verified: true,
  captureWidth: 640,
  captureHeight: 480,
  fps: 25,
  outputWidth: 640,
  outputHeight: 480,
  ...overrides,
});

describe('buildInputOptions', () => {
  it('asks the v4l2 demuxer for a raw format, size and rate, with the driver’s timestamps', () => {
    expect(buildInputOptions(mode({}))).toEqual({
      video_size: '640x480',
      framerate: '25',
      input_format: 'yuyv422',
      ts: 'default',
    });
  });

  it('asks for MJPEG by codec name', () => {
    expect(
      buildInputOptions(mode({ pixelFormat: 'mjpeg', captureWidth: 1920, captureHeight: 1080, fps: 30 })),
    ).toEqual({
      video_size: '1920x1080',
      framerate: '30',
      input_format: 'mjpeg',
      ts: 'default',
    });
  });

  it('passes fractional rates as decimals', () => {
    expect(buildInputOptions(mode({ fps: 12.5 })).framerate).toBe('12.5');
    expect(buildInputOptions(mode({ fps: 30000 / 1001 })).framerate).toBe('29.97');
  });

  it('leaves the format to the driver when nothing was discovered', () => {
    const options = buildInputOptions(mode({ pixelFormat: '', verified: false }));
    expect(options).not.toHaveProperty('input_format');
    expect(options.video_size).toBe('640x480');
  });
});
