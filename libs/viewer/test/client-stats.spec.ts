import { describe, expect, it } from '@jest/globals';
import {
  formatBitrate,
  formatFps,
  formatMs,
  formatPercent,
  formatSenderLink,
  formatSize,
} from '../src/client/format.js';
import { median, readInboundSample, senderLinkStats, streamStats } from '../src/client/stats.js';
import {
  byeCodeSchema,
  errorCodeSchema,
  isRetryableByeCode,
  parseServerMessage,
  type ServerMessageOf,
} from '@robocam/protocol';
import { isRefusal, tileStatus, type TileConditions } from '../src/client/status.js';

/** A getStats() report of a receiver as Chromium produces it (only the fields used). */
function report(over: {
  bytes: number;
  packets: number;
  lost: number;
  frames: number;
  jbDelay: number;
  jbCount: number;
}): [string, object][] {
  return [
    [
      'IT01V1',
      {
        id: 'IT01V1',
        type: 'inbound-rtp',
        kind: 'video',
        codecId: 'CIT01_96',
        bytesReceived: over.bytes,
        packetsReceived: over.packets,
        packetsLost: over.lost,
        framesDecoded: over.frames,
        framesDropped: 0,
        jitterBufferDelay: over.jbDelay,
        jitterBufferEmittedCount: over.jbCount,
        frameWidth: 640,
        frameHeight: 480,
        decoderImplementation: 'libvpx',
      },
    ],
    ['CIT01_96', { id: 'CIT01_96', type: 'codec', mimeType: 'video/VP8' }],
    ['T01', { id: 'T01', type: 'transport', selectedCandidatePairId: 'CP1' }],
    [
      'CP1',
      { id: 'CP1', type: 'candidate-pair', currentRoundTripTime: 0.004, nominated: true, state: 'succeeded' },
    ],
  ];
}

