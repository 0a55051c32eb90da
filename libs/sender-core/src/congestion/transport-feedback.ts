/**
 * Decoder of transport-wide congestion control feedback (RTCP RTPFB, PT 205, FMT 15;
 * draft-holmer-rmcat-transport-wide-cc-extensions-01), written from the draft because werift's
 * `TransportWideCC.packetResults` is wrong in ways that blind an estimator: it ignores status-vector
 * chunks, reports one packet too many per run-length chunk and truncates receive deltas to whole
 * milliseconds (measured against Chromium's feedback; see issue #12).
 *
 * ```
 *  |V=2|P|  FMT=15 |    PT=205     |           length              |
 *  |                     SSRC of packet sender                     |
 *  |                      SSRC of media source                     |
 *  |      base sequence number     |      packet status count      |
 *  |                 reference time                | fb pkt. count |
 *  |  packet chunk … (16 bits each)  | recv deltas … (1 or 2 bytes)  |
 * ```
 */

/** RTCP packet type of transport-layer feedback (RFC 4585). */
export const RTCP_RTPFB = 205;
/** FMT of transport-wide congestion control feedback. */
export const TRANSPORT_CC_FMT = 15;

/** Receive deltas are in units of 250 µs. */
const DELTA_UNIT_US = 250;
/** The reference time is in units of 64 ms. */
const REFERENCE_TIME_UNIT_US = 64_000;
/** The reference time field is 24 bits wide: it wraps after 2^24 × 64 ms ≈ 12.4 days. */
export const REFERENCE_TIME_WRAP_US = 2 ** 24 * REFERENCE_TIME_UNIT_US;

/** Packet status symbols: 0 not received, 1 received with a 1-byte delta, 2 with a 2-byte one. */
const NOT_RECEIVED = 0;
const SMALL_DELTA = 1;

/** One packet the feedback reports on. */
export interface PacketStatus {
  /** Transport-wide sequence number, 16 bits as on the wire (unwrap with {@link SequenceUnwrapper}). */
  readonly sequence: number;
  /**
   * When the receiver got it, in µs on the receiver's clock: the feedback's reference time plus
   * the running sum of deltas (so it can decrease: deltas may be negative). `undefined`: lost
   * (or not yet received when the feedback was written).
   */
  readonly receivedAtUs: number | undefined;
}

/** A decoded transport-wide feedback packet. */
export interface TransportFeedback {
  readonly senderSsrc: number;
  readonly mediaSsrc: number;
  /** Sequence number of the first packet reported (16 bits). */
  readonly baseSequence: number;
  /** 8-bit counter of feedback packets, to detect lost feedback. */
  readonly feedbackPacketCount: number;
  /**
   * The reference time in µs as sent: 24 bits of 64 ms, so it wraps every ~12.4 days
   * ({@link REFERENCE_TIME_WRAP_US}); compare feedbacks through {@link ReferenceTimeUnwrapper}.
   */
  readonly referenceTimeUs: number;
  /** One entry per reported packet, in sequence order, `packetStatusCount` of them. */
  readonly packets: readonly PacketStatus[];
}

/** Why a buffer is not a usable transport-wide feedback packet. */
export type TransportFeedbackError =
  'not-transport-cc' | 'truncated' | 'reserved-symbol' | 'missing-deltas' | 'empty';

/** The result of {@link decodeTransportFeedback}: never throws on hostile input. */
export type DecodeResult =
  | { readonly ok: true; readonly feedback: TransportFeedback }
  | { readonly ok: false; readonly error: TransportFeedbackError };

/**
 * Decodes one RTCP transport-wide feedback packet (header included, as found in a compound
 * RTCP packet). Returns an error for anything else or for a malformed packet; never throws.
 */
