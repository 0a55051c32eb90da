import type { ServerMessageOf } from '@robocam/protocol';

/** Cumulative counters of one received video stream at one moment (from `getStats()`). */
export interface InboundSample {
  /** performance.now() of the sample, in ms. */
  at: number;
  bytesReceived: number;
  packetsReceived: number;
  packetsLost: number;
  framesDecoded: number;
  framesDropped: number;
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
  freezeCount: number;
  frameWidth: number | undefined;
  frameHeight: number | undefined;
  codec: string | undefined;
  decoder: string | undefined;
  /** Current ICE round-trip time of the selected candidate pair, in ms. */
  rttMs: number | undefined;
}

/** What the stats overlay shows: rates over the last sampling interval. */
export interface StreamStats {
  width: number | undefined;
  height: number | undefined;
  /** Frames decoded per second. */
  decodedFps: number | undefined;
  bitrateKbps: number | undefined;
  /** Packets lost over the interval, in percent. */
  packetLossPct: number | undefined;
  rttMs: number | undefined;
  /** Average time a frame spent in the jitter buffer over the interval, in ms. */
  jitterBufferMs: number | undefined;
  /** e.g. `VP8`, `H264`. */
  codec: string | undefined;
  decoder: string | undefined;
  framesDecoded: number;
  framesDropped: number;
  freezeCount: number;
}

interface StatsEntry {
  type: string;
  id: string;
  [key: string]: unknown;
}

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * Extracts the video `inbound-rtp` counters, its codec and the selected candidate pair's RTT from a
 * stats report (e.g. `receiver.getStats()`); undefined before the stream has an inbound-rtp entry.
 */
export function readInboundSample(report: Iterable<unknown>, at: number): InboundSample | undefined {
  const byId = new Map<string, StatsEntry>();
  for (const item of report) {
    // RTCStatsReport iterates [id, stats] pairs; a plain array of stats works too (tests).
    const entry = (Array.isArray(item) ? item[1] : item) as StatsEntry;
    if (typeof entry.id === 'string') byId.set(entry.id, entry);
  }
  const entries = [...byId.values()];
  const inbound = entries.find((entry) => entry.type === 'inbound-rtp' && entry.kind === 'video');
  if (inbound === undefined) return undefined;
  const codecEntry = byId.get(str(inbound.codecId) ?? '');
  const mimeType = str(codecEntry?.mimeType);
  const transport = entries.find((entry) => entry.type === 'transport');
  const pair =
    byId.get(str(transport?.selectedCandidatePairId) ?? '') ??
    entries.find(
      (entry) => entry.type === 'candidate-pair' && entry.nominated === true && entry.state === 'succeeded',
    );
  const rtt = num(pair?.currentRoundTripTime);
  return {
    at,
    bytesReceived: num(inbound.bytesReceived) ?? 0,
    packetsReceived: num(inbound.packetsReceived) ?? 0,
    packetsLost: num(inbound.packetsLost) ?? 0,
    framesDecoded: num(inbound.framesDecoded) ?? 0,
    framesDropped: num(inbound.framesDropped) ?? 0,
    jitterBufferDelay: num(inbound.jitterBufferDelay) ?? 0,
    jitterBufferEmittedCount: num(inbound.jitterBufferEmittedCount) ?? 0,
    freezeCount: num(inbound.freezeCount) ?? 0,
    frameWidth: num(inbound.frameWidth),
    frameHeight: num(inbound.frameHeight),
    codec: mimeType?.replace(/^video\//i, '').toUpperCase(),
    decoder: str(inbound.decoderImplementation),
    rttMs: rtt === undefined ? undefined : rtt * 1000,
  };
}

/** Rates between two samples of the same stream (the first sample gives sizes and totals only). */
export function streamStats(previous: InboundSample | undefined, current: InboundSample): StreamStats {
  const base = {
    width: current.frameWidth,
    height: current.frameHeight,
    rttMs: current.rttMs,
    codec: current.codec,
    decoder: current.decoder,
    framesDecoded: current.framesDecoded,
    framesDropped: current.framesDropped,
    freezeCount: current.freezeCount,
  };
  const seconds = previous === undefined ? 0 : (current.at - previous.at) / 1000;
  if (previous === undefined || seconds <= 0 || current.framesDecoded < previous.framesDecoded) {
    return {
      ...base,
      decodedFps: undefined,
      bitrateKbps: undefined,
      packetLossPct: undefined,
      jitterBufferMs: undefined,
    };
  }
  const received = current.packetsReceived - previous.packetsReceived;
  const lost = Math.max(0, current.packetsLost - previous.packetsLost);
  const emitted = current.jitterBufferEmittedCount - previous.jitterBufferEmittedCount;
  return {
    ...base,
    decodedFps: (current.framesDecoded - previous.framesDecoded) / seconds,
    bitrateKbps: ((current.bytesReceived - previous.bytesReceived) * 8) / seconds / 1000,
    packetLossPct: received + lost > 0 ? (100 * lost) / (received + lost) : 0,
    jitterBufferMs:
      emitted > 0 ? ((current.jitterBufferDelay - previous.jitterBufferDelay) / emitted) * 1000 : undefined,
  };
}

/** The middle value (mean of the two middle ones for an even count); undefined for none. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** What the sender reports of one camera's stream to this viewer (its `link-stats` messages). */
export interface SenderLinkStats {
  /** The sender's bandwidth estimate of this viewer's link, kbit/s (all cameras of the session). */
  estimateKbps: number | undefined;
  /** The camera encoder's target now, kbit/s (lowered for the camera's slowest viewers). */
  cameraKbps: number | undefined;
  /** The size the camera's frames are encoded at now (smaller on a narrow link). */
  encodedWidth: number | undefined;
  encodedHeight: number | undefined;
  /** The temporal layer this viewer gets, and the highest the encoder makes (0: one layer). */
  layer: number | undefined;
  maxLayer: number | undefined;
  /** Media waiting in the sender's pacer for this viewer, ms. */
  queueMs: number | undefined;
  /** Loss the sender's estimator saw, percent. */
  lossPct: number | undefined;
  /** Round-trip time the sender measured, ms. */
  rttMs: number | undefined;
}

/** The sender's view of `cameraId`'s stream from its latest `link-stats` message; undefined before one. */
export function senderLinkStats(
  message: ServerMessageOf<'link-stats'> | undefined,
  cameraId: string,
): SenderLinkStats | undefined {
  if (message === undefined) return undefined;
  const camera = message.cameras.find((entry) => entry.camera === cameraId);
  return {
    estimateKbps: message.estimateKbps,
    cameraKbps: camera?.targetKbps,
    encodedWidth: camera?.encodedWidth,
    encodedHeight: camera?.encodedHeight,
    layer: camera?.temporalLayer,
    maxLayer: camera?.maxTemporalLayer,
    queueMs: message.pacerQueueMs,
    lossPct: message.lossPct,
    rttMs: message.rttMs,
  };
}
