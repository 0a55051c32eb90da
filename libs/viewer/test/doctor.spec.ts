import { describe, expect, it } from '@jest/globals';
import {
  diagnose,
  diagnoseSender,
  parseCandidate,
  type ConnectivityFacts,
  type SenderFacts,
} from '../src/index.js';

const host = (address: string, protocol: 'udp' | 'tcp' = 'udp') =>
  parseCandidate(`candidate:1 1 ${protocol} 2122260223 ${address} 40000 typ host`)!;
const relay = parseCandidate('candidate:3 1 udp 41885439 198.18.0.9 3478 typ relay raddr 0.0.0.0 rport 0')!;

/** A session that played: every step done. */
const playing: ConnectivityFacts = {
  elapsedMs: 5_000,
  answered: true,
  localCandidates: [host('192.168.1.20')],
  remoteCandidates: [host('192.168.1.5')],
  gatheringComplete: true,
  iceState: 'connected',
  dtlsState: 'connected',
  timings: { 'ice:checking': 120, 'ice:connected': 180, 'dtls:connected': 230 },
  selectedPair: { local: host('192.168.1.20'), remote: host('192.168.1.5'), rttMs: 2 },
  packetsReceived: 900,
  framesDecoded: 120,
  cameraLost: false,
  senderCpuBound: false,
};
/** ICE gave up after checking every pair. */
const iceFailed: ConnectivityFacts = {
  ...playing,
  elapsedMs: 12_000,
  iceState: 'failed',
  dtlsState: 'new',
  timings: { 'ice:checking': 120, 'ice:failed': 11_000 },
  selectedPair: null,
  packetsReceived: 0,
  framesDecoded: 0,
};

describe('parseCandidate', () => {
  it('reads type, protocol, family, address and port, with or without a=', () => {
    expect(
      parseCandidate(
        'a=candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 10.0.0.2 rport 61665',
      ),
    ).toEqual({
      type: 'srflx',
      protocol: 'udp',
      family: 'ipv4',
      address: '203.0.113.7',
      port: 61665,
    });
    expect(
      parseCandidate('candidate:1 1 TCP 1518280447 2001:db8::5 9 typ host tcptype active'),
    ).toMatchObject({
      protocol: 'tcp',
      family: 'ipv6',
    });
    expect(parseCandidate('candidate:1 1 udp 2122260223 4f1c0d2e-1a2b.local 5000 typ host')?.family).toBe(
      'mdns',
    );
  });

  it('refuses what is not a candidate', () => {
    expect(parseCandidate('')).toBeUndefined();
    expect(parseCandidate('a=fingerprint:sha-256 00:11')).toBeUndefined();
    expect(parseCandidate('candidate:1 1 udp 1 10.0.0.1 5000 typ bogus')).toBeUndefined();
  });
});

