/**
 * One viewer's network link as the sender sees it: the bandwidth estimate from transport-wide
 * feedback, the pacer that spreads every frame over time at a multiple of that estimate, probing,
 * and one {@link ViewerTrack} per camera the viewer watches (its temporal layer, its sequence
 * numbers). The camera pipelines hand every track the same packetized frames; what leaves for this
 * viewer, and when, is decided here.
 */
import { errorMessage, type Logger } from '@robocam/types';
import {
  GenericNack,
  RtcpTransportLayerFeedback,
  RtpHeader,
  RtpPacket,
  type RTCDtlsTransport,
  type RTCRtpSender,
  type RtcpPacket,
} from 'werift';
import {
  BandwidthEstimator,
  Pacer,
  decodeTransportFeedback,
  type BandwidthEstimate,
  type BandwidthUsage,
  type PacedFrame,
  type ProbeCluster,
} from './congestion/index.js';
import { RetransmissionBudget } from './congestion/retransmissions.js';
import type { PacketizedFrame } from './rtp-packetizer.js';
import { ABS_CAPTURE_TIME_URI, absCaptureTimePayload } from './rtp/abs-capture-time.js';
import { SenderReportClock } from './rtp/sender-report-clock.js';
import { TemporalLayerForwarder, withPictureId } from './rtp/temporal-layer-forwarder.js';

/** What a track needs of its camera. */
export interface TrackCamera {
  readonly id: string;
  /** Highest temporal layer the camera's encoder makes (0: one layer). */
  readonly maxTemporalLayer: number;
  /** Share of the camera's bitrate carried by layers 0..k (cumulative), index k. */
  readonly layerShares: readonly number[];
  /** The encoder's current target, bps. */
  readonly targetBitrateBps: number;
  /** Asks for a keyframe on behalf of this viewer (coalesced with everyone else's). */
  requestKeyframe(reason: 'pli' | 'fir'): void;
}

/** Counters and state of a viewer's link, in the sender's stats. */
export interface ViewerLinkStats {
  /** The send-side estimate: what this viewer's link carries now, kbit/s (all its cameras). */
  estimateKbps: number;
  /** The two bounds the estimate is the lower of: from queueing delay, and from loss (kbit/s). */
  delayBasedKbps: number;
  lossBasedKbps: number;
  /** What the viewer acknowledged receiving over the last ~0.5 s, kbit/s (undefined before feedback). */
  receivedKbps: number | undefined;
  /** Fraction of packets lost in the last judged window (0..1). */
  lossFraction: number;
  /** Round-trip time from RTCP receiver reports, ms. */
  rttMs: number | undefined;
  /** The delay detector's verdict: `overusing` means a queue is building on the path. */
  usage: BandwidthUsage;
  /** Media waiting in the pacer, ms at the current estimate. */
  pacerQueueMs: number;
  /** Frames the pacer dropped to keep its queue short. */
  pacerFramesDropped: number;
  /** Transport-wide feedback packets received (0: the viewer does not send them). */
  feedbackPackets: number;
  /** Probe clusters sent, and those that raised the estimate. */
  probesSent: number;
  probesSucceeded: number;
  /** NACKed packets retransmitted, and those not (see congestion/retransmissions.ts). */
  retransmissions: number;
  retransmissionsDenied: number;
}

/** One camera's stream to this viewer. */
export interface ViewerTrackStats {
  camera: string;
  /** Temporal layer this viewer gets now (undefined before its first frame). */
  temporalLayer: number | undefined;
  /** The layer its estimate allows (it moves up at the next layer-sync frame). */
  targetLayer: number;
  maxLayer: number;
  /** Frames not sent to this viewer because of their layer. */
  framesSkipped: number;
  /** PLIs from this viewer not passed on: a keyframe for it was already on its way. */
  plisIgnored: number;
}

/** A packet in the pacer: the shared packet plus what this viewer's copy changes. */
interface LinkPacket {
  readonly track: ViewerTrack;
  /** Shared media packet; undefined for probe padding. */
  readonly packet: RtpPacket | undefined;
  /** VP8 picture id of this viewer's copy (undefined: as in the shared packet). */
  readonly pictureId: number | undefined;
  /** Bytes of padding (probe packets only). */
  readonly paddingBytes: number;
  readonly probeCluster: number | undefined;
  /**
   * The frame's capture times, on its first packet (abs-capture-time, sender reports). The
   * extension adds 8 bytes to that packet (~2 kbit/s at 30 fps), not in PACKET_OVERHEAD_BYTES.
   */
  readonly capture?: { readonly wallMs: number; readonly monotonicMs: number };
}

