import { describe, expect, it } from '@jest/globals';
import { ConfigurationError, parseCameraList } from '../src/index.js';

describe('parseCameraList', () => {
  it('parses kinds, sizes and rates', () => {
    expect(parseCameraList('testpattern')).toEqual([{ type: 'testpattern', id: 'testpattern' }]);
    expect(
      parseCameraList(' testpattern:1280x720@30 , testpattern:640x480 ,testpattern:320x240@12.5'),
    ).toEqual([
      { type: 'testpattern', id: 'testpattern', width: 1280, height: 720, fps: 30 },
      { type: 'testpattern', id: 'testpattern-1', width: 640, height: 480 },
      { type: 'testpattern', id: 'testpattern-2', width: 320, height: 240, fps: 12.5 },
    ]);
  });

  it('parses V4L2 devices next to test patterns', () => {
    expect(parseCameraList('/dev/video0:1280x720@30,/dev/video2:640x480@15,testpattern')).toEqual([
      { type: 'v4l2', device: '/dev/video0', width: 1280, height: 720, fps: 30 },
      { type: 'v4l2', device: '/dev/video2', width: 640, height: 480, fps: 15 },
      { type: 'testpattern', id: 'testpattern' },
    ]);
    expect(parseCameraList('/dev/v4l/by-id/usb-cam-video-index0')).toEqual([
      { type: 'v4l2', device: '/dev/v4l/by-id/usb-cam-video-index0' },
    ]);
  });

  it.each([
    ['', /empty/],
    [',,', /empty/],
    ['webcam', /unknown camera kind "webcam".*testpattern/],
    ['testpattern:1280', /mode "1280" is not WIDTHxHEIGHT/],
    ['testpattern:1280x720@', /not WIDTHxHEIGHT/],
    ['testpattern:axb', /not WIDTHxHEIGHT/],
  ])('rejects %j with a clear message', (list, message) => {
    expect(() => parseCameraList(list)).toThrow(ConfigurationError);
    expect(() => parseCameraList(list)).toThrow(message);
  });
});
