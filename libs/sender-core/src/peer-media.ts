/**
 * The media side of every peer connection the sender feeds — a viewer session, a WHIP
 * publication: the werift peer connection's configuration, one {@link ViewerLink} per DTLS
 * transport (congestion control), one {@link ViewerTrack} per camera, the `RtpSink` each track
 * is to its camera's shared encoder, and PLI/FIR/NACK from the remote side. Who negotiates (the
 * viewer offers, a WHIP server answers) is the caller's business; this is the part they share.
 */
import { type Logger, type VideoCodec } from '@robocam/types';
import {
  RTCPeerConnection,
  RtcpPayloadSpecificFeedback,
  RtcpTransportLayerFeedback,
  useTransportWideCC,
  type RTCDtlsTransport,
  type RTCRtpTransceiver,
  type RtcpPacket,
} from 'werift';
import type { CameraPipeline, RtpSink } from './camera-pipeline.js';
import { absCaptureTimeExtension } from './rtp/abs-capture-time.js';
import { MEDIA_SHARE } from './encoder-target.js';
import { videoCodecParameters, type SessionH264 } from './peer-codecs.js';
import type { PacketizedFrame } from './rtp-packetizer.js';
import type { PeerSettings } from './viewer-session.js';
import { ViewerLink, type ViewerLinkStats, type ViewerTrack, type ViewerTrackStats } from './viewer-link.js';

/** Payload-specific feedback formats: PLI (RFC 4585) and FIR (RFC 5104). */
const PLI_FMT = 1;
const FIR_FMT = 4;
/** Transport-layer feedback format of a generic NACK (RFC 4585). */
const GENERIC_NACK_FMT = 1;

/**
 * A werift peer connection for sending `codec`: ICE-lite with host candidates unless STUN/TURN
 * servers are configured, transport-wide sequence numbers for congestion control.
 */
export function createMediaPeer(
  peer: PeerSettings,
  codec: VideoCodec,
  h264: SessionH264 | undefined,
): RTCPeerConnection {
  const iceServers = peer.iceServers ?? [];
  return new RTCPeerConnection({
    iceLite: iceServers.length === 0,
    iceServers,
    iceTransportPolicy: peer.iceTransportPolicy ?? 'all',
    codecs: { video: [videoCodecParameters(codec, h264)] },
    // Transport-wide sequence numbers make the browser send transport-cc feedback (Chromium:
    // every ~65 ms, and no REMB), which the sender's congestion control runs on.
    // abs-capture-time: each frame's capture time, for the page's glass-to-glass latency.
    headerExtensions: { video: [useTransportWideCC(), absCaptureTimeExtension()] },
    iceUseIpv6: peer.ipv6 ?? false,
    ...(peer.icePortRange === undefined ? {} : { icePortRange: peer.icePortRange }),
    ...(peer.announcedAddresses === undefined ? {} : { iceAdditionalHostAddresses: peer.announcedAddresses }),
  });
}

/** What {@link PeerMedia} counts. */
export interface PeerMediaCounters {
  packetsSent: number;
  bytesSent: number;
  nacksReceived: number;
  plisReceived: number;
  firsReceived: number;
}

export interface PeerMediaSettings {
  /** Cameras in m-line order. */
  cameras: readonly CameraPipeline[];
  logger: Logger;
  /** Where the link's estimate starts, bps; default (and ceiling) the cameras' configured bitrates. */
  linkStartBps?: number;
  /** Any RTCP from the remote side (liveness). */
  onRtcp?: () => void;
  /** The first media packet left (set-up timeline). */
  onFirstPacket?: () => void;
}

/** Links, tracks and sinks of one peer connection (see the file comment). */
export class PeerMedia {
  readonly counters: PeerMediaCounters = {
    packetsSent: 0,
    bytesSent: 0,
    nacksReceived: 0,
    plisReceived: 0,
    firsReceived: 0,
  };
  readonly #settings: PeerMediaSettings;
  readonly #sinks: { camera: CameraPipeline; sink: RtpSink }[] = [];
  /** One per DTLS transport (one when bundled, as browsers do). */
  readonly #links = new Map<RTCDtlsTransport, ViewerLink>();
  /** The tracks by their RTP sender's SSRC, for PLI/FIR. */
  readonly #tracksBySsrc = new Map<number, ViewerTrack>();
  /** The estimate when the media was closed (its links are gone by then). */
  #closingEstimateBps: number | undefined;
  #firstPacketSent = false;

  constructor(settings: PeerMediaSettings) {
    this.#settings = settings;
  }

  /** Whether the sinks are attached to the cameras (the peer connected). */
  get attached(): boolean {
    return this.#sinks.length > 0;
  }

  /** The link of the first camera (browsers bundle: the only one). */
  get firstLink(): ViewerLink | undefined {
    return this.#links.values().next().value;
  }

  /** The latest bandwidth estimate of the link (bps), once its feedback was heard. */
  get lastEstimateBps(): number | undefined {
    const link = this.firstLink;
    return link?.hasFeedback === true ? link.estimate.targetBps : this.#closingEstimateBps;
  }