/** Bytes a packet adds on the wire besides its payload: RTP header 12, transport-cc extension 8, SRTP tag 10. */
const PACKET_OVERHEAD_BYTES = 30;
/** Transport-wide feedback: RTPFB FMT 15. */
const TRANSPORT_CC_FMT = 15;
/** A generic NACK: RTPFB FMT 1. */
const GENERIC_NACK_FMT = 1;
/** The pacer runs this often while it holds packets (libwebrtc's pacer: 5 ms). */
const PACER_TICK_MS = 5;
/**
 * A viewer causes at most one keyframe this often, whether it asked (PLI/FIR, and none while one
 * is still queued for it) or its pacer had to drop base-layer frames. On a link too narrow for
 * the base layer the pacer drops base frames again and again; uncapped (500 ms, pacer requests
 * exempt) that made 37 keyframes in 30 s for every viewer of the camera.
 */
const VIEWER_KEYFRAME_REQUEST_INTERVAL_MS = 1_000;
/**
 * Going up a layer needs this much headroom above the layer's rate: no flapping at the edge. Small:
 * the camera's target is itself 5 % under the fastest viewer's estimate (MEDIA_SHARE), and a lone
 * viewer must always qualify for every layer (with 1.15 it sat on the base layer at 649 kbit/s).
 */
const LAYER_UP_HEADROOM = 1.05;
/** The pacer's stream key of probe padding (never waits for a keyframe). */
const PROBE_STREAM = Symbol('probe');

export interface ViewerLinkSettings {
  /** The DTLS transport the viewer's media runs on (bundled: one per session). */
  transport: RTCDtlsTransport;
  /** Estimate before any feedback, bps: the cameras' configured bitrates. */
  startBps: number;
  /** Highest estimate, bps (probing stops there). */
  maxBps: number;
  /** Lowest estimate, bps. */
  minBps: number;
  logger: Logger;
}

export class ViewerLink {
  readonly #transport: RTCDtlsTransport;
  readonly #logger: Logger;
  readonly #estimator: BandwidthEstimator;
  readonly #pacer: Pacer<LinkPacket>;
  readonly #tracks: ViewerTrack[] = [];
  readonly #retransmissions = new RetransmissionBudget();
  readonly #unsubscribe: () => void;
  #timer: NodeJS.Timeout | undefined;
  #feedbackPackets = 0;
  #closed = false;
  #lastEstimateLogMs = 0;