describe('diagnose', () => {
  it('says playing, with the selected pair', () => {
    expect(diagnose(playing)).toEqual({
      code: 'playing',
      ok: true,
      summary: 'Playing over host/udp ipv4 ↔ host/udp ipv4.',
      nextStep: '',
    });
  });

  it('is patient within the deadlines, then names the missing step', () => {
    const waiting = {
      ...playing,
      answered: false,
      elapsedMs: 2_000,
      iceState: 'new',
      dtlsState: null,
      timings: {},
    };
    expect(diagnose(waiting)).toMatchObject({ code: 'connecting', ok: true });
    expect(diagnose({ ...waiting, elapsedMs: 10_001 })).toMatchObject({ code: 'no-answer', ok: false });
    const checking = { ...iceFailed, iceState: 'checking', elapsedMs: 4_000 };
    expect(diagnose(checking).code).toBe('connecting');
    expect(diagnose({ ...checking, elapsedMs: 10_001 }).code).toBe('no-udp-path');
  });

  it('tells a lost camera before anything else', () => {
    const verdict = diagnose({ ...iceFailed, cameraLost: true, cameraDetail: 'device unplugged' });
    expect(verdict.code).toBe('camera-lost');
    expect(verdict.summary).toContain('device unplugged');
  });

  it('tells a blocked UDP path from a silent sender, a family mismatch and a failed relay', () => {
    const blocked = diagnose(iceFailed);
    expect(blocked.code).toBe('no-udp-path');
    expect(blocked.nextStep).toMatch(/RTC_PORT_RANGE.*TURN/);
    // The addresses the robot offered are named: a wrong ANNOUNCED_IPS shows in the verdict.
    expect(
      diagnose({ ...iceFailed, remoteCandidates: [host('192.0.2.1'), host('192.168.1.5')] }).summary,
    ).toContain('the robot offered 192.0.2.1:40000, 192.168.1.5:40000');
    expect(diagnose({ ...iceFailed, remoteCandidates: [] }).code).toBe('no-sender-candidates');
    expect(diagnose({ ...iceFailed, remoteCandidates: [host('2001:db8::5')] }).code).toBe('no-common-family');
    // A browser's .local name may hide either family: not a mismatch.
    expect(
      diagnose({
        ...iceFailed,
        localCandidates: [host('a1b2.local')],
        remoteCandidates: [host('2001:db8::5')],
      }).code,
    ).toBe('no-udp-path');
    expect(diagnose({ ...iceFailed, localCandidates: [host('192.168.1.20'), relay] }).code).toBe(
      'relay-failed',
    );
  });

  it('tells a DTLS failure from an ICE one', () => {
    const verdict = diagnose({ ...playing, dtlsState: 'failed', packetsReceived: 0, framesDecoded: 0 });
    expect(verdict.code).toBe('dtls-failed');
  });

  it('waits for a slow DTLS handshake instead of blaming the sender, then calls it failed', () => {
    const handshaking = { ...playing, dtlsState: 'connecting', packetsReceived: 0, framesDecoded: 0 };
    // Past the media deadline (3 s after ICE) but within the connect deadline: still connecting.
    expect(diagnose({ ...handshaking, elapsedMs: 5_000 }).code).toBe('connecting');
    expect(diagnose({ ...handshaking, elapsedMs: 30_000 }).code).toBe('dtls-failed');
    expect(diagnose({ ...handshaking, elapsedMs: 2_000, ended: true }).code).toBe('dtls-failed');
  });

  it('tells no RTP from no decoded frames, after the media deadline', () => {
    const noRtp = { ...playing, packetsReceived: 0, framesDecoded: 0 };
    expect(diagnose({ ...noRtp, elapsedMs: 2_000 }).code).toBe('connecting');
    expect(diagnose({ ...noRtp, elapsedMs: 4_000 }).code).toBe('no-rtp');
    const undecoded = { ...playing, framesDecoded: 0 };
    expect(diagnose({ ...undecoded, elapsedMs: 4_000 }).code).toBe('connecting');
    const verdict = diagnose({ ...undecoded, elapsedMs: 8_000 });
    expect(verdict.code).toBe('not-decoding');
    expect(verdict.nextStep).toContain('CODEC=vp8');
  });

  it('tells an interrupted connection and a CPU-bound sender', () => {
    expect(diagnose({ ...playing, iceState: 'disconnected' }).code).toBe('interrupted');
    expect(diagnose({ ...playing, senderCpuBound: true })).toMatchObject({
      code: 'sender-cpu-bound',
      ok: false,
    });
  });

  it('judges a session the page gave up on without waiting for the deadlines', () => {
    const checking = { ...iceFailed, iceState: 'checking', elapsedMs: 4_000, ended: true };
    expect(diagnose(checking).code).toBe('no-udp-path');
    expect(diagnose({ ...checking, answered: false }).code).toBe('no-answer');
    expect(
      diagnose({ ...playing, elapsedMs: 1_000, packetsReceived: 0, framesDecoded: 0, ended: true }).code,
    ).toBe('no-rtp');
  });

  it('takes other deadlines', () => {
    const waiting = { ...playing, answered: false, elapsedMs: 2_000 };
    expect(diagnose(waiting, { answerMs: 1_000 }).code).toBe('no-answer');
  });
});

describe('diagnoseSender', () => {
  const streaming: SenderFacts = {
    signaling: 'open',
    cameras: [{ id: 'front', lost: false, running: true, fps: 30, encodeMsAvg: 9 }],
    sessions: [{ id: 's1', connectionState: 'connected', packetsSent: 500 }],
  };

  it('says streaming, idle or connecting when nothing is wrong', () => {
    expect(diagnoseSender(streaming)).toMatchObject({ code: 'playing', ok: true });
    expect(diagnoseSender({ ...streaming, sessions: [] }).code).toBe('idle');
    expect(
      diagnoseSender({
        ...streaming,
        sessions: [{ id: 's1', connectionState: 'connecting', packetsSent: 0 }],
      }).code,
    ).toBe('connecting');
  });

  it('names what is wrong on the robot, most basic first', () => {
    expect(diagnoseSender({ ...streaming, signaling: 'connecting' }).code).toBe('not-registered');
    const lost = diagnoseSender({
      ...streaming,
      cameras: [{ ...streaming.cameras[0]!, lost: true, detail: 'device unplugged' }],
    });
    expect(lost.code).toBe('camera-lost');
    expect(lost.summary).toContain('front (device unplugged)');
    // 30 fps leaves 33 ms a frame: 31 ms of encoding cannot keep up.
    const slow = diagnoseSender({ ...streaming, cameras: [{ ...streaming.cameras[0]!, encodeMsAvg: 31 }] });
    expect(slow.code).toBe('sender-cpu-bound');
    expect(slow.nextStep).toContain('CAMERAS');
    expect(
      diagnoseSender({
        ...streaming,
        cameras: [{ ...streaming.cameras[0]!, encodeMsAvg: 31, running: false }],
      }).code,
    ).toBe('playing');
    expect(
      diagnoseSender({
        ...streaming,
        sessions: [...streaming.sessions, { id: 's2', connectionState: 'failed', packetsSent: 0 }],
      }).code,
    ).toBe('sessions-failed');
  });
});
