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
});
