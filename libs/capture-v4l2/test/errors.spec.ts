import { describe, expect, it } from '@jest/globals';
import { avErrorName, classifyErrno, openError, streamError } from '../src/error-mapping.js';
import {
  CaptureFailedError,
  DeviceBusyError,
  DeviceLostError,
  DeviceNotFoundError,
  InvalidSettingsError,
  NotACaptureDeviceError,
  PermissionDeniedError,
  UnsupportedModeError,
  isRecoverableError,
} from '../src/errors.js';

describe('avErrorName', () => {
  it('names the negated errno values FFmpeg returns', () => {
    expect(avErrorName(-2)).toBe('ENOENT');
    expect(avErrorName(-13)).toBe('EACCES');
    expect(avErrorName(-16)).toBe('EBUSY');
    expect(avErrorName(-19)).toBe('ENODEV');
    expect(avErrorName(-5)).toBe('EIO');
    expect(avErrorName(-22)).toBe('EINVAL');
    expect(avErrorName(-11)).toBe('EAGAIN');
  });

  it('names FFmpeg’s own codes', () => {
    expect(avErrorName(-541478725)).toBe('EOF');
    expect(avErrorName(-1414092869)).toBe('EXIT'); // what list_formats returns
    expect(avErrorName(-1094995529)).toBe('INVALIDDATA');
    expect(avErrorName(-9999)).toBe('AVERROR(-9999)');
  });
});

describe('openError', () => {
  it('ENOENT: not found, naming the video nodes present and the container flag', () => {
    const error = openError('/dev/video42', 'ENOENT', { videoNodes: ['/dev/video0 (vivid-000-vid-cap)'] });
    expect(error).toBeInstanceOf(DeviceNotFoundError);
    expect(error.code).toBe('device-not-found');
    expect(error.device).toBe('/dev/video42');
    expect(error.message).toContain('camera /dev/video42 not found (ENOENT)');
    expect(error.message).toContain('--device /dev/video42');
    expect(error.message).toContain('video nodes present: /dev/video0 (vivid-000-vid-cap)');
  });

  it('ENODEV/ENXIO: a node without a device behind it is not found either', () => {
    expect(openError('/dev/video0', 'ENODEV')).toBeInstanceOf(DeviceNotFoundError);
    expect(openError('/dev/video0', 'ENXIO').errno).toBe('ENXIO');
    expect(openError('/dev/video0', 'ENODEV').message).toContain('no other /dev/video* nodes are present');
  });

  it('ENODEV: says the node exists without a device, not that it is missing yet present', () => {
    const error = openError('/dev/video0', 'ENODEV', {
      videoNodes: ['/dev/video0 (vivid-000-vid-cap)', '/dev/video2 (vivid-001-vid-cap)'],
    });
    expect(error.message).toContain('camera /dev/video0 not found (ENODEV)');
    expect(error.message).toContain('the node exists but no device answers behind it');
    expect(error.message).toContain('other video nodes present: /dev/video2 (vivid-001-vid-cap)');
    expect(error.message).not.toContain('/dev/video0 (vivid-000-vid-cap)');
    expect(error.message).not.toContain('plugged in and powered');
  });

  it('EACCES/EPERM: names the group and both fixes', () => {
    const error = openError('/dev/video0', 'EACCES', { group: 'video' });
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error.code).toBe('permission-denied');
    expect(error.message).toContain('permission denied opening /dev/video0 (EACCES)');
    expect(error.message).toContain('add the user to the video group: sudo usermod -aG video $USER');
    expect(error.message).toContain('run the container with --group-add video');
    const byNumber = openError('/dev/video0', 'EPERM', { group: '44' });
    expect(byNumber instanceof PermissionDeniedError && byNumber.group).toBe('44');
    expect(byNumber.message).toContain('--group-add 44');
  });

  it('EBUSY: says another process holds it and how to find it', () => {
    const error = openError('/dev/video0', 'EBUSY');
    expect(error).toBeInstanceOf(DeviceBusyError);
    expect(error.code).toBe('device-busy');
    expect(error.message).toContain('camera /dev/video0 is busy (EBUSY): another process');
    expect(error.message).toContain('fuser -v /dev/video0');
  });

  it('anything else: capture failed with the errno and text', () => {
    const error = openError('/dev/video0', 'ENOMEM', { text: 'Cannot allocate memory' });
    expect(error).toBeInstanceOf(CaptureFailedError);
    expect(error.message).toBe('opening /dev/video0 failed: ENOMEM: Cannot allocate memory');
  });
});

