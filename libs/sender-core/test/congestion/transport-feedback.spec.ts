import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { RtcpPacketConverter, RtcpTransportLayerFeedback } from 'werift';
import { transportFeedbackBytes } from '../../src/viewer-link.js';

import {
  REFERENCE_TIME_WRAP_US,
  ReferenceTimeUnwrapper,
  SequenceUnwrapper,
  decodeTransportFeedback,
  type TransportFeedback,
} from '../../src/congestion/index.js';

/** Builds a feedback packet byte by byte, chunk words and delta bytes exactly as given. */
function packet({
  base = 100,
  count,
  referenceTime = 1000,
  feedbackCount = 7,
  chunks,
  deltas = [],
}: {
  base?: number;
  count: number;
  referenceTime?: number;
  feedbackCount?: number;
  chunks: number[];
  deltas?: number[];
}): Uint8Array {
  const body = 20 + chunks.length * 2 + deltas.length;
  const padded = Math.ceil(body / 4) * 4;
  const bytes = new Uint8Array(padded);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, 0x80 | 15);
  view.setUint8(1, 205);
  view.setUint16(2, padded / 4 - 1);
  view.setUint32(4, 0x11111111);
  view.setUint32(8, 0x22222222);
  view.setUint16(12, base);
  view.setUint16(14, count);
  view.setUint32(16, ((referenceTime & 0xffffff) << 8) | feedbackCount);
  chunks.forEach((chunk, i) => view.setUint16(20 + i * 2, chunk));
  bytes.set(deltas, 20 + chunks.length * 2);
  return bytes;
}

function decode(bytes: Uint8Array): TransportFeedback {
  const result = decodeTransportFeedback(bytes);
  if (!result.ok) throw new Error(`decode failed: ${result.error}`);
  return result.feedback;
}

const REF_US = 1000 * 64_000;

