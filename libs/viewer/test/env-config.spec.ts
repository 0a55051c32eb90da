import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@robocam/service';
import { readViewerConfig as readConfig } from '../src/index.js';

describe('readConfig', () => {
  it('has defaults for everything', () => {
    expect(readConfig({})).toEqual({
      port: 8080,
      host: '::',
      logLevel: 'info',
      signaling: { kind: 'port', port: 8765 },
      trustProxy: false,
    });
  });

  it('reads every variable; empty strings mean unset', () => {
    expect(
      readConfig({
        PORT: '9000',
        HOST: '0.0.0.0',
        LOG_LEVEL: 'debug',
        SIGNALING_PORT: '9765',
        TRUST_PROXY: 'true',
        SIGNALING_URL: '',
      }),
    ).toEqual({
      port: 9000,
      host: '0.0.0.0',
      logLevel: 'debug',
      signaling: { kind: 'port', port: 9765 },
      trustProxy: true,
    });
  });

  it('prefers PUBLIC_SIGNALING_URL over SIGNALING_URL, and takes paths for reverse proxies', () => {
    expect(readConfig({ SIGNALING_URL: 'ws://robot:8765' }).signaling).toEqual({
      kind: 'url',
      url: 'ws://robot:8765',
    });
    expect(
      readConfig({ SIGNALING_URL: 'ws://localhost:8765', PUBLIC_SIGNALING_URL: 'wss://robot.example/signal' })
        .signaling,
    ).toEqual({ kind: 'url', url: 'wss://robot.example/signal' });
    expect(readConfig({ PUBLIC_SIGNALING_URL: '/signal' }).signaling).toEqual({
      kind: 'path',
      path: '/signal',
    });
  });

  it('names every bad variable and what it accepts', () => {
    let error: unknown;
    try {
      readConfig({
        PORT: 'eighty',
        SIGNALING_URL: 'http://robot:8765',
        LOG_LEVEL: 'loud',
        TRUST_PROXY: 'yes',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/PORT="eighty"/);
    expect(message).toMatch(/SIGNALING_URL="http:\/\/robot:8765": must be a ws:\/\/ or wss:\/\/ URL/);
    expect(message).toMatch(/LOG_LEVEL="loud"/);
    expect(message).toMatch(/TRUST_PROXY="yes"/);
  });

  it('refuses protocol-relative and backslash paths', () => {
    expect(() => readConfig({ PUBLIC_SIGNALING_URL: '//evil.example' })).toThrow(ConfigError);
    expect(() => readConfig({ PUBLIC_SIGNALING_URL: '/\\evil.example' })).toThrow(ConfigError);
  });

  it('reads ICE servers with the sender’s variable names: static or derived TURN credentials', () => {
    expect(
      readConfig({ ICE_SERVERS: 'stun:a:3478, turn:a:3478', ICE_USERNAME: 'u', ICE_CREDENTIAL: 'p' })
        .iceServers,
    ).toEqual({
      urls: ['stun:a:3478', 'turn:a:3478'],
      username: 'u',
      credential: 'p',
      iceTransportPolicy: 'all',
    });
    expect(
      readConfig({
        ICE_SERVERS: 'turn:a:3478',
        ICE_USERNAME: 'ignored',
        ICE_SECRET: 's3cret',
        ICE_CREDENTIAL_TTL: '600',
        ICE_TRANSPORT_POLICY: 'relay',
      }).iceServers,
    ).toEqual({
      urls: ['turn:a:3478'],
      secret: 's3cret',
      credentialTtlSec: 600,
      iceTransportPolicy: 'relay',
    });
  });

  it('refuses a TURN secret or relay-only policy without ICE_SERVERS, naming the variable', () => {
    expect(() => readConfig({ ICE_SECRET: 'x' })).toThrow(ConfigError);
    expect(() => readConfig({ ICE_TRANSPORT_POLICY: 'relay' })).toThrow(/ICE_SERVERS/);
    expect(() => readConfig({ ICE_SERVERS: 'turn:a', ICE_TRANSPORT_POLICY: 'none' })).toThrow(
      /ICE_TRANSPORT_POLICY/,
    );
  });
});
