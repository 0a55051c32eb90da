import type { RTCDtlsTransport, RtpPacket } from 'werift';

/**
 * The receiving end of transport-wide congestion control for a werift test viewer, as Chromium
 * does it (werift's own receiver-side feedback sent 2 packets in 20 s here): it notes the
 * transport-wide sequence number of every packet the viewer's DTLS transport decrypts (padding
 * included) and sends transport-cc feedback every 50 ms. Optionally the arrival times it reports
 * are those of an emulated bottleneck: a FIFO of `capacityKbps` with a tail-drop queue of
 * `queueMs`, exactly what `tc tbf` does. Packets still arrive at the viewer at once (they are on
 * loopback): only the sender's view of the link is narrowed, so a test can constrain one viewer
 * of several, deterministically, without touching the network.
 */
export interface EmulatedLinkSettings {
  /** Bottleneck rate, kbit/s. Default: none (report true arrival times). */
  capacityKbps?: number;
  /** Queue the bottleneck may build before it drops, ms. Default 400. */
  queueMs?: number;
}

/** The header extension id the sender's answer gives transport-wide sequence numbers. */
export function transportCcExtensionId(answerSdp: string): number | undefined {
  const match =
    /^a=extmap:(\d+)(?:\/\w+)? http:\/\/www\.ietf\.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01/m.exec(
      answerSdp,
    );
  return match === null ? undefined : Number(match[1]);
}

interface Arrival {
  sequence: number;
  /** µs on this link's clock; undefined: dropped by the emulated queue. */
  arrivalUs: number | undefined;
}

export class EmulatedLink {
  readonly #transport: RTCDtlsTransport;
  readonly #extensionId: number;
  readonly #capacityKbps: number | undefined;
  readonly #queueMs: number;
  readonly #startMs = performance.now();
  #linkFreeAtMs = 0;
  #pending: Arrival[] = [];
  #feedbackCount = 0;
  readonly #timer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  /** Packets the emulated queue dropped. */
  dropped = 0;
  feedbackSent = 0;

  constructor(transport: RTCDtlsTransport, extensionId: number, settings: EmulatedLinkSettings = {}) {
    this.#transport = transport;
    this.#extensionId = extensionId;
    this.#capacityKbps = settings.capacityKbps;
    this.#queueMs = settings.queueMs ?? 400;
    this.#unsubscribe = transport.onRtp.subscribe((packet) => {
      this.#onRtp(packet);
    }).unSubscribe;
    this.#timer = setInterval(() => {
      this.#sendFeedback();
    }, 50);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#unsubscribe();
  }

  #onRtp(packet: RtpPacket): void {
    const extension = packet.header.extensions.find((e) => e.id === this.#extensionId);
    if (extension === undefined || extension.payload.length < 2) return;
    const sequence = extension.payload.readUInt16BE(0);
    const nowMs = performance.now() - this.#startMs;
    let arrivalMs = nowMs;
    if (this.#capacityKbps !== undefined) {
      // Bytes on the wire as tbf counts them: RTP + SRTP tag + UDP/IP headers.
      const bytes = packet.serializeSize + packet.header.paddingSize + 10 + 28;
      if (this.#linkFreeAtMs - nowMs > this.#queueMs) {
        this.dropped += 1;
        this.#pending.push({ sequence, arrivalUs: undefined });
        return;
      }
      this.#linkFreeAtMs = Math.max(nowMs, this.#linkFreeAtMs) + (bytes * 8) / this.#capacityKbps;
      arrivalMs = this.#linkFreeAtMs;
    }
    this.#pending.push({ sequence, arrivalUs: Math.round(arrivalMs * 1000) });
  }

  /** Reports every packet that has "arrived" by now (and those dropped), in sequence order. */
  #sendFeedback(): void {
    const nowUs = (performance.now() - this.#startMs) * 1000;
    const ready = this.#pending.filter((p) => p.arrivalUs === undefined || p.arrivalUs <= nowUs);
    if (ready.length === 0) return;
    this.#pending = this.#pending.filter((p) => p.arrivalUs !== undefined && p.arrivalUs > nowUs);
    // In sequence order (16-bit, relative to the first: no test runs long enough to matter).
    const base = ready[0]!.sequence;
    ready.sort((a, b) => ((a.sequence - base) & 0xffff) - ((b.sequence - base) & 0xffff));
    const bytes = encodeTransportFeedback(ready, this.#feedbackCount++ & 0xff);
    this.feedbackSent += 1;
    this.#transport.sendRtcp([{ serialize: () => bytes } as never]).catch(() => undefined);
  }
}

/**
 * A transport-cc feedback packet (draft-holmer-rmcat-transport-wide-cc-extensions-01) for packets
 * in sequence order: 2-bit status vector chunks (7 symbols each), 1-byte deltas where they fit,
 * 2-byte ones otherwise, padded to 32 bits with the P bit set, as Chromium sends them.
 */
export function encodeTransportFeedback(arrivals: readonly Arrival[], feedbackCount: number): Buffer {
  const first = arrivals[0]!;
  const last = arrivals.at(-1)!;
  const count = ((last.sequence - first.sequence) & 0xffff) + 1;
  const bySequence = new Map(arrivals.map((a) => [a.sequence, a.arrivalUs]));
  const firstArrivalUs = arrivals.find((a) => a.arrivalUs !== undefined)?.arrivalUs ?? 0;
  const referenceUs = Math.floor(firstArrivalUs / 64_000) * 64_000;
  const symbols: number[] = [];
  const deltas: number[] = [];
  let previousUs = referenceUs;
  for (let i = 0; i < count; i++) {
    const arrivalUs = bySequence.get((first.sequence + i) & 0xffff);
    if (arrivalUs === undefined) {
      symbols.push(0);
      continue;
    }
    const delta = Math.round((arrivalUs - previousUs) / 250);
    previousUs += delta * 250;
    if (delta >= 0 && delta <= 255) {
      symbols.push(1);
      deltas.push(delta);
    } else {
      symbols.push(2);
      const clamped = Math.max(-32768, Math.min(32767, delta));
      deltas.push((clamped >> 8) & 0xff, clamped & 0xff);
    }
  }
  const chunks: number[] = [];
  for (let i = 0; i < symbols.length; i += 7) {
    let chunk = 0b11 << 14;
    for (let j = 0; j < 7; j++) chunk |= (symbols[i + j] ?? 0) << (12 - 2 * j);
    chunks.push(chunk);
  }
  const body = 20 + chunks.length * 2 + deltas.length;
  const padded = Math.ceil(body / 4) * 4;
  const bytes = Buffer.alloc(padded);
  const padding = padded - body;
  bytes[0] = 0x80 | (padding > 0 ? 0x20 : 0) | 15;
  bytes[1] = 205;
  bytes.writeUInt16BE(padded / 4 - 1, 2);
  bytes.writeUInt32BE(1, 4);
  bytes.writeUInt32BE(0, 8);
  bytes.writeUInt16BE(first.sequence, 12);
  bytes.writeUInt16BE(count, 14);
  bytes.writeUInt32BE(((referenceUs / 64_000) % 0x100_0000) * 256 + feedbackCount, 16);
  chunks.forEach((chunk, i) => bytes.writeUInt16BE(chunk, 20 + i * 2));
  Buffer.from(deltas).copy(bytes, 20 + chunks.length * 2);
  if (padding > 0) bytes[padded - 1] = padding;
  return bytes;
}