  constructor(settings: ViewerLinkSettings) {
    this.#transport = settings.transport;
    this.#logger = settings.logger;
    this.#estimator = new BandwidthEstimator({
      startBps: settings.startBps,
      maxBps: settings.maxBps,
      minBps: settings.minBps,
    });
    this.#pacer = new Pacer<LinkPacket>({
      rateBps: this.#estimator.targetBps,
      send: (item) => {
        this.#send(item);
      },
      onKeyframeNeeded: (stream) => {
        // Base-layer frames of this track had to go: it cannot decode on without a keyframe.
        if (stream instanceof ViewerTrack) stream.keyframeNeeded();
      },
    });
    this.#unsubscribe = settings.transport.onRtcp.subscribe((packet) => {
      this.#onRtcp(packet);
    }).unSubscribe;
  }

  /** A track for one camera, sending through `rtpSender`. */
  addTrack(camera: TrackCamera, rtpSender: RTCRtpSender): ViewerTrack {
    const track = new ViewerTrack(this, camera, rtpSender, this.#logger);
    this.#tracks.push(track);
    return track;
  }

  /** This viewer's share of its estimate for one of its cameras, bps (equal shares). */
  get perTrackBps(): number {
    return this.#estimator.targetBps / Math.max(1, this.#tracks.length);
  }

  /** Whether transport-wide feedback has arrived (the estimate means something). */
  get hasFeedback(): boolean {
    return this.#feedbackPackets > 0;
  }

  get estimate(): BandwidthEstimate {
    return this.#estimator.estimate;
  }

  /** Of the NACKed sequence numbers of one track, those to retransmit now. */
  filterRetransmissions(sequences: readonly number[], rttMs: number | undefined): number[] {
    return this.#retransmissions.filter(sequences, {
      nowMs: performance.now(),
      rttMs,
      rateBps: this.#estimator.targetBps,
      pacerQueueMs: this.#pacer.queueMs,
    });
  }

  /** Whether the pacer still holds a keyframe of `track` that has not fully left. */
  hasQueuedKeyframe(track: ViewerTrack): boolean {
    return this.#pacer.hasQueued((frame) => frame.keyframe && frame.stream === track);
  }

  /**
   * Round-trip time from RTCP receiver reports, ms: werift's measurement on the first track's
   * sender (what its getStats reports as `remote-inbound-rtp` roundTripTime).
   */
  get rttMs(): number | undefined {
    const seconds = this.#tracks[0]?.rttSeconds;
    return seconds === undefined ? undefined : seconds * 1000;
  }

  stats(): ViewerLinkStats {
    const estimate = this.#estimator.estimate;
    const { rttMs } = this;
    return {
      estimateKbps: Math.round(estimate.targetBps / 1000),
      delayBasedKbps: Math.round(estimate.delayBasedBps / 1000),
      lossBasedKbps: Math.round(estimate.lossBasedBps / 1000),
      receivedKbps: estimate.ackedBps === undefined ? undefined : Math.round(estimate.ackedBps / 1000),
      lossFraction: estimate.lossFraction,
      rttMs,
      usage: estimate.usage,
      pacerQueueMs: Math.round(this.#pacer.queueMs),
      pacerFramesDropped: this.#pacer.counters.framesDropped,
      feedbackPackets: this.#feedbackPackets,
      probesSent: this.#estimator.probesSent,
      probesSucceeded: this.#estimator.probesSucceeded,
      retransmissions: this.#retransmissions.allowed,
      retransmissionsDenied: this.#retransmissions.denied,
    };
  }

  trackStats(): ViewerTrackStats[] {
    return this.#tracks.map((track) => track.stats());
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#unsubscribe();
  }

  /** Queues one frame of a track and sends what the pacer allows now. */
  enqueue(frame: PacedFrame<LinkPacket>): void {
    if (this.#closed) return;
    this.#pacer.enqueue(frame);
    this.#process();
  }

  #process(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed) return;
    this.#pacer.process(performance.now());
    if (this.#pacer.queuedFrames > 0) {
      this.#timer = setTimeout(() => {
        this.#process();
      }, PACER_TICK_MS);
    }
  }

  #send(item: LinkPacket): void {
    const transport = this.#transport;
    const before = transport.transportSequenceNumber;
    const sizeBytes = item.track.send(item);
    // werift writes the transport-wide sequence number synchronously inside sendRtp (before its
    // first await), so a changed counter is this packet's number; unchanged: it was not sent
    // (DTLS not connected, sender stopped, or the extension not negotiated).
    const after = transport.transportSequenceNumber;
    if (after !== before)
      this.#estimator.onPacketSent(after, sizeBytes, performance.now(), item.probeCluster);
  }

  #onRtcp(packet: RtcpPacket): void {
    if (!(packet instanceof RtcpTransportLayerFeedback) || packet.feedback.count !== TRANSPORT_CC_FMT) return;
    let bytes: Uint8Array;
    try {
      bytes = transportFeedbackBytes(packet);
    } catch (error) {
      this.#logger.debug({ err: errorMessage(error) }, 'unreadable transport-wide feedback');
      return;
    }
    const decoded = decodeTransportFeedback(bytes);
    if (!decoded.ok) {
      this.#logger.debug({ error: decoded.error }, 'bad transport-wide feedback ignored');
      return;
    }
    this.#feedbackPackets += 1;
    const nowMs = performance.now();
    const { rttMs } = this;
    if (rttMs !== undefined) this.#estimator.onRtt(rttMs);
    const before = this.#pacer.rateBps;
    const estimate = this.#estimator.onTransportFeedback(decoded.feedback, nowMs);
    this.#pacer.rateBps = estimate.targetBps;
    for (const track of this.#tracks) track.updateLayer(this.perTrackBps);
    if (Math.abs(estimate.targetBps - before) > 0.2 * before && nowMs - this.#lastEstimateLogMs > 1_000) {
      this.#lastEstimateLogMs = nowMs;
      this.#logger.debug(
        {
          estimateKbps: Math.round(estimate.targetBps / 1000),
          receivedKbps: estimate.ackedBps === undefined ? undefined : Math.round(estimate.ackedBps / 1000),
          usage: estimate.usage,
          lossFraction: Number(estimate.lossFraction.toFixed(3)),
        },
        'viewer bandwidth estimate changed',
      );
    }
    this.#maybeProbe(nowMs);
  }

  /** Sends a probe cluster as padding on the first track when the estimator asks for one. */
  #maybeProbe(nowMs: number): void {
    const track = this.#tracks[0];
    if (track === undefined || !track.canPad) return;
    const cluster: ProbeCluster | undefined = this.#estimator.nextProbe(nowMs);
    if (cluster === undefined) return;
    const items: LinkPacket[] = [];
    for (let i = 0; i < cluster.packets; i++) {
      items.push({
        track,
        packet: undefined,
        pictureId: undefined,
        paddingBytes: cluster.packetBytes,
        probeCluster: cluster.id,
      });
    }
    this.enqueue({
      packets: items,
      packetBytes: items.map(() => cluster.packetBytes + PACKET_OVERHEAD_BYTES),
      keyframe: false,
      // Above every media layer: the first thing the pacer drops when its queue is too long.
      temporalLayer: 99,
      stream: PROBE_STREAM,
    });
  }
}

