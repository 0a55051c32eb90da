/**
 * One viewer's view of a camera's temporally layered VP8 stream: which frames it gets (the layers
 * its link allows) and the numbering it sees. Dropping whole upper-layer frames leaves the base
 * layer decodable bit-exactly (measured with libvpx's 2-layer mode); what must not show is the
 * gap: the viewer gets continuous RTP sequence numbers (else it NACKs packets that were never
 * meant for it) and continuous picture ids (else Chromium's VP8 reference finder waits for the
 * "missing" frames), as mediasoup's consumers do. TL0PICIDX needs no rewrite: base-layer frames
 * are never dropped here.
 */
import type { Vp8LayerInfo } from './vp8-payload.js';

/** What one frame looks like to this viewer, or `undefined` when it is not sent to it. */
export interface ForwardedFrame {
  /** The picture id to write into this viewer's copy of the descriptor. */
  readonly pictureId: number;
  /** RTP sequence number of the frame's first packet for this viewer (16 bits, continuous). */
  readonly firstSequence: number;
}

export class TemporalLayerForwarder {
  #targetLayer: number;
  #currentLayer: number | undefined;
  #nextSequence: number;
  #pictureIdOffset = 0;
  #lastForwardedPictureId: number | undefined;
  /** Frames not sent because of their layer. */
  framesDropped = 0;

  /**
   * @param maxLayer highest temporal layer of the stream (1 for two layers).
   * @param firstSequence this viewer's first RTP sequence number.
   */
  constructor(
    readonly maxLayer: number,
    firstSequence: number,
  ) {
    this.#targetLayer = maxLayer;
    this.#nextSequence = firstSequence & 0xffff;
  }

  /** The highest layer this viewer should get, from its bandwidth estimate (0..maxLayer). */
  get targetLayer(): number {
    return this.#targetLayer;
  }

  set targetLayer(layer: number) {
    this.#targetLayer = Math.max(0, Math.min(this.maxLayer, Math.round(layer)));
  }

  /** The layer this viewer gets now (it follows the target down at once, up at a sync point). */
  get currentLayer(): number | undefined {
    return this.#currentLayer;
  }

  /**
   * Decides for one frame (in encode order) with `packetCount` packets. A keyframe resets the
   * viewer to its target; going up waits for a layer-sync frame of the new layer; going down is
   * immediate.
   */
  forward(layer: Vp8LayerInfo, keyframe: boolean, packetCount: number): ForwardedFrame | undefined {
    if (keyframe || this.#currentLayer === undefined) {
      this.#currentLayer = this.#targetLayer;
    } else if (this.#targetLayer < this.#currentLayer) {
      this.#currentLayer = this.#targetLayer;
    } else if (
      this.#targetLayer > this.#currentLayer &&
      layer.layerSync &&
      layer.temporalLayer > this.#currentLayer &&
      layer.temporalLayer <= this.#targetLayer
    ) {
      this.#currentLayer = layer.temporalLayer;
    }
    if (!keyframe && layer.temporalLayer > this.#currentLayer) {
      this.framesDropped += 1;
      // Each frame left out is one picture id the viewer must not miss: close the gap.
      this.#pictureIdOffset += 1;
      return undefined;
    }
    const pictureId = (layer.pictureId - this.#pictureIdOffset + 0x8000 * 4) & 0x7fff;
    this.#lastForwardedPictureId = pictureId;
    const firstSequence = this.#nextSequence;
    this.#nextSequence = (this.#nextSequence + packetCount) & 0xffff;
    return { pictureId, firstSequence };
  }

  /** The picture id last sent to this viewer (for diagnosis). */
  get lastPictureId(): number | undefined {
    return this.#lastForwardedPictureId;
  }
}

/** Writes `pictureId` into a copy of a payload that starts with a 15-bit-PictureID descriptor. */
export function withPictureId(payload: Uint8Array, pictureId: number): Uint8Array {
  const copy = payload.slice();
  copy[2] = 0x80 | ((pictureId >> 8) & 0x7f);
  copy[3] = pictureId & 0xff;
  return copy;
}
