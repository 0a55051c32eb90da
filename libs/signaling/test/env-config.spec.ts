import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@robocam/service';
import { readSignalingConfig as readConfig } from '../src/index.js';

describe('readConfig', () => {
  it('defaults to port 8765 on every interface, open, with process metrics', () => {
    expect(readConfig({})).toEqual({
      logLevel: 'info',
      server: { port: 8765, host: '::', processMetrics: true },
    });
  });

  it('maps every variable to its server setting', () => {
    const config = readConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      SENDER_TOKEN: 's',
      VIEWER_TOKEN: 'v',
      ALLOWED_ORIGINS: 'http://a.test, http://b.test',
      MAX_CONNECTIONS: '10',
      MAX_MESSAGE_BYTES: '2048',
      MESSAGES_PER_SECOND: '5',
      HEARTBEAT_MS: '1000',
      ICE_SERVERS: 'stun:stun.test,turn:turn.test',
      ICE_USERNAME: 'u',
      ICE_CREDENTIAL: 'c',
    });
    expect(config).toEqual({
      logLevel: 'debug',
      server: {
        port: 9000,
        host: '127.0.0.1',
        processMetrics: true,
        senderToken: 's',
        viewerToken: 'v',
        allowedOrigins: ['http://a.test', 'http://b.test'],
        maxConnections: 10,
        maxMessageBytes: 2048,
        messagesPerSecond: 5,
        heartbeatMs: 1000,
        whepIceServers: [
          { urls: 'stun:stun.test', username: 'u', credential: 'c' },
          { urls: 'turn:turn.test', username: 'u', credential: 'c' },
        ],
      },
    });
  });

  it('names the bad variable', () => {
    expect(() => readConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => readConfig({ MAX_CONNECTIONS: '0' })).toThrow(/MAX_CONNECTIONS/);
  });
});
