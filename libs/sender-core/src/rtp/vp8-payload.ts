/**
 * VP8 RTP payloads (RFC 7741) with the layer fields werift's `Vp8Packetizer` does not write: a
 * 15-bit PictureID, TL0PICIDX, the temporal layer id (TID) and the layer-sync bit (Y). With them a
 * receiver can decode a stream from which whole temporal layers were removed, and a forwarder can
 * tell which packets it may drop for one viewer without breaking that viewer's decoder.
 *
 * ```
 *      0 1 2 3 4 5 6 7
 *     |X|R|N|S|R| PID |   X=1, S=1 on a frame's first packet, PID=0
 *  X: |I|L|T|K| RSV   |   I, L, T set
 *  I: |M| PictureID   |   M=1: 15-bit picture id (two bytes)
 *     |   PictureID   |
 *  L: |   TL0PICIDX   |
 *  T: |TID|Y| KEYIDX  |
 * ```
 */

/** Bytes of the descriptor written here (X, I with M, L, T/K). */
export const VP8_DESCRIPTOR_BYTES = 6;

/** The layer fields of one VP8 frame. */
export interface Vp8LayerInfo {
  /** 15-bit picture id, +1 per frame. */
  readonly pictureId: number;
  /** 8-bit index of the last base-layer (TID 0) frame, +1 per base-layer frame. */
  readonly tl0PicIdx: number;
  /** Temporal layer id, 0 (base) to 3. */
  readonly temporalLayer: number;
  /**
   * Layer sync (Y): this frame depends only on base-layer frames, so a receiver that has so far
   * received only lower layers can start decoding this layer here.
   */
  readonly layerSync: boolean;
}

/**
 * Splits one VP8 frame into RTP payloads of at most `maxPayloadBytes` (descriptor included), each
 * starting with the descriptor above; the first has S=1.
 */
export function packetizeVp8(frame: Uint8Array, layer: Vp8LayerInfo, maxPayloadBytes = 1200): Uint8Array[] {
  const chunkBytes = maxPayloadBytes - VP8_DESCRIPTOR_BYTES;
  if (chunkBytes <= 0) throw new RangeError(`maxPayloadBytes ${maxPayloadBytes} leaves no room for data`);
  const payloads: Uint8Array[] = [];
  for (let offset = 0; offset < frame.length || payloads.length === 0; offset += chunkBytes) {
    const chunk = frame.subarray(offset, offset + chunkBytes);
    const payload = new Uint8Array(VP8_DESCRIPTOR_BYTES + chunk.length);
    writeVp8Descriptor(payload, layer, offset === 0);
    payload.set(chunk, VP8_DESCRIPTOR_BYTES);
    payloads.push(payload);
  }
  return payloads;
}

/** Writes the 6-byte descriptor at the start of `payload`. */
export function writeVp8Descriptor(payload: Uint8Array, layer: Vp8LayerInfo, startOfFrame: boolean): void {
  payload[0] = 0x80 | (startOfFrame ? 0x10 : 0); // X, S; N=0 (every frame may be referenced), PID 0
  payload[1] = 0x80 | 0x40 | 0x20; // I, L, T (K unused: no key index)
  payload[2] = 0x80 | ((layer.pictureId >> 8) & 0x7f);
  payload[3] = layer.pictureId & 0xff;
  payload[4] = layer.tl0PicIdx & 0xff;
  payload[5] = ((layer.temporalLayer & 0x3) << 6) | (layer.layerSync ? 0x20 : 0);
}

/**
 * Reads the layer fields of a payload written by {@link writeVp8Descriptor} (or any RFC 7741
 * descriptor with I, L and T present). Undefined when they are not all present.
 */
export function readVp8Descriptor(
  payload: Uint8Array,
): (Vp8LayerInfo & { readonly startOfFrame: boolean; readonly descriptorBytes: number }) | undefined {
  if (payload.length < 1) return undefined;
  const b0 = payload[0] ?? 0;
  const startOfFrame = (b0 & 0x10) !== 0;
  if ((b0 & 0x80) === 0 || payload.length < 2) return undefined;
  const x = payload[1] ?? 0;
  if ((x & 0xe0) !== 0xe0) return undefined;
  let offset = 2;
  const p0 = payload[offset] ?? 0;
  let pictureId: number;
  if ((p0 & 0x80) !== 0) {
    pictureId = ((p0 & 0x7f) << 8) | (payload[offset + 1] ?? 0);
    offset += 2;
  } else {
    pictureId = p0 & 0x7f;
    offset += 1;
  }
  if (payload.length < offset + 2) return undefined;
  const tl0PicIdx = payload[offset] ?? 0;
  const t = payload[offset + 1] ?? 0;
  return {
    pictureId,
    tl0PicIdx,
    temporalLayer: t >> 6,
    layerSync: (t & 0x20) !== 0,
    startOfFrame,
    descriptorBytes: offset + 2,
  };
}

/**
 * Numbers frames for the descriptor: picture ids +1 per frame (15 bits), TL0PICIDX +1 per
 * base-layer frame (8 bits). One per camera: every viewer sees the same numbering, and a
 * forwarder that drops upper layers leaves TL0PICIDX valid as it is.
 */
export class Vp8LayerNumbering {
  #pictureId: number;
  #tl0PicIdx: number;

  constructor(random: () => number = Math.random) {
    this.#pictureId = Math.floor(random() * 0x8000);
    this.#tl0PicIdx = Math.floor(random() * 0x100);
  }

  /** The layer fields of the next frame. */
  next(temporalLayer: number, layerSync: boolean): Vp8LayerInfo {
    this.#pictureId = (this.#pictureId + 1) & 0x7fff;
    if (temporalLayer === 0) this.#tl0PicIdx = (this.#tl0PicIdx + 1) & 0xff;
    return { pictureId: this.#pictureId, tl0PicIdx: this.#tl0PicIdx, temporalLayer, layerSync };
  }
}
