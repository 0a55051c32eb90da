import { describe, expect, it } from '@jest/globals';

import { TemporalLayerForwarder, withPictureId } from '../../src/rtp/temporal-layer-forwarder.js';
import {
  VP8_DESCRIPTOR_BYTES,
  Vp8LayerNumbering,
  packetizeVp8,
  readVp8Descriptor,
  type Vp8LayerInfo,
} from '../../src/rtp/vp8-payload.js';

describe('VP8 payload descriptor', () => {
  it('writes X, I (15-bit), L and T with S on the first packet only', () => {
    const frame = new Uint8Array(2500).map((_, i) => i & 0xff);
    const layer: Vp8LayerInfo = { pictureId: 0x1234, tl0PicIdx: 0xab, temporalLayer: 1, layerSync: true };
    const payloads = packetizeVp8(frame, layer, 1000);
    expect(payloads.map((p) => p.length)).toEqual([1000, 1000, 500 + 3 * VP8_DESCRIPTOR_BYTES]);
    expect([...payloads[0]!.subarray(0, 6)]).toEqual([0x90, 0xe0, 0x80 | 0x12, 0x34, 0xab, 0x60]);
    expect(payloads[1]![0]).toBe(0x80);
    // The frame's bytes come back in order.
    const joined = Buffer.concat(payloads.map((p) => p.subarray(VP8_DESCRIPTOR_BYTES)));
    expect(joined.equals(Buffer.from(frame))).toBe(true);
    expect(readVp8Descriptor(payloads[0]!)).toEqual({ ...layer, startOfFrame: true, descriptorBytes: 6 });
    expect(readVp8Descriptor(payloads[2]!)?.startOfFrame).toBe(false);
  });

  it('reads 7-bit picture ids and refuses descriptors without the layer fields', () => {
    expect(readVp8Descriptor(new Uint8Array([0x90, 0xe0, 0x05, 0x07, 0x40]))).toMatchObject({
      pictureId: 5,
      tl0PicIdx: 7,
      temporalLayer: 1,
      layerSync: false,
      descriptorBytes: 5,
    });
    // werift's descriptor: X and I only.
    expect(readVp8Descriptor(new Uint8Array([0x90, 0x80, 0x80, 0x01, 0x9d]))).toBeUndefined();
    expect(readVp8Descriptor(new Uint8Array([]))).toBeUndefined();
  });

  it('numbering: picture id +1 per frame with a 15-bit wrap, TL0PICIDX +1 per base frame', () => {
    const numbering = new Vp8LayerNumbering(() => 0.99999);
    const frames = [0, 1, 0, 1, 0].map((tid) => numbering.next(tid, false));
    expect(frames.map((f) => f.pictureId)).toEqual([0, 1, 2, 3, 4]);
    expect(frames.map((f) => f.tl0PicIdx)).toEqual([0, 0, 1, 1, 2]);
  });
});

describe('TemporalLayerForwarder', () => {
  const twoLayerStream = (count: number): { layer: Vp8LayerInfo; keyframe: boolean }[] => {
    const numbering = new Vp8LayerNumbering(() => 0);
    return Array.from({ length: count }, (_, i) => {
      const tid = i % 2;
      return { layer: numbering.next(tid, tid === 1 && i % 4 === 1), keyframe: i === 0 };
    });
  };

  it('forwards everything at the top layer with continuous numbering', () => {
    const forwarder = new TemporalLayerForwarder(1, 65_534);
    const out = twoLayerStream(4).map(({ layer, keyframe }) => forwarder.forward(layer, keyframe, 2));
    expect(out.map((f) => f?.firstSequence)).toEqual([65_534, 0, 2, 4]);
    expect(out.map((f) => f?.pictureId)).toEqual([1, 2, 3, 4]);
  });

  it('drops the upper layer at once when the target falls, without gaps in sequence or picture id', () => {
    const forwarder = new TemporalLayerForwarder(1, 100);
    const stream = twoLayerStream(10);
    const out = stream.map(({ layer, keyframe }, i) => {
      if (i === 3) forwarder.targetLayer = 0;
      return forwarder.forward(layer, keyframe, 3);
    });
    const sent = out.filter((f) => f !== undefined);
    // Frames 0,1,2 then only base frames 4,6,8.
    expect(out.map((f) => f !== undefined)).toEqual([
      true,
      true,
      true,
      false,
      true,
      false,
      true,
      false,
      true,
      false,
    ]);
    expect(sent.map((f) => f.firstSequence)).toEqual([100, 103, 106, 109, 112, 115]);
    expect(sent.map((f) => f.pictureId)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(forwarder.framesDropped).toBe(4);
  });

  it('goes back up only at a layer-sync frame', () => {
    const forwarder = new TemporalLayerForwarder(1, 0);
    forwarder.targetLayer = 0;
    const stream = twoLayerStream(12);
    const out = stream.map(({ layer, keyframe }, i) => {
      if (i === 2) forwarder.targetLayer = 1;
      return {
        sent: forwarder.forward(layer, keyframe, 1) !== undefined,
        tid: layer.temporalLayer,
        sync: layer.layerSync,
      };
    });
    // Frame 3 (TL1, not sync) is still dropped; frame 5 (TL1, sync) switches up.
    expect(out[3]).toEqual({ sent: false, tid: 1, sync: false });
    expect(out[5]).toEqual({ sent: true, tid: 1, sync: true });
    expect(out.slice(5).every((f) => f.sent)).toBe(true);
    expect(forwarder.currentLayer).toBe(1);
  });

  it('clamps the target to the stream and rewrites picture ids into a copy', () => {
    const forwarder = new TemporalLayerForwarder(2, 0);
    forwarder.targetLayer = 9;
    expect(forwarder.targetLayer).toBe(2);
    forwarder.targetLayer = -3;
    expect(forwarder.targetLayer).toBe(0);
    const payload = packetizeVp8(new Uint8Array(10), {
      pictureId: 7,
      tl0PicIdx: 1,
      temporalLayer: 0,
      layerSync: false,
    })[0]!;
    const rewritten = withPictureId(payload, 0x7ffe);
    expect(readVp8Descriptor(rewritten)?.pictureId).toBe(0x7ffe);
    expect(readVp8Descriptor(payload)?.pictureId).toBe(7);
  });
});
