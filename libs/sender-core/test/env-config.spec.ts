import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@robocam/service';
import { readSenderConfig as readConfig } from '../src/index.js';

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
      CONTROL_TOKEN: 'drive',
      COMMAND_DEADLINE_MS: '200',
      DEADMAN_MS: '400',
      CONTROL_UDP: '127.0.0.1:9870',
      TELEMETRY_UDP_PORT: '9871',
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
      control: { enabled: true, token: 'drive', commandDeadlineMs: 200, deadmanMs: 400 },
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
    expect(config.udpBridge).toEqual({ controlTarget: '127.0.0.1:9870', telemetryPort: 9871 });
  });

  it('leaves the UDP bridge off and control open unless configured', () => {
    const config = readConfig({});
    expect(config.udpBridge).toBeUndefined();
    expect(config.sender.control).toEqual({ enabled: true });
    expect(readConfig({ CONTROL_ENABLED: 'false' }).sender.control).toEqual({ enabled: false });
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
    [{ CONTROL_UDP: '9870' }, /CONTROL_UDP="9870": must be host:port/],
    [{ DEADMAN_MS: '10' }, /DEADMAN_MS="10"/],
    [{ ICE_TRANSPORT_POLICY: 'relay' }, /ICE_SERVERS: required with ICE_TRANSPORT_POLICY=relay/],
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

  it('uses TURN relay candidates only when ICE_TRANSPORT_POLICY=relay', () => {
    const { peer } = readConfig({ ICE_SERVERS: 'turn:t:3478', ICE_TRANSPORT_POLICY: 'relay' }).sender;
    expect(peer).toEqual({ iceServers: [{ urls: 'turn:t:3478' }], iceTransportPolicy: 'relay' });
    expect(readConfig({ ICE_SERVERS: 'turn:t:3478' }).sender.peer).not.toHaveProperty('iceTransportPolicy');
  });

  it('reads PUBLISH_WHIP: camera=URL pairs, a bare URL for the first camera, one token for all', () => {
    const config = readConfig({
      CAMERAS: 'testpattern,busy',
      PUBLISH_WHIP: 'https://sfu.example/whip/front?key=a=b, busy=http://127.0.0.1:7080/whip/endpoint/cam2',
      PUBLISH_WHIP_TOKEN: 'secret',
    });
    expect(config.publish).toEqual([
      { camera: 'testpattern', url: 'https://sfu.example/whip/front?key=a=b' },
      { camera: 'busy', url: 'http://127.0.0.1:7080/whip/endpoint/cam2' },
    ]);
    expect(config.publishToken).toBe('secret');
    expect(readConfig({}).publish).toEqual([]);
  });

  it.each([
    ['ftp://sfu.example/whip', /PUBLISH_WHIP entry 1: must be URL or camera=URL/],
    ['rear=https://sfu.example/whip?token=hidden', /PUBLISH_WHIP entry 1: no camera "rear"/],
  ])('rejects PUBLISH_WHIP=%j without echoing the URL', (value, message) => {
    expect(() => readConfig({ PUBLISH_WHIP: value })).toThrow(message);
    expect(() => readConfig({ PUBLISH_WHIP: value })).not.toThrow(/hidden|ftp:/);
  });
});
