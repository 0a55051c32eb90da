import { describe, expect, it } from '@jest/globals';
import { cspSourceOf, parseHost, resolveSignalingUrl } from '../src/signaling-url.js';

describe('resolveSignalingUrl', () => {
  const port = { kind: 'port', port: 8765 } as const;

  it('uses the page host on the signaling port, ws for http and wss for https', () => {
    expect(resolveSignalingUrl(port, { host: 'robot.local:8080', secure: false })).toBe(
      'ws://robot.local:8765',
    );
    expect(resolveSignalingUrl(port, { host: 'robot.example', secure: true })).toBe(
      'wss://robot.example:8765',
    );
    expect(resolveSignalingUrl(port, { host: '192.168.1.20:8080', secure: false })).toBe(
      'ws://192.168.1.20:8765',
    );
    expect(resolveSignalingUrl(port, { host: '[fe80::1]:8080', secure: false })).toBe('ws://[fe80::1]:8765');
  });

  it('keeps the page origin for a path (reverse proxy)', () => {
    const path = { kind: 'path', path: '/signal' } as const;
    expect(resolveSignalingUrl(path, { host: 'robot.example', secure: true })).toBe(
      'wss://robot.example/signal',
    );
    expect(resolveSignalingUrl(path, { host: 'robot.local:8080', secure: false })).toBe(
      'ws://robot.local:8080/signal',
    );
  });

  it('returns a fixed URL as is, whatever the request', () => {
    const url = { kind: 'url', url: 'wss://signal.example/ws' } as const;
    expect(resolveSignalingUrl(url, { host: undefined, secure: false })).toBe('wss://signal.example/ws');
  });

  it('refuses Host headers that are not a plain host and port', () => {
    for (const host of [
      undefined,
      '',
      'a b',
      'evil.example/x',
      'user@evil.example',
      "x';script-src *",
      'x"y',
      'x:99999999',
    ]) {
      expect({ host, url: resolveSignalingUrl(port, { host, secure: false }) }).toEqual({
        host,
        url: undefined,
      });
    }
  });
});

describe('parseHost', () => {
  it('normalizes names and addresses', () => {
    expect(parseHost('Robot.Local:8080')).toEqual({ hostname: 'robot.local', port: '8080' });
    expect(parseHost('[::1]')).toEqual({ hostname: '[::1]', port: '' });
  });
});

describe('cspSourceOf', () => {
  it('gives the origin of ws URLs only', () => {
    expect(cspSourceOf('ws://robot.local:8765/path?x=1')).toBe('ws://robot.local:8765');
    expect(cspSourceOf('wss://robot.example/signal')).toBe('wss://robot.example');
    expect(cspSourceOf('http://robot.example')).toBeUndefined();
    expect(cspSourceOf('not a url')).toBeUndefined();
  });
});
