import { describe, expect, it } from '@jest/globals';
import { parseClientMessage } from '@robocam/protocol';
import type { CameraStats } from '../src/camera-pipeline.js';
import { linkStatsMessage } from '../src/link-stats.js';
import type { ViewerSessionStats } from '../src/viewer-session.js';

const session: ViewerSessionStats = {
  id: 'sess_0123456789',
  viewerId: 'v-1',
  cameras: ['front'],
  connectionState: 'connected',
  packetsSent: 100,
  bytesSent: 100_000,
  nacksReceived: 0,
  plisReceived: 0,
  firsReceived: 0,
  rttMs: 2.6,
  link: {
    estimateKbps: 819.6,
    delayBasedKbps: 900,
    lossBasedKbps: 819.6,
    receivedKbps: 790.2,
    lossFraction: 0.034,
    rttMs: 2.6,
    usage: 'normal',
    pacerQueueMs: 12.4,
    pacerFramesDropped: 0,
    feedbackPackets: 40,
    probesSent: 1,
    probesSucceeded: 1,
    retransmissions: 3,
    retransmissionsDenied: 0,
  },
  tracks: [
    { camera: 'front', temporalLayer: 1, targetLayer: 1, maxLayer: 1, framesSkipped: 0, plisIgnored: 0 },
  ],
};

const front = {
  id: 'front',
  bitrateKbps: 700,
  maxBitrateKbps: 2500,
  temporalLayers: 2,
  encodedWidth: 640,
  encodedHeight: 360,
} as CameraStats;

describe('linkStatsMessage', () => {
  it('reports the link and each camera in whole units', () => {
    expect(linkStatsMessage(session, new Map([['front', front]]))).toEqual({
      type: 'link-stats',
      id: 'link-stats',
      session: session.id,
      estimateKbps: 820,
      receivedKbps: 790,
      lossPct: 3,
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
      ],
    });
  });

  it('leaves out what is not known yet: before connecting, before the first frame, a stopped encoder', () => {
    const stopped = {
      ...front,
      bitrateKbps: undefined,
      maxBitrateKbps: undefined,
      encodedWidth: undefined,
      encodedHeight: undefined,
      temporalLayers: 1,
    };
    const message = linkStatsMessage(
      { ...session, rttMs: undefined, link: undefined, tracks: [] },
      new Map([['front', stopped]]),
    );
    expect(message).toEqual({
      type: 'link-stats',
      id: 'link-stats',
      session: session.id,
      cameras: [{ camera: 'front', maxTemporalLayer: 0 }],
    });
  });

  it('keeps every value within what the signaling server accepts', () => {
    const wild = linkStatsMessage(
      {
        ...session,
        link: {
          ...session.link!,
          estimateKbps: 1e12,
          receivedKbps: Number.NaN,
          pacerQueueMs: 1e9,
          lossFraction: 1.5,
        },
      },
      new Map([['front', { ...front, bitrateKbps: -5, temporalLayers: 20 }]]),
    );
    expect(wild).toMatchObject({ estimateKbps: 10_000_000, lossPct: 100, pacerQueueMs: 600_000 });
    expect(wild).not.toHaveProperty('receivedKbps');
    expect(wild.cameras[0]).toMatchObject({ targetKbps: 0 });
    expect(parseClientMessage(JSON.stringify(wild)).ok).toBe(true);
  });
});