describe('decodeTransportFeedback', () => {
  it('reads the header fields', () => {
    const feedback = decode(
      packet({ base: 4242, count: 1, feedbackCount: 9, chunks: [0x2001], deltas: [4] }),
    );
    expect(feedback).toMatchObject({
      senderSsrc: 0x11111111,
      mediaSsrc: 0x22222222,
      baseSequence: 4242,
      feedbackPacketCount: 9,
      referenceTimeUs: REF_US,
    });
  });

  it('run-length chunk of received packets with small deltas (250 µs units)', () => {
    // T=0, S=01 (small delta), run 3; deltas 1 ms, 2 ms, 0 ms.
    const feedback = decode(packet({ count: 3, chunks: [0x2003], deltas: [4, 8, 0] }));
    expect(feedback.packets).toEqual([
      { sequence: 100, receivedAtUs: REF_US + 1000 },
      { sequence: 101, receivedAtUs: REF_US + 3000 },
      { sequence: 102, receivedAtUs: REF_US + 3000 },
    ]);
  });

  it('a run longer than the status count reports only status-count packets (werift reports one more)', () => {
    const feedback = decode(packet({ count: 2, chunks: [0x2005], deltas: [1, 1] }));
    expect(feedback.packets).toHaveLength(2);
  });

  it('run-length chunk of lost packets carries no deltas', () => {
    const feedback = decode(packet({ count: 5, chunks: [0x0005] }));
    expect(feedback.packets.map((p) => p.receivedAtUs)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(feedback.packets.map((p) => p.sequence)).toEqual([100, 101, 102, 103, 104]);
  });

  it('1-bit status vector: 14 symbols, received or not', () => {
    // T=1, S=0, symbols 1 0 1 1 then zeros; count 4.
    const chunk = 0b1000_0000_0000_0000 | (0b1011 << 10);
    const feedback = decode(packet({ count: 4, chunks: [chunk], deltas: [2, 2, 2] }));
    expect(feedback.packets).toEqual([
      { sequence: 100, receivedAtUs: REF_US + 500 },
      { sequence: 101, receivedAtUs: undefined },
      { sequence: 102, receivedAtUs: REF_US + 1000 },
      { sequence: 103, receivedAtUs: REF_US + 1500 },
    ]);
  });

  it('2-bit status vector with a large negative delta', () => {
    // T=1, S=1, symbols 01 10 00 01 (small, large, lost, small) then zeros; count 4.
    const chunk = 0b1100_0000_0000_0000 | (0b01_10_00_01 << 6);
    // small +10 ms (40), large −2 ms (int16 −8 = 0xfff8), small +0.25 ms (1).
    const feedback = decode(packet({ count: 4, chunks: [chunk], deltas: [40, 0xff, 0xf8, 1] }));
    expect(feedback.packets).toEqual([
      { sequence: 100, receivedAtUs: REF_US + 10_000 },
      { sequence: 101, receivedAtUs: REF_US + 8_000 },
      { sequence: 102, receivedAtUs: undefined },
      { sequence: 103, receivedAtUs: REF_US + 8_250 },
    ]);
  });

  it('mixes chunk kinds and wraps the 16-bit sequence', () => {
    // A 2-bit vector of 7 (small, small, lost, small, lost, lost, lost), then a run of 2 small.
    const vector2 = 0b1100_0000_0000_0000 | (0b01_01_00_01_00_00_00 << 0);
    const feedback = decode(
      packet({ base: 65_534, count: 9, chunks: [vector2, 0x2002], deltas: [4, 4, 4, 4, 4] }),
    );
    expect(feedback.packets.map((p) => p.sequence)).toEqual([65_534, 65_535, 0, 1, 2, 3, 4, 5, 6]);
    expect(feedback.packets.map((p) => p.receivedAtUs)).toEqual([
      REF_US + 1000,
      REF_US + 2000,
      undefined,
      REF_US + 3000,
      undefined,
      undefined,
      undefined,
      REF_US + 4000,
      REF_US + 5000,
    ]);
  });

  it('large positive deltas (over 63.75 ms) use two bytes', () => {
    const chunk = 0b0100_0000_0000_0001; // run-length, S=10 (large), run 1
    const feedback = decode(packet({ count: 1, chunks: [chunk], deltas: [0x01, 0x90] })); // 400 × 250 µs
    expect(feedback.packets[0]!.receivedAtUs).toBe(REF_US + 100_000);
  });

  it('reference time is 24 bits of 64 ms', () => {
    const feedback = decode(packet({ count: 1, referenceTime: 0xffffff, chunks: [0x2001], deltas: [0] }));
    expect(feedback.referenceTimeUs).toBe(0xffffff * 64_000);
  });

  it('refuses malformed packets with a reason instead of throwing', () => {
    const good = packet({ count: 3, chunks: [0x2003], deltas: [4, 8, 0] });
    expect(decodeTransportFeedback(good.subarray(0, 12))).toEqual({ ok: false, error: 'truncated' });
    const wrongType = good.slice();
    wrongType[1] = 206;
    expect(decodeTransportFeedback(wrongType)).toEqual({ ok: false, error: 'not-transport-cc' });
    expect(decodeTransportFeedback(packet({ count: 3, chunks: [0x2003], deltas: [4] }))).toEqual({
      ok: false,
      error: 'missing-deltas',
    });
    expect(decodeTransportFeedback(packet({ count: 1, chunks: [0x6001] }))).toEqual({
      ok: false,
      error: 'reserved-symbol',
    });
    expect(decodeTransportFeedback(packet({ count: 0, chunks: [] }))).toEqual({ ok: false, error: 'empty' });
    expect(decodeTransportFeedback(packet({ count: 40, chunks: [0x2003] }))).toEqual({
      ok: false,
      error: 'truncated',
    });
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.boolean(), (bytes, asFeedback) => {
        if (asFeedback && bytes.length >= 4) {
          bytes[0] = 0x8f;
          bytes[1] = 205;
          bytes[2] = 0;
          bytes[3] = Math.floor(bytes.length / 4) - 1;
        }
        const result = decodeTransportFeedback(bytes);
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });
});

describe('unwrappers', () => {
  it('sequence numbers keep counting across 65535 → 0, and reordering near the wrap', () => {
    const unwrapper = new SequenceUnwrapper();
    expect([65_530, 65_535, 2, 65_534, 5].map((s) => unwrapper.unwrap(s))).toEqual([
      65_530, 65_535, 65_538, 65_534, 65_541,
    ]);
  });

  it('reference times keep counting across the 24-bit wrap', () => {
    const unwrapper = new ReferenceTimeUnwrapper();
    const last = 0xffffff * 64_000;
    expect(unwrapper.unwrap(last)).toBe(last);
    expect(unwrapper.unwrap(0)).toBe(REFERENCE_TIME_WRAP_US);
    expect(unwrapper.unwrap(64_000)).toBe(REFERENCE_TIME_WRAP_US + 64_000);
    expect(unwrapper.unwrap(0xfffffe * 64_000)).toBe(last - 64_000); // late feedback from before the wrap
  });
});

describe('the bytes werift hands over', () => {
  // The sender gets transport-cc feedback from werift as parsed objects (RTCDtlsTransport.onRtcp)
  // and serializes them back for this decoder: that round trip must not change a single status
  // or delta, whatever the chunk kinds (werift's serializer alone loses the last deltas of a
  // packet whose length is not a multiple of 4).
  const cases: Record<string, Uint8Array> = {
    'run-length, small deltas': packet({ count: 3, chunks: [0x2003], deltas: [4, 8, 1] }),
    'run-length of lost packets': packet({ count: 20, chunks: [0x0014] }),
    '1-bit vector': packet({ count: 14, chunks: [0b1010_1010_1010_1010], deltas: [1, 2, 3, 4, 5, 6, 7] }),
    '2-bit vector, negative large delta': packet({
      count: 4,
      chunks: [0b1100_0000_0000_0000 | (0b01_10_00_01 << 6)],
      deltas: [40, 0xff, 0xf8, 1],
    }),
    'mixed chunks across the sequence wrap': packet({
      base: 65_534,
      count: 9,
      chunks: [0b1100_0000_0000_0000 | 0b01_01_00_01_00_00_00, 0x2002],
      deltas: [4, 4, 4, 4, 4],
    }),
  };
  it.each(Object.entries(cases))('%s', (_name, bytes) => {
    const [parsed] = RtcpPacketConverter.deSerialize(Buffer.from(bytes));
    expect(parsed).toBeInstanceOf(RtcpTransportLayerFeedback);
    expect(decode(transportFeedbackBytes(parsed as RtcpTransportLayerFeedback))).toEqual(decode(bytes));
  });
});
