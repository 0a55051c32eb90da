import { describe, expect, it } from '@jest/globals';
import { parseIceServerLinks } from '../../src/whip/link-header.js';
import { answeredVideo, iceCredentials } from '../../src/whip/sdp.js';
import { parseRetryAfter, redactUrl, trickleFragment } from '../../src/whip/whip-client.js';

describe('Link: rel="ice-server" (RFC 9725 §4.6)', () => {
  it('reads STUN and TURN servers with credentials, from one header or several joined', () => {
    const joined = [
      '<stun:stun.example.net>; rel="ice-server"',
      '<turn:turn.example.net?transport=udp>; rel="ice-server"; username="user"; credential="my,Pass\\"word"; credential-type="password"',
      '<https://example.net/doc>; rel="help"',
    ].join(', ');
    expect(parseIceServerLinks([joined])).toEqual([
      { urls: 'stun:stun.example.net' },
      { urls: 'turn:turn.example.net?transport=udp', username: 'user', credential: 'my,Pass"word' },
    ]);
  });

  it('skips what is not an ice server and never throws', () => {
    expect(
      parseIceServerLinks([
        '<stun:a.example>; rel="preconnect"',
        '<http://a.example>; rel="ice-server"',
        'garbage, <, >;;;',
        '<turns:t.example:443?transport=tcp>; rel=ice-server; username=u; credential=p',
      ]),
    ).toEqual([{ urls: 'turns:t.example:443?transport=tcp', username: 'u', credential: 'p' }]);
    expect(parseIceServerLinks([])).toEqual([]);
  });
});

describe('the WHIP answer', () => {
  const answer = (m: string, extra: string[] = []): string =>
    ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', m, 'c=IN IP4 0.0.0.0', ...extra, ''].join('\r\n');

  it('accepts the codec the answer lists, with its H.264 profile and transport-cc', () => {
    const sdp = answer('m=video 9 UDP/TLS/RTP/SAVPF 102', [
      'a=rtpmap:102 H264/90000',
      'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42E01F',
      'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    ]);
    expect(answeredVideo(sdp, 'h264')).toEqual({
      accepted: true,
      codecs: ['h264'],
      h264ProfileLevelId: '42e01f',
      transportCc: true,
    });
    expect(answeredVideo(sdp, 'vp8').accepted).toBe(false);
  });

  it('refuses a rejected section (port 0) and an answer without video', () => {
    expect(
      answeredVideo(answer('m=video 0 UDP/TLS/RTP/SAVPF 96', ['a=rtpmap:96 VP8/90000']), 'vp8').accepted,
    ).toBe(false);
    expect(
      answeredVideo(answer('m=audio 9 UDP/TLS/RTP/SAVPF 111', ['a=rtpmap:111 opus/48000/2']), 'vp8'),
    ).toEqual({
      accepted: false,
      codecs: [],
      h264ProfileLevelId: undefined,
      transportCc: false,
    });
  });
});

describe('trickle fragments (RFC 8840)', () => {
  it('carries the offer credentials, the mid and the candidates, CRLF-terminated', () => {
    const credentials = iceCredentials('v=0\r\na=ice-ufrag:ab12\r\na=ice-pwd:secretpwd\r\na=mid:0\r\n');
    expect(credentials).toEqual({ ufrag: 'ab12', pwd: 'secretpwd', mid: '0' });
    expect(
      trickleFragment(
        credentials ?? { ufrag: '', pwd: '', mid: '' },
        ['candidate:1 1 udp 1 192.0.2.1 5000 typ host'],
        true,
      ),
    ).toBe(
      'a=ice-ufrag:ab12\r\na=ice-pwd:secretpwd\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n' +
        'a=candidate:1 1 udp 1 192.0.2.1 5000 typ host\r\na=end-of-candidates\r\n',
    );
    expect(iceCredentials('v=0\r\n')).toBeUndefined();
  });
});

describe('HTTP details', () => {
  it('reads Retry-After as seconds or a date, capped, and ignores nonsense', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('86400')).toBe(300_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('logs endpoints without credentials or query', () => {
    expect(redactUrl('https://user:pw@sfu.example/whip/cam?token=secret')).toBe(
      'https://sfu.example/whip/cam',
    );
    expect(redactUrl('not a url')).toBe('(invalid URL)');
  });
});