/**
 * The bytes of a transport-cc feedback packet as werift hands it over (parsed, on
 * `RTCDtlsTransport.onRtcp`), for robocam's own decoder. werift's own `packetResults` are wrong
 * (issue #12), but its chunk and delta objects keep every field, so serializing them gives back
 * the chunks and deltas as received. Its serializer drops the padding and writes the RTCP length
 * rounded down, though (25 bytes of packet: length 5 instead of 6), which cuts off the last
 * deltas: the length is rewritten from the real size, padded to whole 32-bit words.
 */
export function transportFeedbackBytes(packet: RtcpTransportLayerFeedback): Uint8Array {
  const serialized = packet.serialize();
  const bytes = new Uint8Array(Math.ceil(serialized.length / 4) * 4);
  bytes.set(serialized);
  const words = bytes.length / 4 - 1;
  bytes[2] = (words >> 8) & 0xff;
  bytes[3] = words & 0xff;
  return bytes;
}

/** One camera's stream to one viewer: layer choice, numbering, and the PLI guard. */
export class ViewerTrack {
  readonly #link: ViewerLink;
  readonly #camera: TrackCamera;
  readonly #rtpSender: RTCRtpSender;
  readonly #logger: Logger;
  readonly #forwarder: TemporalLayerForwarder;
  /** This viewer's next RTP sequence number: assigned as packets leave the pacer, so frames the
   * pacer or the layer choice drop leave no gap (a gap makes the receiver NACK and wait). */
  #nextSequence = Math.floor(Math.random() * 0x1_0000);
  #lastTimestamp: number | undefined;
  #lastKeyframeRequestMs = Number.NEGATIVE_INFINITY;
  /** The pacer broke this track's decoding and its keyframe request waits for the interval. */
  #keyframeDue = false;
  #plisIgnored = 0;
  /** Sender reports from the frames' capture times (see SenderReportClock). */
  readonly #reportClock: SenderReportClock;
  /** The abs-capture-time extension's id in this session; null: not negotiated; undefined: not looked up yet. */
  #absCaptureTimeId: number | null | undefined;

  constructor(link: ViewerLink, camera: TrackCamera, rtpSender: RTCRtpSender, logger: Logger) {
    this.#link = link;
    this.#camera = camera;
    this.#rtpSender = rtpSender;
    this.#logger = logger;
    this.#reportClock = new SenderReportClock(rtpSender);
    this.#forwarder = new TemporalLayerForwarder(camera.maxTemporalLayer, 0);
    this.#limitRetransmissions();
  }