export function decodeTransportFeedback(packet: Uint8Array): DecodeResult {
  if (packet.length < 20) return fail('truncated');
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const first = view.getUint8(0);
  if (first >> 6 !== 2 || (first & 0x1f) !== TRANSPORT_CC_FMT || view.getUint8(1) !== RTCP_RTPFB) {
    return fail('not-transport-cc');
  }
  const declaredBytes = (view.getUint16(2) + 1) * 4;
  if (declaredBytes > packet.length) return fail('truncated');
  // Padding (P bit) lives at the end of the declared length; deltas never reach into it, and the
  // walk below stops at the declared end, so it needs no special handling.
  const end = declaredBytes;
  const senderSsrc = view.getUint32(4);
  const mediaSsrc = view.getUint32(8);
  const baseSequence = view.getUint16(12);
  const statusCount = view.getUint16(14);
  if (statusCount === 0) return fail('empty');
  const referenceTimeUs = (view.getUint32(16) >>> 8) * REFERENCE_TIME_UNIT_US;
  const feedbackPacketCount = view.getUint8(19);

  // Packet status chunks: as many as it takes to cover `statusCount` packets (the last chunk may
  // describe more; the extra symbols are ignored).
  const symbols: number[] = [];
  let offset = 20;
  while (symbols.length < statusCount) {
    if (offset + 2 > end) return fail('truncated');
    const chunk = view.getUint16(offset);
    offset += 2;
    if ((chunk & 0x8000) === 0) {
      // Run length chunk: T=0 | S (2 bits) | run length (13 bits).
      const symbol = (chunk >> 13) & 0x3;
      if (symbol === 3) return fail('reserved-symbol');
      const run = Math.min(chunk & 0x1fff, statusCount - symbols.length);
      for (let i = 0; i < run; i++) symbols.push(symbol);
    } else if ((chunk & 0x4000) === 0) {
      // Status vector, 1-bit symbols: 14 of them, 0 = not received, 1 = small delta.
      for (let bit = 13; bit >= 0 && symbols.length < statusCount; bit--) {
        symbols.push((chunk >> bit) & 0x1);
      }
    } else {
      // Status vector, 2-bit symbols: 7 of them.
      for (let shift = 12; shift >= 0 && symbols.length < statusCount; shift -= 2) {
        const symbol = (chunk >> shift) & 0x3;
        if (symbol === 3) return fail('reserved-symbol');
        symbols.push(symbol);
      }
    }
  }

  // Receive deltas, one per received packet: 1 byte unsigned or 2 bytes signed, in 250 µs.
  const packets: PacketStatus[] = [];
  let receivedAtUs = referenceTimeUs;
  for (let i = 0; i < symbols.length; i++) {
    const sequence = (baseSequence + i) & 0xffff;
    const symbol = symbols[i];
    if (symbol === NOT_RECEIVED) {
      packets.push({ sequence, receivedAtUs: undefined });
      continue;
    }
    let delta: number;
    if (symbol === SMALL_DELTA) {
      if (offset + 1 > end) return fail('missing-deltas');
      delta = view.getUint8(offset);
      offset += 1;
    } else {
      if (offset + 2 > end) return fail('missing-deltas');
      delta = view.getInt16(offset);
      offset += 2;
    }
    receivedAtUs += delta * DELTA_UNIT_US;
    packets.push({ sequence, receivedAtUs });
  }
  return {
    ok: true,
    feedback: { senderSsrc, mediaSsrc, baseSequence, feedbackPacketCount, referenceTimeUs, packets },
  };
}

function fail(error: TransportFeedbackError): DecodeResult {
  return { ok: false, error };
}

/**
 * Places values of a field that wraps every `modulus` on one continuous line: each value becomes
 * the candidate nearest to the highest seen so far, so reordering across the wrap is handled
 * (RFC 3550 A.1's idea).
 */
class Unwrapper {
  #highest: number | undefined;

  constructor(readonly modulus: number) {}

  /** The unwrapped value of `value` (0 ≤ value < modulus). */
  unwrap(value: number): number {
    if (this.#highest === undefined) {
      this.#highest = value;
      return value;
    }
    const highestLow = ((this.#highest % this.modulus) + this.modulus) % this.modulus;
    let delta = value - highestLow;
    if (delta > this.modulus / 2) delta -= this.modulus;
    else if (delta < -this.modulus / 2) delta += this.modulus;
    const unwrapped = this.#highest + delta;
    if (unwrapped > this.#highest) this.#highest = unwrapped;
    return unwrapped;
  }
}

/** Transport-wide sequence numbers (16 bits) as a monotonic count. */
export class SequenceUnwrapper extends Unwrapper {
  constructor() {
    super(0x10000);
  }
}

/** Feedback reference times (24 bits of 64 ms, in µs) on one timeline across the ~12.4-day wrap. */
export class ReferenceTimeUnwrapper extends Unwrapper {
  constructor() {
    super(REFERENCE_TIME_WRAP_US);
  }
}
