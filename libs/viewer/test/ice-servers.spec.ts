import { describe, expect, it } from '@jest/globals';
import { pageIceServers, turnRestCredentials } from '../src/ice-servers.js';

describe('turnRestCredentials (coturn use-auth-secret)', () => {
  it('derives `<expiry>:<name>` and base64(HMAC-SHA1(secret, username))', () => {
    // Reference value computed independently: printf '1700086400:robocam' | openssl dgst -sha1 -hmac s3cret -binary | base64
    const creds = turnRestCredentials('s3cret', { nowMs: 1_700_000_000_123, ttlSec: 86_400 });
    expect(creds.username).toBe('1700086400:robocam');
    expect(creds.expiresAt).toBe(1_700_086_400);
    expect(creds.credential).toBe('RJpWue4QDgUdVmhi0+MNmmiVc2M=');
  });

  it('uses the given name and lifetime', () => {
    const creds = turnRestCredentials('k', { nowMs: 1_000_000, ttlSec: 60, name: 'lab-page' });
    expect(creds.username).toBe('1060:lab-page');
  });
});

describe('pageIceServers', () => {
  it('hands out static credentials as configured, or none', () => {
    expect(pageIceServers({ urls: ['stun:s:3478', 'turn:t:3478'], username: 'u', credential: 'p' })).toEqual([
      { urls: ['stun:s:3478', 'turn:t:3478'], username: 'u', credential: 'p' },
    ]);
    expect(pageIceServers({ urls: ['stun:s:3478'] })).toEqual([{ urls: ['stun:s:3478'] }]);
    expect(pageIceServers({ urls: [] })).toEqual([]);
  });

  it('derives fresh credentials from the secret at every call, ignoring static ones', () => {
    const settings = {
      urls: ['turn:t:3478'],
      username: 'u',
      credential: 'p',
      secret: 'k',
      credentialTtlSec: 600,
    };
    const [early] = pageIceServers(settings, 1_000_000);
    const [late] = pageIceServers(settings, 2_000_000);
    expect(early?.urls).toEqual(['turn:t:3478']);
    expect(early?.username).toBe('1600:robocam');
    expect(early?.credential).toBe(turnRestCredentials('k', { nowMs: 1_000_000, ttlSec: 600 }).credential);
    expect(late?.username).toBe('2600:robocam');
    expect(late?.credential).not.toBe(early?.credential);
  });
});
