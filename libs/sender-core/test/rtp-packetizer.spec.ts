import { describe, expect, it } from '@jest/globals';
import { dePacketizeRtpPackets } from 'werift';
import { RTP_VIDEO_CLOCK_RATE_HZ } from '@robocam/types';
import type { EncodedFrame } from '../src/encoder/index.js';
import { RtpPacketizer } from '../src/rtp-packetizer.js';

function frame(timestampMs: number, bytes: number, keyframe = false): EncodedFrame {
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 7 + timestampMs) & 0xff;
  // A VP8 keyframe has the inverse key bit (bit 0 of byte 0) cleared.
  data[0] = keyframe ? 0x10 : 0x11;
  return {
    data,
    keyframe,
    timestampMs,
    monotonicMs: timestampMs,
    sequence: 0,
    encodeMs: 1,
    temporalLayer: 0,
    layerSync: keyframe,
  };
}

describe('RtpPacketizer', () => {
  it('splits a frame into MTU-sized packets with the marker on the last and reassembles losslessly', () => {
    const packetizer = new RtpPacketizer('vp8', 1200);
    const input = frame(1000, 5000, true);
    const packets = packetizer.packetize(input);
    expect(packets.length).toBe(5);
    expect(packets.map((p) => p.header.marker)).toEqual([false, false, false, false, true]);
    for (const p of packets) expect(p.payload.length).toBeLessThanOrEqual(1200);
    const sequence = packets.map((p) => p.header.sequenceNumber);
    for (let i = 1; i < sequence.length; i++) expect(sequence[i]).toBe((sequence[i - 1]! + 1) & 0xffff);
    const reassembled = dePacketizeRtpPackets('vp8', packets);
    expect(reassembled.data.equals(input.data)).toBe(true);
    expect(reassembled.isKeyframe).toBe(true);
  });

  it('derives 90 kHz timestamps from capture times and never lets them go backwards', () => {
    const packetizer = new RtpPacketizer('vp8');
    const ts = (ms: number) => packetizer.packetize(frame(ms, 100))[0]!.header.timestamp;
    const first = ts(10_000);
    expect((ts(10_033) - first) >>> 0).toBe(Math.round(33 * (RTP_VIDEO_CLOCK_RATE_HZ / 1000)));
    const beforeStep = ts(10_066);
    // Two frames with the same or an older capture time (a source's bug): timestamps still advance.
    expect((ts(9_000) - beforeStep) >>> 0).toBe(1);
    expect((ts(10_100) - beforeStep) >>> 0).toBe(Math.round(34 * 90));
  });

  it('derives RTP timestamps from the monotonic capture time, not the wall clock (NTP steps)', () => {
    const packetizer = new RtpPacketizer('vp8');
    const at = (timestampMs: number, monotonicMs: number) =>
      packetizer.packetize({ ...frame(timestampMs, 100), monotonicMs })[0]!.header.timestamp;
    const wall = 1_700_000_000_000;
    const first = at(wall, 5_000);
    // The wall clock steps 5 minutes forward, then 5 minutes back, while 33 ms pass each frame.
    const second = at(wall + 5 * 60_000, 5_033);
    const third = at(wall - 5 * 60_000, 5_066);
    expect((second - first) >>> 0).toBe(2970);
    expect((third - second) >>> 0).toBe(2970);
  });

  it('packetizes H.264 access units (Annex-B) into NAL-unit RTP payloads', () => {
    const packetizer = new RtpPacketizer('h264', 1200);
    const sps = Buffer.from([0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 1, 2, 3]);
    const pps = Buffer.from([0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
    const idr = Buffer.concat([Buffer.from([0, 0, 0, 1, 0x65]), Buffer.alloc(3000, 0x55)]);
    const packets = packetizer.packetize({
      data: Buffer.concat([sps, pps, idr]),
      keyframe: true,
      timestampMs: 5,
      monotonicMs: 5,
      sequence: 0,
      encodeMs: 1,
      temporalLayer: 0,
      layerSync: true,
    });
    expect(packets.length).toBeGreaterThanOrEqual(3);
    expect(packets.at(-1)!.header.marker).toBe(true);
    // STAP-A (24) carrying SPS+PPS, then FU-A (28) fragments of the IDR slice.
    expect(packets[0]!.payload[0]! & 0x1f).toBe(24);
    expect(packets[1]!.payload[0]! & 0x1f).toBe(28);
    expect(dePacketizeRtpPackets('MPEG4/ISO/AVC', packets).isKeyframe).toBe(true);
  });
});