  /**
   * werift answers NACKs inside `RTCRtpSender.handleRtcpPacket`, every one at once and unpaced,
   * and offers no hook: this sender's instance gets a wrapper that passes on only the sequence
   * numbers the link's retransmission budget allows (congestion/retransmissions.ts).
   */
  #limitRetransmissions(): void {
    const rtpSender = this.#rtpSender;
    const handle = rtpSender.handleRtcpPacket.bind(rtpSender);
    rtpSender.handleRtcpPacket = (packet: RtcpPacket): void => {
      if (packet instanceof RtcpTransportLayerFeedback && packet.feedback.count === GENERIC_NACK_FMT) {
        const nack = packet.feedback as GenericNack;
        const rtt = this.rttSeconds;
        const allowed = this.#link.filterRetransmissions(
          nack.lost,
          rtt === undefined ? undefined : rtt * 1000,
        );
        if (allowed.length === 0) return;
        if (allowed.length < nack.lost.length) {
          handle(
            new RtcpTransportLayerFeedback({
              header: packet.header,
              feedback: new GenericNack({
                header: nack.header,
                senderSsrc: nack.senderSsrc,
                mediaSourceSsrc: nack.mediaSourceSsrc,
                lost: allowed,
              }),
            }),
          );
          return;
        }
      }
      handle(packet);
    };
  }

  /**
   * What this viewer's link carries for this camera, bps; undefined until the viewer's feedback
   * has been heard (a viewer without transport-wide feedback never limits the camera).
   */
  get availableBps(): number | undefined {
    return this.#link.hasFeedback ? this.#link.perTrackBps : undefined;
  }

  /** Round-trip time from RTCP receiver reports (werift's), seconds. */
  get rttSeconds(): number | undefined {
    // werift computes it from receiver reports (what its getStats reports as roundTripTime) but
    // types the field private.
    return (this.#rtpSender as unknown as { readonly rtt?: number }).rtt;
  }

  /** Padding needs a media packet before it (its timestamp) and an end of frame behind it. */
  get canPad(): boolean {
    return this.#lastTimestamp !== undefined;
  }

  /** Sends one of the camera's frames to this viewer, through the pacer. */
  sendFrame(frame: PacketizedFrame): void {
    if (frame.keyframe) this.#keyframeDue = false;
    else if (this.#keyframeDue) this.keyframeNeeded();
    let pictureId: number | undefined;
    if (frame.vp8 !== undefined) {
      const forwarded = this.#forwarder.forward(frame.vp8, frame.keyframe, frame.packets.length);
      if (forwarded === undefined) return;
      if (forwarded.pictureId !== frame.vp8.pictureId) pictureId = forwarded.pictureId;
    }
    const capture = { wallMs: frame.timestampMs, monotonicMs: frame.monotonicMs };
    const packets = frame.packets.map((packet, index): LinkPacket => ({
      track: this,
      packet,
      pictureId,
      paddingBytes: 0,
      probeCluster: undefined,
      ...(index === 0 ? { capture } : {}),
    }));
    this.#link.enqueue({
      packets,
      packetBytes: frame.packets.map((packet) => packet.payload.length + PACKET_OVERHEAD_BYTES),
      keyframe: frame.keyframe,
      temporalLayer: frame.temporalLayer,
      stream: this,
    });
  }

  /** Moves the target layer to what `availableBps` carries. */
  updateLayer(availableBps: number): void {
    const max = this.#camera.maxTemporalLayer;
    if (max === 0) return;
    const rateBps = this.#camera.targetBitrateBps;
    const shares = this.#camera.layerShares;
    const current = this.#forwarder.targetLayer;
    let layer = 0;
    for (let k = 1; k <= max; k++) {
      const needed = (shares[k] ?? 1) * rateBps * (k > current ? LAYER_UP_HEADROOM : 1);
      if (needed <= availableBps) layer = k;
    }
    if (layer === current) return;
    this.#forwarder.targetLayer = layer;
    this.#logger.info(
      {
        camera: this.#camera.id,
        fromLayer: current,
        toLayer: layer,
        availableKbps: Math.round(availableBps / 1000),
        cameraKbps: Math.round(rateBps / 1000),
      },
      layer < current ? 'viewer moved down a temporal layer' : 'viewer moving up a temporal layer',
    );
  }

  /**
   * A PLI or FIR from this viewer. Passed on unless a keyframe for this viewer is still in its
   * pacer, or this viewer caused one less than 500 ms ago: a congested viewer repeats its PLIs
   * every RTT while the keyframe it asked for is still crossing its narrow link, and each one
   * would cost every other viewer a keyframe too. Returns whether it was passed on.
   */
  onKeyframeRequest(reason: 'pli' | 'fir'): boolean {
    const nowMs = performance.now();
    if (
      this.#link.hasQueuedKeyframe(this) ||
      nowMs - this.#lastKeyframeRequestMs < VIEWER_KEYFRAME_REQUEST_INTERVAL_MS
    ) {
      this.#plisIgnored += 1;
      return false;
    }
    this.#lastKeyframeRequestMs = nowMs;
    this.#camera.requestKeyframe(reason);
    return true;
  }

  /**
   * The pacer dropped base-layer frames of this track: this viewer cannot decode on without a
   * keyframe. A keyframe still queued for it does not help (the drop came after it), but the
   * interval applies: if it caused one less than a second ago, the request waits for the next
   * frame the pacer has to drop (the pacer keeps dropping this track's delta frames meanwhile).
   */
  keyframeNeeded(): void {
    const nowMs = performance.now();
    if (nowMs - this.#lastKeyframeRequestMs < VIEWER_KEYFRAME_REQUEST_INTERVAL_MS) {
      this.#keyframeDue = true;
      return;
    }
    this.#keyframeDue = false;
    this.#lastKeyframeRequestMs = nowMs;
    this.#camera.requestKeyframe('pli');
  }

  /** Puts one packet on the wire; returns its size as the estimator counts it. */
  send(item: LinkPacket): number {
    const sequenceNumber = this.#nextSequence;
    this.#nextSequence = (this.#nextSequence + 1) & 0xffff;
    let packet: RtpPacket;
    if (item.packet === undefined) {
      // A padding-only packet (RFC 3550 §5.1): P bit set, the payload is all padding and its last
      // byte says how long it is. werift's SRTP path encrypts the payload as given and appends no
      // padding of its own (header.paddingSize stays 0), which is what RFC 3711 wants: padding is
      // part of the encrypted payload.
      const padding = Buffer.alloc(item.paddingBytes);
      padding[padding.length - 1] = item.paddingBytes;
      packet = new RtpPacket(
        new RtpHeader({
          payloadType: 96,
          sequenceNumber,
          timestamp: this.#lastTimestamp ?? 0,
          marker: false,
          padding: true,
        }),
        padding,
      );
    } else {
      const shared = item.packet;
      this.#lastTimestamp = shared.header.timestamp;
      const payload =
        item.pictureId === undefined
          ? shared.payload
          : Buffer.from(withPictureId(shared.payload, item.pictureId));
      const { header } = shared;
      packet = new RtpPacket(
        new RtpHeader({
          payloadType: header.payloadType,
          sequenceNumber,
          timestamp: header.timestamp,
          marker: header.marker,
          extensions: this.#captureExtensions(item),
        }),
        payload,
      );
      if (item.capture !== undefined)
        this.#reportClock.onFrame(header.timestamp, item.capture.wallMs, item.capture.monotonicMs);
    }
    this.#rtpSender.sendRtp(packet).catch((error: unknown) => {
      this.#logger.debug({ err: errorMessage(error) }, 'RTP send failed');
    });
    return packet.payload.length + PACKET_OVERHEAD_BYTES;
  }

  /**
   * The abs-capture-time extension for a frame's first packet when the viewer negotiated it
   * (werift writes the extensions it knows and keeps the packet's own, by id).
   */
  #captureExtensions(item: LinkPacket): { id: number; payload: Buffer }[] {
    if (item.capture === undefined) return [];
    if (this.#absCaptureTimeId === undefined) {
      // Negotiated by now (packets flow after the answer); private in werift's typings.
      const negotiated = (this.#rtpSender as unknown as { headerExtensions?: { id: number; uri: string }[] })
        .headerExtensions;
      this.#absCaptureTimeId =
        negotiated?.find((extension) => extension.uri === ABS_CAPTURE_TIME_URI)?.id ?? null;
    }
    if (this.#absCaptureTimeId === null) return [];
    return [{ id: this.#absCaptureTimeId, payload: absCaptureTimePayload(item.capture.wallMs) }];
  }

  stats(): ViewerTrackStats {
    return {
      camera: this.#camera.id,
      temporalLayer: this.#forwarder.currentLayer,
      targetLayer: this.#forwarder.targetLayer,
      maxLayer: this.#camera.maxTemporalLayer,
      framesSkipped: this.#forwarder.framesDropped,
      plisIgnored: this.#plisIgnored,
    };
  }
}