  /** Round-trip time from RTCP receiver reports, ms (undefined until measured). */
  get rttMs(): number | undefined {
    return this.firstLink?.rttMs;
  }

  /** The first link's congestion control state; undefined before connecting. */
  linkStats(): ViewerLinkStats | undefined {
    return this.firstLink?.stats();
  }

  trackStats(): ViewerTrackStats[] {
    return [...this.#links.values()].flatMap((link) => link.trackStats());
  }

  /**
   * Starts sending: a link per DTLS transport, a track per camera (in `transceivers` order), each
   * track attached to its camera's encoder as an `RtpSink`.
   */
  attach(transceivers: readonly RTCRtpTransceiver[]): void {
    const { cameras } = this.#settings;
    const configuredBps = Math.max(
      300_000,
      cameras.reduce((sum, camera) => sum + camera.maxBitrateBps, 0),
    );
    // The configured bitrates are media; the link carries packet overhead on top (MEDIA_SHARE):
    // starting the estimate at exactly the media rate would lower every camera by 5 % at once.
    const linkBps = configuredBps / MEDIA_SHARE;
    const hint = this.#settings.linkStartBps;
    const startBps = hint !== undefined && hint > 0 ? Math.min(hint, linkBps) : linkBps;
    transceivers.forEach((transceiver, index) => {
      const camera = cameras[index];
      if (camera === undefined) return;
      const rtpSender = transceiver.sender;
      let link = this.#links.get(transceiver.dtlsTransport);
      if (link === undefined) {
        link = new ViewerLink({
          transport: transceiver.dtlsTransport,
          startBps,
          // Probing may find more than the cameras use: an estimate above their sum says "free",
          // and the pacer's queue bound (in ms at the estimate) then leaves room for an encoder's
          // start-up overshoot (with 1.25× it dropped frames on free loopback at the start).
          maxBps: 2 * linkBps,
          minBps: 100_000,
          logger: this.#settings.logger,
        });
        this.#links.set(transceiver.dtlsTransport, link);
      }
      const track = link.addTrack(camera, rtpSender);
      this.#tracksBySsrc.set(rtpSender.ssrc, track);
      const counters = this.counters;
      const sink: RtpSink = {
        sendFrame: (frame: PacketizedFrame) => {
          if (!this.#firstPacketSent) {
            this.#firstPacketSent = true;
            this.#settings.onFirstPacket?.();
          }
          counters.packetsSent += frame.packets.length;
          for (const packet of frame.packets) counters.bytesSent += packet.payload.length;
          track.sendFrame(frame);
        },
        get availableBps() {
          return track.availableBps;
        },
      };
      this.#sinks.push({ camera, sink });
      camera.attach(sink);
    });
  }

  /** Stops sending: detaches every sink and closes the links. Idempotent. */
  close(): void {
    for (const { camera, sink } of this.#sinks.splice(0)) camera.detach(sink);
    this.#closingEstimateBps = this.lastEstimateBps;
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
  }

  /** Through the track once connected (it guards against repeated PLIs), else directly. */
  #requestKeyframe(ssrc: number, camera: CameraPipeline, reason: 'pli' | 'fir'): void {
    const track = this.#tracksBySsrc.get(ssrc);
    if (track === undefined) camera.requestKeyframe(reason);
    else track.onKeyframeRequest(reason);
  }

  /**
   * PLI and FIR reach us through werift's RTCP router, which picks the recipient by the feedback's
   * *sender* SSRC first: when the remote side announced its own SSRC (werift viewers and Janus
   * do; Chrome does not), the feedback lands on our RTCRtpReceiver instead of the RTCRtpSender.
   * Both are watched and the camera is found by the media SSRC the feedback names.
   */
  watchFeedback(transceiver: RTCRtpTransceiver, camerasBySsrc: ReadonlyMap<number, CameraPipeline>): void {
    const onRtcp = (packet: RtcpPacket): void => {
      this.#settings.onRtcp?.();
      if (packet instanceof RtcpTransportLayerFeedback && packet.feedback.count === GENERIC_NACK_FMT) {
        this.counters.nacksReceived += 1;
        return;
      }
      if (!(packet instanceof RtcpPayloadSpecificFeedback)) return;
      const feedback = packet.feedback as { count: number; mediaSsrc?: number; fir?: { ssrc: number }[] };
      if (feedback.count === PLI_FMT) {
        const ssrc = feedback.mediaSsrc ?? -1;
        const camera = camerasBySsrc.get(ssrc);
        if (camera === undefined) return;
        this.counters.plisReceived += 1;
        this.#requestKeyframe(ssrc, camera, 'pli');
      } else if (feedback.count === FIR_FMT) {
        for (const entry of feedback.fir ?? []) {
          const camera = camerasBySsrc.get(entry.ssrc);
          if (camera === undefined) continue;
          this.counters.firsReceived += 1;
          this.#requestKeyframe(entry.ssrc, camera, 'fir');
        }
      }
    };
    transceiver.sender.onRtcp.subscribe(onRtcp);
    transceiver.receiver.onRtcp.subscribe(onRtcp);
  }
}
