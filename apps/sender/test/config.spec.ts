import { describe, expect, it } from '@jest/globals';
import { ConfigError, readConfig } from '../src/index.js';

describe('sender configuration', () => {
  it('defaults to one 720p30 test pattern on the local signaling server', () => {
    const config = readConfig({});
    expect(config.logLevel).toBe('info');
    expect(config.health).toEqual({ port: 8766, host: '127.0.0.1' });
    expect(config.sender).toMatchObject({
      signalingUrl: 'ws://localhost:8765',
      codec: 'vp8',
      encoder: 'auto',
      cameras: [{ type: 'testpattern', width: 1280, height: 720, fps: 30 }],
      peer: {},
    });
  });

  it('reads every variable', () => {
    const config = readConfig({
      SIGNALING_URL: 'wss://robot.example/signal',
      LOG_LEVEL: 'debug',
      SENDER_TOKEN: 'secret',
      SENDER_NAME: 'rover',
      CAMERAS: 'testpattern:640x480@15,testpattern',
      CODEC: 'h264',
      BITRATE: '1500',
      ENCODER: 'software',
      KEYFRAME_INTERVAL: '4',
      ICE_SERVERS: 'stun:stun.example:3478, turn:turn.example:3478',
      ICE_USERNAME: 'u',
      ICE_CREDENTIAL: 'p',
      RTC_PORT_RANGE: '40000-40100',
      ANNOUNCED_IPS: '192.0.2.10',
      MAX_VIEWERS: '8',
      HEALTH_PORT: '9000',
      HEALTH_HOST: '::',
      METRICS_TOKEN: 'scrape-me',
      UNRELATED: 'ignored',
    });
    expect(config.sender).toEqual({
      signalingUrl: 'wss://robot.example/signal',
      token: 'secret',
      name: 'rover',
      cameras: [{ type: 'testpattern', width: 640, height: 480, fps: 15 }, { type: 'testpattern' }],
      codec: 'h264',
      encoder: 'software',
      bitrateKbps: 1500,
      keyframeIntervalSec: 4,
      maxSessions: 8,
      peer: {
        iceServers: [
          { urls: 'stun:stun.example:3478', username: 'u', credential: 'p' },
          { urls: 'turn:turn.example:3478', username: 'u', credential: 'p' },
        ],
        icePortRange: [40000, 40100],
        announcedAddresses: ['192.0.2.10'],
      },
    });
    expect(config.health).toEqual({ port: 9000, host: '::', token: 'scrape-me' });
  });

  it.each([
    [{ CODEC: 'av1' }, /CODEC="av1": .*"vp8"\|"h264"/],
    [{ SIGNALING_URL: 'http://x' }, /SIGNALING_URL="http:\/\/x": must be a ws/],
    [{ BITRATE: 'fast' }, /BITRATE="fast"/],
    [{ BITRATE: '50' }, /BITRATE="50"/],
    [{ RTC_PORT_RANGE: '5000' }, /RTC_PORT_RANGE="5000": must be MIN-MAX/],
    [{ RTC_PORT_RANGE: '50000-40000' }, /RTC_PORT_RANGE="50000-40000": needs 1024/],
    [{ CAMERAS: 'webcam' }, /CAMERAS: camera "webcam": unknown camera "webcam"/],
    [{ ENCODER: 'gpu' }, /ENCODER="gpu"/],
  ])('rejects %j naming the variable', (env, message) => {
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(message);
  });

  it('takes stable device links (colons in by-path names) and explicit ids in CAMERAS', () => {
    const byPath = '/dev/v4l/by-path/pci-0000:00:14.0-usb-0:1:1.0-video-index0';
    expect(
      readConfig({ CAMERAS: `${byPath}:640x480@15,rear=/dev/v4l/by-id/usb-Foo_Camera_123-video-index0` })
        .sender.cameras,
    ).toEqual([
      { type: 'v4l2', device: byPath, width: 640, height: 480, fps: 15 },
      { type: 'v4l2', id: 'rear', device: '/dev/v4l/by-id/usb-Foo_Camera_123-video-index0' },
    ]);
    expect(() => readConfig({ CAMERAS: `${byPath}:640x` })).toThrow(
      /CAMERAS: camera ".*": mode "640x" is not WIDTHxHEIGHT/,
    );
  });

  it('treats empty variables as unset', () => {
    expect(readConfig({ CODEC: '', CAMERAS: '' }).sender.codec).toBe('vp8');
  });
});