describe('streamError', () => {
  it('is a device loss, for errors and for the end of a live stream', () => {
    const error = streamError('/dev/video0', 'ENODEV', 'No such device');
    expect(error).toBeInstanceOf(DeviceLostError);
    expect(error.code).toBe('device-lost');
    expect(error.message).toBe(
      'camera /dev/video0 was lost while streaming (ENODEV: No such device): unplugged, reset or failing; reopening automatically',
    );
    expect(streamError('/dev/video0', 'EOF').message).toContain('(the stream ended)');
  });
});

describe('classification', () => {
  it('classifies errno names', () => {
    expect(
      ['ENOENT', 'EACCES', 'EPERM', 'EBUSY', 'ENODEV', 'EIO', 'EOF', 'EINVAL', 'ENOMEM'].map(classifyErrno),
    ).toEqual(['not-found', 'permission', 'permission', 'busy', 'gone', 'gone', 'gone', 'invalid', 'other']);
  });

  it('only configuration errors are not recoverable', () => {
    expect(isRecoverableError(new DeviceNotFoundError('/dev/video0'))).toBe(true);
    expect(isRecoverableError(new PermissionDeniedError('/dev/video0'))).toBe(true);
    expect(isRecoverableError(new DeviceBusyError('/dev/video0'))).toBe(true);
    expect(isRecoverableError(new DeviceLostError('/dev/video0', 'EIO'))).toBe(true);
    expect(isRecoverableError(new CaptureFailedError('/dev/video0', 'opening', 'EIO', 'EIO'))).toBe(true);
    expect(isRecoverableError(new CaptureFailedError('/dev/video0', 'opening', 'refused', 'EINVAL'))).toBe(
      false,
    );
    expect(isRecoverableError(new UnsupportedModeError('/dev/video0', 'mjpeg 640x480@30', 'no', []))).toBe(
      false,
    );
    expect(isRecoverableError(new NotACaptureDeviceError('/dev/video1'))).toBe(false);
    expect(isRecoverableError(new InvalidSettingsError('bad'))).toBe(false);
    expect(isRecoverableError(new Error('other'))).toBe(false);
  });

  it('every error has its name and code', () => {
    const errors = [
      new DeviceNotFoundError('/dev/video0'),
      new PermissionDeniedError('/dev/video0'),
      new DeviceBusyError('/dev/video0'),
      new UnsupportedModeError('/dev/video0', 'x', 'y', []),
      new NotACaptureDeviceError('/dev/video1', ['/dev/video0']),
      new DeviceLostError('/dev/video0', 'EIO'),
    ];
    expect(errors.map((error) => [error.name, error.code])).toEqual([
      ['DeviceNotFoundError', 'device-not-found'],
      ['PermissionDeniedError', 'permission-denied'],
      ['DeviceBusyError', 'device-busy'],
      ['UnsupportedModeError', 'unsupported-mode'],
      ['NotACaptureDeviceError', 'not-a-capture-device'],
      ['DeviceLostError', 'device-lost'],
    ]);
    expect(errors[4]!.message).toContain('capture nodes: /dev/video0');
  });

  it('an unsupported mode lists at most 8 formats in its message, all on the error', () => {
    const supported = Array.from({ length: 12 }, (_, index) => `fmt${index}: 640x480@30`);
    const error = new UnsupportedModeError(
      '/dev/video0',
      'mjpeg 640x480@30',
      'it offers no mjpeg format',
      supported,
    );
    expect(error.message).toContain('fmt7: 640x480@30; and 4 more formats');
    expect(error.message).not.toContain('fmt8');
    expect(error.supported).toHaveLength(12);
  });
});