describe('stats', () => {
  it('reads the inbound video stream, its codec and the selected pair’s RTT', () => {
    const sample = readInboundSample(
      report({ bytes: 1000, packets: 10, lost: 0, frames: 5, jbDelay: 0.1, jbCount: 5 }),
      1000,
    );
    expect(sample).toMatchObject({
      codec: 'VP8',
      rttMs: 4,
      frameWidth: 640,
      frameHeight: 480,
      decoder: 'libvpx',
    });
    expect(readInboundSample([], 0)).toBeUndefined();
  });

  it('turns two samples into rates', () => {
    const a = readInboundSample(
      report({ bytes: 0, packets: 0, lost: 0, frames: 0, jbDelay: 0, jbCount: 0 }),
      0,
    );
    const b = readInboundSample(
      report({ bytes: 125_000, packets: 95, lost: 5, frames: 30, jbDelay: 0.6, jbCount: 30 }),
      1000,
    );
    if (a === undefined || b === undefined) throw new Error('no samples');
    expect(streamStats(undefined, a)).toMatchObject({
      width: 640,
      decodedFps: undefined,
      bitrateKbps: undefined,
    });
    const stats = streamStats(a, b);
    expect(stats.decodedFps).toBeCloseTo(30);
    expect(stats.bitrateKbps).toBeCloseTo(1000);
    expect(stats.packetLossPct).toBeCloseTo(5);
    expect(stats.jitterBufferMs).toBeCloseTo(20);
  });

  it('takes medians', () => {
    expect(median([])).toBeUndefined();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('tile status', () => {
  const base: TileConditions = {
    pageVisible: true,
    onScreen: true,
    cameraLost: false,
    cameraDetail: undefined,
    playing: false,
    senderOnline: true,
    signalingOpen: true,
    sessionOpen: true,
    lastFailure: undefined,
    fatal: undefined,
  };

  it('says what the tile is doing, most important first', () => {
    expect(tileStatus({ ...base, playing: true })).toEqual({ status: 'live', text: 'live' });
    expect(tileStatus({ ...base, playing: true, signalingOpen: false }).status).toBe('live');
    expect(tileStatus(base)).toEqual({ status: 'connecting', text: 'connecting…' });
    expect(tileStatus({ ...base, senderOnline: false })).toEqual({
      status: 'no-sender',
      text: 'no sender online',
    });
    expect(tileStatus({ ...base, signalingOpen: false }).status).toBe('reconnecting');
    expect(tileStatus({ ...base, lastFailure: 'connection failed' })).toEqual({
      status: 'reconnecting',
      text: 'reconnecting (connection failed)',
    });
    expect(tileStatus({ ...base, fatal: 'too many viewers' })).toEqual({
      status: 'error',
      text: 'error: too many viewers',
    });
    expect(tileStatus({ ...base, cameraLost: true, cameraDetail: 'unplugged', playing: true })).toEqual({
      status: 'camera-lost',
      text: 'camera lost: unplugged',
    });
    expect(tileStatus({ ...base, pageVisible: false, playing: true }).status).toBe('paused');
    expect(tileStatus({ ...base, onScreen: false }).text).toBe('paused (not on screen)');
  });

  it('takes a bye as a refusal exactly when its code is not retryable', () => {
    const refused = byeCodeSchema.options.filter((code) => isRefusal({ origin: 'remote', code }));
    expect(refused.sort()).toEqual(['bad-offer', 'no-common-codec', 'unknown-camera']);
    // A seat may free up, a camera may come back, a sender restarts: retried with backoff.
    for (const code of ['too-many-viewers', 'shutting-down', 'camera-failed', 'closed'] as const) {
      expect(isRefusal({ origin: 'remote', code })).toBe(false);
    }
    // A bye from a sender older than the code field: the session takes code 'closed', retryable.
    expect(isRetryableByeCode(undefined)).toBe(true);
  });

  it('takes a signaling error as a refusal when the server refuses the viewer or the message', () => {
    const refused = errorCodeSchema.options.filter((code) => isRefusal({ origin: 'remote', code }));
    expect(refused.sort()).toEqual([
      'bad-json',
      'bad-message',
      'binary-not-supported',
      'forbidden',
      'server-full',
      'too-large',
      'unauthorized',
      'unsupported-version',
    ]);
    expect(isRefusal({ origin: 'remote', code: 'sender-offline' })).toBe(false);
    expect(isRefusal({ origin: 'remote', code: 'unknown-peer' })).toBe(false);
  });

  it('never takes the page’s own closes and failures for refusals, whatever the code', () => {
    for (const origin of ['local', 'parent', 'failure'] as const) {
      expect(isRefusal({ origin, code: 'unknown-camera' })).toBe(false);
      expect(isRefusal({ origin, code: 'unauthorized' })).toBe(false);
    }
    expect(isRefusal({ origin: 'failure', code: 'connect-timeout' })).toBe(false);
    expect(isRefusal({ origin: 'failure', code: 'signaling-lost' })).toBe(false);
  });
});

describe('formatting', () => {
  it('formats the overlay numbers', () => {
    expect(formatMs(12.6)).toBe('13 ms');
    expect(formatMs(undefined)).toBe('–');
    expect(formatFps(29.97)).toBe('30.0 fps');
    expect(formatBitrate(850)).toBe('850 kbit/s');
    expect(formatBitrate(2500)).toBe('2.50 Mbit/s');
    expect(formatPercent(0.25)).toBe('0.3 %');
    expect(formatPercent(12.4)).toBe('12 %');
    expect(formatSize(640, 480)).toBe('640×480');
    expect(formatSize(0, 0)).toBe('–');
  });
});

describe('the sender’s view of the link', () => {
  // A link-stats message as the signaling server delivers it (parsed, like the page does).
  const parsed = parseServerMessage(
    JSON.stringify({
      type: 'link-stats',
      session: 'sess_0123456789',
      from: 's-1',
      estimateKbps: 820,
      lossPct: 0,
      rttMs: 3,
      pacerQueueMs: 12,
      cameras: [
        {
          camera: 'front',
          targetKbps: 700,
          maxKbps: 2500,
          encodedWidth: 640,
          encodedHeight: 360,
          temporalLayer: 1,
          maxTemporalLayer: 1,
        },
        { camera: 'rear', targetKbps: 300, maxTemporalLayer: 0 },
      ],
    }),
  );
  if (!parsed.ok || parsed.message.type !== 'link-stats') throw new Error('test message does not parse');
  const message: ServerMessageOf<'link-stats'> = parsed.message;

  it('picks the tile’s camera out of the session’s report', () => {
    expect(senderLinkStats(message, 'front')).toEqual({
      estimateKbps: 820,
      cameraKbps: 700,
      encodedWidth: 640,
      encodedHeight: 360,
      layer: 1,
      maxLayer: 1,
      queueMs: 12,
      lossPct: 0,
      rttMs: 3,
    });
    expect(senderLinkStats(message, 'rear')).toMatchObject({
      cameraKbps: 300,
      layer: undefined,
      maxLayer: 0,
    });
    expect(senderLinkStats(undefined, 'front')).toBeUndefined();
  });

  it('formats one overlay line, with dashes for what the sender does not know yet', () => {
    expect(formatSenderLink(senderLinkStats(message, 'front'))).toBe(
      'est 820 kbit/s · cam 700 kbit/s 640×360 · layer 1/1 · queue 12 ms · loss 0 %',
    );
    expect(formatSenderLink(senderLinkStats(message, 'rear'))).toBe(
      'est 820 kbit/s · cam 300 kbit/s – · layer – · queue 12 ms · loss 0 %',
    );
    expect(formatSenderLink(undefined)).toBe('–');
  });
});
