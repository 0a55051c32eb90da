import { describe, expect, it } from '@jest/globals';
import { isVideoCaptureNode, parseV4l2CtlFormats, parseV4l2CtlInfo } from '../src/v4l2-ctl.js';
import { fixture } from './helpers.js';

describe('parseV4l2CtlInfo', () => {
  it('reads driver, card, bus and the node’s own capabilities', () => {
    const info = parseV4l2CtlInfo(fixture('vivid-info.txt'));
    expect(info).toMatchObject({ driver: 'vivid', card: 'vivid', busInfo: 'platform:vivid-000' });
    expect(info.deviceCaps).toContain('Video Capture');
    expect(info.deviceCaps).not.toContain('Metadata Capture');
    expect(isVideoCaptureNode(info)).toBe(true);
  });

  it('tells a metadata node (whose device capabilities include capture) from a capture node', () => {
    const info = parseV4l2CtlInfo(fixture('vivid-meta-info.txt'));
    expect(info.deviceCaps).toEqual([
      'Metadata Capture',
      'Tuner',
      'Audio',
      'Read/Write',
      'Streaming',
      'Extended Pix Format',
    ]);
    expect(isVideoCaptureNode(info)).toBe(false);
  });
});

describe('parseV4l2CtlFormats', () => {
  it('maps FourCCs to FFmpeg formats with every discrete size and rate', () => {
    const formats = parseV4l2CtlFormats(fixture('vivid-list-formats-ext.txt'));
    expect(formats.map((format) => [format.fourcc, format.pixelFormat, format.capturable])).toEqual([
      ['YUYV', 'yuyv422', true],
      ['UYVY', 'uyvy422', true],
      ['YVYU', 'unknown', false],
      ['YU12', 'yuv420p', true],
      ['NV12', 'nv12', true],
    ]);
    const yuyv = formats[0]!;
    expect(yuyv.description).toBe('YUYV 4:2:2');
    expect(yuyv.compressed).toBe(false);
    expect(yuyv.sizes.map((size) => `${size.width}x${size.height}`)).toEqual([
      '3840x2160',
      '1920x1080',
      '1280x720',
      '640x480',
      '640x360',
      '320x180',
    ]);
    expect(yuyv.sizes.find((size) => size.width === 640 && size.height === 480)?.fps).toEqual([
      25, 15, 12.5, 10, 5, 4, 2, 1,
    ]);
    expect(yuyv.sizes.find((size) => size.width === 1280)?.fps[0]).toBe(12.5);
  });

  it('marks compressed formats and ignores other buffer types', () => {
    const formats = parseV4l2CtlFormats(fixture('uvc-webcam-list-formats-ext.txt'));
    expect(formats.map((format) => [format.pixelFormat, format.compressed, format.capturable])).toEqual([
      ['yuyv422', false, true],
      ['mjpeg', true, true],
      ['h264', true, false],
    ]);
    expect(formats[1]!.sizes.find((size) => size.width === 1280)?.fps).toEqual([30, 15]);
  });

  it('reads v4l2loopback fed with MJPEG', () => {
    expect(parseV4l2CtlFormats(fixture('loopback-list-formats-ext.txt'))).toEqual([
      {
        pixelFormat: 'mjpeg',
        fourcc: 'MJPG',
        description: 'Motion-JPEG',
        compressed: true,
        capturable: true,
        sizes: [{ width: 1280, height: 720, fps: [30] }],
      },
    ]);
  });

  it('reads stepwise size ranges', () => {
    const formats = parseV4l2CtlFormats(fixture('csi-bcm2835-list-formats-ext.txt'));
    expect(formats[0]).toMatchObject({
      pixelFormat: 'yuv420p',
      sizes: [],
      sizeRange: {
        minWidth: 32,
        minHeight: 32,
        maxWidth: 2592,
        maxHeight: 1944,
        stepWidth: 2,
        stepHeight: 2,
        fps: [],
      },
    });
    expect(formats.filter((format) => format.pixelFormat === 'mjpeg')).toHaveLength(2); // JPEG and MJPG
  });

  it('reads stepwise and continuous frame intervals as their ends', () => {
    const text = [
      '\tType: Video Capture',
      "\t[0]: 'NV12' (Y/UV 4:2:0)",
      '\t\tSize: Discrete 1920x1080',
      '\t\t\tInterval: Stepwise 0.017s - 1.000s with step 0.001s (1.000-60.000 fps)',
      '\t\tSize: Continuous 64x64 - 4096x2160',
    ].join('\n');
    const [format] = parseV4l2CtlFormats(text);
    expect(format?.sizes).toEqual([{ width: 1920, height: 1080, fps: [60, 1] }]);
    expect(format?.sizeRange).toMatchObject({ minWidth: 64, maxWidth: 4096, stepWidth: 1 });
  });

  it('returns nothing for a node without video capture formats', () => {
    expect(parseV4l2CtlFormats('ioctl: VIDIOC_ENUM_FMT\n\tType: Video Capture\n\n')).toEqual([]);
  });
});
