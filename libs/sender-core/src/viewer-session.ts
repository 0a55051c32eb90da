import { EventEmitter } from 'node:events';
import type { ByeCode, IceCandidate } from '@robocam/protocol';
import {
  CloseOnce,
  InvalidStateError,
  errorMessage,
  silentLogger,
  type CloseInfo,
  type Logger,
  type VideoCodec,
} from '@robocam/types';
import type * as TypedEmitterModule from 'typed-emitter';
import {
  RTCPeerConnection,
  RtcpPayloadSpecificFeedback,
  RtcpTransportLayerFeedback,
  useTransportWideCC,
  type RTCDtlsTransport,
  type RTCIceServer,
  type RTCRtpTransceiver,
  type RtcpPacket,
} from 'werift';
import type { CameraPipeline, RtpSink, SenderCamera } from './camera-pipeline.js';
import { MEDIA_SHARE } from './encoder-target.js';
import type { PacketizedFrame } from './rtp-packetizer.js';
import { absCaptureTimeExtension } from './rtp/abs-capture-time.js';
import { ViewerLink, type ViewerLinkStats, type ViewerTrack, type ViewerTrackStats } from './viewer-link.js';
import { NegotiationError } from './errors.js';
import {
  declareH264Level,
  sessionH264,
  videoCodecParameters,
  waitForGathering,
  type SessionH264,
} from './peer-codecs.js';

/** How viewer peer connections reach the network. */
export interface PeerSettings {
  /**
   * STUN/TURN servers. Default none: the sender then runs ICE-lite with host candidates only,
   * which is right on a LAN and avoids werift's default public STUN lookup (a 5 s stall offline).
   */
  iceServers?: RTCIceServer[];
  /** UDP port range for media, inclusive, e.g. `[40000, 40100]` to publish from a container. Default: any port. */
  icePortRange?: [number, number];
  /** Extra addresses to announce as host candidates (the host's address behind Docker/NAT). Default none. */
  announcedAddresses?: string[];
  /** Gather IPv6 candidates too. Default false. */
  ipv6?: boolean;
  /** A session that has not connected by then is closed, in ms. Default 15 000. */
  connectTimeoutMs?: number;
  /**
   * A connected viewer that sends no RTCP (receiver reports, feedback) for this long is gone —
   * e.g. a closed laptop lid — and its session is closed, in ms. Default 15 000.
   */
  silenceTimeoutMs?: number;
}

export interface ViewerSessionSettings {
  /** Session id, from the viewer's offer. */
  id: string;
  /** The viewer's peer id at the signaling server. */
  viewerId: string;
  /** Cameras in m-line order of the viewer's offer. */
  cameras: CameraPipeline[];
  codec: VideoCodec;
  peer: PeerSettings;
  /** Logger, usually a child with the session and viewer bound. Default `silentLogger`. */
  logger?: Logger;
  /**
   * Where this viewer's bandwidth estimate starts, bps: the last estimate of its previous session
   * (the sender remembers it). Default: the cameras' configured bitrates.
   */
  linkStartBps?: number;
}

/**
 * Why a session closed: who (`origin`) and the protocol's bye code. `remote` is the viewer's bye,
 * `parent` the sender closing it (shutting down, or replacing it after a failed renegotiation),
 * `failure` ICE/DTLS failure (`peer-failed`), no connection in time (`connect-timeout`), no RTCP
 * for too long (`viewer-silent`) or an offer that could not be answered, `local` a `close()` call.
 */
export type SessionCloseInfo = CloseInfo<ByeCode>;

/** Counters of one viewer session. */
export interface ViewerSessionStats {
  id: string;
  viewerId: string;
  cameras: string[];
  connectionState: string;
  packetsSent: number;
  bytesSent: number;
  nacksReceived: number;
  plisReceived: number;
  firsReceived: number;
  /** Round-trip time from RTCP receiver reports, in ms (undefined until measured). */
  rttMs: number | undefined;
  /**
   * Congestion control of the viewer's link: its bandwidth estimate, pacer queue, loss; undefined
   * before the session connected.
   */
  link: ViewerLinkStats | undefined;
  /** Each camera's stream to this viewer: the temporal layer it gets, frames skipped. */
  tracks: ViewerTrackStats[];
}

export type ViewerSessionEvents = {
  connected: () => void;
  /** The session closed (once); `info` says who closed it and why. */
  closed: (info: SessionCloseInfo) => void;
};

const LOCAL_CLOSE: SessionCloseInfo = { origin: 'local', code: 'closed', message: 'session closed' };

/** What an embedder sees of one viewer session of a `Sender` (`sender.sessions`, session events). */
export interface SenderSession {
  /** Session id, from the viewer's offer. */
  readonly id: string;
  /** The viewer's peer id at the signaling server. */
  readonly viewerId: string;
  /** The cameras it watches, in the order of its offer. */
  readonly cameras: readonly SenderCamera[];
  /** The peer connection's state (`new`, `connecting`, `connected`, …). */
  readonly connectionState: string;
  /** True from the first close on. */
  readonly closed: boolean;
  /** Who closed it and why; undefined while open. */
  readonly closeInfo: SessionCloseInfo | undefined;
  /** Its counters (RTT from RTCP receiver reports). */
  stats(): Promise<ViewerSessionStats>;
  /** Ends it; the viewer gets a bye with `info.code`. Default: origin `local`, code `closed`. */
  close(info?: SessionCloseInfo): Promise<void>;
}

/** Payload-specific feedback formats: PLI (RFC 4585) and FIR (RFC 5104). */
const PLI_FMT = 1;
const FIR_FMT = 4;
/** Transport-layer feedback format of a generic NACK (RFC 4585). */
const GENERIC_NACK_FMT = 1;

/**
 * One viewer's WebRTC peer connection: a sendonly track per camera it asked for. Packets come
 * from the cameras' shared pipelines; this class only negotiates, forwards PLI/FIR as keyframe
 * requests, and cleans up.
 */
export class ViewerSession
  extends (EventEmitter as new () => TypedEmitterModule.default<ViewerSessionEvents>)
  implements SenderSession
{
  readonly id: string;
  readonly viewerId: string;
  readonly cameras: readonly CameraPipeline[];
  readonly #settings: ViewerSessionSettings;
  readonly #logger: Logger;
  #pc: RTCPeerConnection | undefined;
  /** What the session declares for H.264, set when the peer connection is made. */
  #h264: SessionH264 | undefined;
  readonly #sinks: { camera: CameraPipeline; sink: RtpSink }[] = [];
  /** Cameras this session holds (acquired and not yet released). */
  readonly #acquired = new Set<CameraPipeline>();
  readonly #closing = new CloseOnce<ByeCode>();
  #connectTimer: NodeJS.Timeout | undefined;
  #silenceTimer: NodeJS.Timeout | undefined;
  /** Candidates that arrived before the peer connection existed (trickle races the answer). */
  readonly #earlyCandidates: IceCandidate[] = [];
  #lastRtcpAt = 0;
  readonly #counters = { packetsSent: 0, bytesSent: 0, nacksReceived: 0, plisReceived: 0, firsReceived: 0 };
  /** One per DTLS transport (one when bundled, as browsers do). */
  readonly #links = new Map<RTCDtlsTransport, ViewerLink>();
  /** The tracks by their RTP sender's SSRC, for PLI/FIR. */
  readonly #tracksBySsrc = new Map<number, ViewerTrack>();
  /** The estimate when the session closed (its links are gone by then). */
  #closingEstimateBps: number | undefined;
  /** When the offer arrived (performance.now()): the origin of the debug-level set-up timeline. */
  readonly #createdAt = performance.now();
  #firstPacketSent = false;

  constructor(settings: ViewerSessionSettings) {
    super();
    this.#settings = settings;
    this.id = settings.id;
    this.viewerId = settings.viewerId;
    this.cameras = settings.cameras;
    this.#logger = settings.logger ?? silentLogger;
  }

  /** True from the first close (any origin) on. */
  get closed(): boolean {
    return this.#closing.closed;
  }

  /** Who closed the session and why; undefined while open. */
  get closeInfo(): SessionCloseInfo | undefined {
    return this.#closing.info;
  }

  /** The latest bandwidth estimate of the viewer's link (bps), once its feedback was heard. */
  get lastEstimateBps(): number | undefined {
    const link = this.#firstLink;
    return link?.hasFeedback === true ? link.estimate.targetBps : this.#closingEstimateBps;
  }

  /** The link of the session's first camera (browsers bundle: the only one). */
  get #firstLink(): ViewerLink | undefined {
    return this.#links.values().next().value;
  }

  get connectionState(): string {
    return this.#pc?.connectionState ?? 'new';
  }

  /**
   * Starts the cameras, applies the viewer's offer and returns the answer SDP, with all local
   * candidates in it. Throws {@link NegotiationError} with the bye code to send (`camera-failed`
   * when a camera cannot start: the cameras that did start are released again).
   */
  async answer(offerSdp: string): Promise<string> {
    const { cameras } = this.#settings;
    // The cameras start (encoder open: 6–20 ms for VP8 720p here) while the peer connection is
    // set up, not before it: the answer still waits for both, so a camera that cannot start still
    // refuses the offer (and the ones that did start are released). H.264 waits first when its SDP
    // profile-level-id (from the encoder's SPS) is not known yet.
    const acquired = this.#acquireCameras(cameras).then(() => {
      this.#trace('cameras acquired');
    });
    // Handled here at once: a camera may fail while the peer connection is still being set up.
    acquired.catch(() => undefined);
    if (
      this.#settings.codec === 'h264' &&
      cameras.some((camera) => camera.h264ProfileLevelId === undefined)
    ) {
      await acquired;
    }
    try {
      this.#throwIfClosed();
      const sdp = await this.#negotiate(offerSdp);
      await acquired;
      this.#throwIfClosed();
      return sdp;
    } catch (error) {
      // A camera that cannot start is the refusal to report, whatever the offer did meanwhile.
      const cameraError = await acquired.then(
        () => undefined,
        (failure: unknown) => failure,
      );
      throw cameraError ?? error;
    } finally {
      // Settle before the caller closes the session on an error, so that close() releases them;
      // if close() already ran while the cameras started, release what it could not.
      await acquired.catch(() => undefined);
      if (this.closed) await this.#releaseCameras();
    }
  }

  #throwIfClosed(): void {
    if (this.closed) throw new InvalidStateError('session closed while negotiating');
  }

  async #negotiate(offerSdp: string): Promise<string> {
    const { cameras, peer } = this.#settings;
    const useIceLite = (peer.iceServers ?? []).length === 0;
    // H.264: the cameras have encoded by now (answer() waits for them), so their profile is known.
    this.#h264 = sessionH264(this.#settings.codec, cameras, this.#logger);
    const pc = new RTCPeerConnection({
      iceLite: useIceLite,
      iceServers: peer.iceServers ?? [],
      codecs: { video: [videoCodecParameters(this.#settings.codec, this.#h264)] },
      // Transport-wide sequence numbers make the browser send transport-cc feedback (Chromium:
      // every ~65 ms, and no REMB), which the sender's congestion control runs on.
      // abs-capture-time: each frame's capture time, for the page's glass-to-glass latency.
      headerExtensions: { video: [useTransportWideCC(), absCaptureTimeExtension()] },
      iceUseIpv6: peer.ipv6 ?? false,
      ...(peer.icePortRange === undefined ? {} : { icePortRange: peer.icePortRange }),
      ...(peer.announcedAddresses === undefined
        ? {}
        : { iceAdditionalHostAddresses: peer.announcedAddresses }),
    });
    this.#pc = pc;
    pc.connectionStateChange.subscribe((state) => {
      this.#onConnectionState(state);
    });
    pc.iceConnectionStateChange.subscribe((state) => {
      this.#trace(`ICE ${state}`);
    });

    await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    for (const candidate of this.#earlyCandidates.splice(0)) await this.addCandidate(candidate);
    const transceivers = pc.getTransceivers().filter((transceiver) => transceiver.kind === 'video');
    if (transceivers.length !== cameras.length) {
      throw new NegotiationError(
        'bad-offer',
        `offer has ${transceivers.length} video sections for ${cameras.length} requested cameras`,
      );
    }
    const camerasBySsrc = new Map<number, CameraPipeline>();
    transceivers.forEach((transceiver, index) => {
      transceiver.setDirection('sendonly');
      camerasBySsrc.set(transceiver.sender.ssrc, cameras[index] as CameraPipeline);
    });
    for (const transceiver of transceivers) this.#watchFeedback(transceiver, camerasBySsrc);
    // Be the DTLS server (a=setup:passive) unless the offer insists on it: the browser's
    // ClientHello then leaves as soon as ICE connects. As DTLS client werift 0.25 sleeps 100 ms
    // before its ClientHello (RTCDtlsTransport.start): ICE connected → connected took ~110 ms,
    // as server 11–12 ms (p50, Chromium on loopback, bench/ttff.mjs).
    if (!/^a=setup:passive/m.test(offerSdp)) {
      for (const transceiver of transceivers) transceiver.dtlsTransport.role = 'server';
    }
    await pc.setLocalDescription(await pc.createAnswer());
    this.#trace('answer created');
    await waitForGathering(pc, 3000);
    this.#trace('candidates gathered');
    const sdp = pc.localDescription?.sdp;
    if (sdp === undefined) throw new NegotiationError('internal', 'no local description');
    // werift answers an offer without our codec with the offer's codecs: look for ours by name.
    const codecName = this.#settings.codec === 'vp8' ? 'VP8' : 'H264';
    if (!new RegExp(`\\ba=rtpmap:\\d+ ${codecName}/90000`, 'i').test(sdp)) {
      throw new NegotiationError('no-common-codec', `the viewer does not accept ${this.#settings.codec}`);
    }
    const connectTimeoutMs = peer.connectTimeoutMs ?? 15_000;
    this.#connectTimer = setTimeout(() => {
      if (pc.connectionState === 'connected') return;
      void this.#closeFor('connect-timeout', `not connected after ${connectTimeoutMs} ms`);
    }, connectTimeoutMs);
    return declareH264Level(sdp, this.#h264);
  }

  /**
   * Applies a new offer on the running peer connection (e.g. an ICE restart: new credentials,
   * same DTLS session) and returns the answer. Throws if the offer changes the tracks.
   */
  async renegotiate(offerSdp: string): Promise<string> {
    const pc = this.#pc;
    if (pc === undefined || this.closed) throw new InvalidStateError('session is not running');
    await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    const transceivers = pc.getTransceivers().filter((transceiver) => transceiver.kind === 'video');
    if (transceivers.length !== this.cameras.length) {
      throw new NegotiationError('bad-offer', 'a renegotiation cannot change the cameras of a session');
    }
    for (const transceiver of transceivers) transceiver.setDirection('sendonly');
    await pc.setLocalDescription(await pc.createAnswer());
    await waitForGathering(pc, 3000);
    const sdp = pc.localDescription?.sdp;
    if (sdp === undefined) throw new NegotiationError('internal', 'no local description');
    return declareH264Level(sdp, this.#h264);
  }

  /** Adds a trickled remote candidate (null = end of candidates). */
  async addCandidate(candidate: IceCandidate | null): Promise<void> {
    const pc = this.#pc;
    if (this.closed || candidate === null || candidate.candidate === '') return;
    if (pc?.remoteDescription == null) {
      if (this.#earlyCandidates.length < 64) this.#earlyCandidates.push(candidate);
      return;
    }
    await pc.addIceCandidate({
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid ?? undefined,
      sdpMLineIndex: candidate.sdpMLineIndex ?? undefined,
    });
  }

  stats(): Promise<ViewerSessionStats> {
    const link = this.#firstLink;
    const rttMs = link?.rttMs;
    return Promise.resolve({
      id: this.id,
      viewerId: this.viewerId,
      cameras: this.cameras.map((camera) => camera.id),
      connectionState: this.connectionState,
      ...this.#counters,
      rttMs,
      link: link?.stats(),
      tracks: [...this.#links.values()].flatMap((l) => l.trackStats()),
    });
  }

  /**
   * Ends the session: stops forwarding, closes the peer connection, releases the cameras, then
   * emits `closed` with `info`. Idempotent: later calls resolve with the first and keep its info.
   * Default info: origin `local`, code `closed`.
   */
  close(info: SessionCloseInfo = LOCAL_CLOSE): Promise<void> {
    return this.#closing.close(info, async () => {
      clearTimeout(this.#connectTimer);
      clearInterval(this.#silenceTimer);
      for (const { camera, sink } of this.#sinks.splice(0)) camera.detach(sink);
      this.#closingEstimateBps = this.lastEstimateBps;
      for (const link of this.#links.values()) link.close();
      this.#links.clear();
      const pc = this.#pc;
      this.#pc = undefined;
      await pc?.close().catch(() => undefined);
      await this.#releaseCameras();
      this.#logger.info(
        { origin: info.origin, code: info.code, reason: info.message },
        'viewer session closed',
      );
      this.emit('closed', info);
    });
  }

  /** Closes because something failed (origin `failure`). */
  #closeFor(code: ByeCode, message: string): Promise<void> {
    return this.close({ origin: 'failure', code, message });
  }

  /**
   * Acquires every camera; when one fails, releases those that started and throws `camera-failed`
   * (a camera left acquired would keep encoding for nobody and be announced live).
   */
  async #acquireCameras(cameras: readonly CameraPipeline[]): Promise<void> {
    const results = await Promise.allSettled(
      cameras.map(async (camera) => {
        await camera.acquire();
        this.#acquired.add(camera);
      }),
    );
    const failed = results.findIndex((result) => result.status === 'rejected');
    if (failed === -1) return;
    await this.#releaseCameras();
    const { reason } = results[failed] as { reason: unknown };
    const camera = cameras[failed] as CameraPipeline;
    throw new NegotiationError(
      'camera-failed',
      `camera ${camera.id} failed to start: ${errorMessage(reason)}`,
      reason,
    );
  }

  async #releaseCameras(): Promise<void> {
    const held = [...this.#acquired];
    this.#acquired.clear();
    await Promise.all(held.map((camera) => camera.release()));
  }

  #onConnectionState(state: string): void {
    this.#trace(`peer connection ${state}`);
    if (state === 'connected' && this.#sinks.length === 0) {
      clearTimeout(this.#connectTimer);
      this.#attachSinks();
      this.#watchSilence();
      this.emit('connected');
    } else if (state === 'failed' || state === 'closed') {
      void this.#closeFor('peer-failed', `peer connection ${state}`);
    }
  }

  /** A debug-level step of the set-up timeline, in ms since the offer arrived (see bench/ttff.mjs). */
  #trace(step: string): void {
    this.#logger.debug({ sinceOfferMs: Math.round(performance.now() - this.#createdAt) }, step);
  }

  #watchSilence(): void {
    const timeoutMs = this.#settings.peer.silenceTimeoutMs ?? 15_000;
    this.#lastRtcpAt = performance.now();
    this.#silenceTimer = setInterval(
      () => {
        if (performance.now() - this.#lastRtcpAt > timeoutMs)
          void this.#closeFor('viewer-silent', `no RTCP from the viewer for ${timeoutMs} ms`);
      },
      Math.min(2000, timeoutMs / 2),
    );
  }

  #attachSinks(): void {
    const transceivers =
      this.#pc?.getTransceivers().filter((transceiver) => transceiver.kind === 'video') ?? [];
    const configuredBps = Math.max(
      300_000,
      this.cameras.reduce((sum, camera) => sum + camera.maxBitrateBps, 0),
    );
    // The configured bitrates are media; the link carries packet overhead on top (MEDIA_SHARE):
    // starting the estimate at exactly the media rate would lower every camera by 5 % at once.
    const linkBps = configuredBps / MEDIA_SHARE;
    const hint = this.#settings.linkStartBps;
    const startBps = hint !== undefined && hint > 0 ? Math.min(hint, linkBps) : linkBps;
    transceivers.forEach((transceiver, index) => {
      const camera = this.cameras[index];
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
          logger: this.#logger,
        });
        this.#links.set(transceiver.dtlsTransport, link);
      }
      const track = link.addTrack(camera, rtpSender);
      this.#tracksBySsrc.set(rtpSender.ssrc, track);
      const sink: RtpSink = {
        sendFrame: (frame: PacketizedFrame) => {
          if (!this.#firstPacketSent) {
            this.#firstPacketSent = true;
            this.#trace('first packet sent');
          }
          this.#counters.packetsSent += frame.packets.length;
          for (const packet of frame.packets) this.#counters.bytesSent += packet.payload.length;
          track.sendFrame(frame);
        },
        get availableBps() {
          return track.availableBps;
        },
      };
      this.#sinks.push({ camera, sink });
      camera.attach(sink);
    });
    this.#logger.info({ cameras: this.cameras.map((camera) => camera.id) }, 'viewer connected');
  }

  /** Through the viewer's track once connected (it guards against repeated PLIs), else directly. */
  #requestKeyframe(ssrc: number, camera: CameraPipeline, reason: 'pli' | 'fir'): void {
    const track = this.#tracksBySsrc.get(ssrc);
    if (track === undefined) camera.requestKeyframe(reason);
    else track.onKeyframeRequest(reason);
  }

  /**
   * PLI and FIR reach us through werift's RTCP router, which picks the recipient by the feedback's
   * *sender* SSRC first: when a viewer announced its own SSRC in the offer (werift viewers do;
   * Chrome does not), the feedback lands on our RTCRtpReceiver instead of the RTCRtpSender. Both
   * are watched and the camera is found by the media SSRC the feedback names.
   */
  #watchFeedback(transceiver: RTCRtpTransceiver, camerasBySsrc: Map<number, CameraPipeline>): void {
    const onRtcp = (packet: RtcpPacket): void => {
      this.#lastRtcpAt = performance.now();
      if (packet instanceof RtcpTransportLayerFeedback && packet.feedback.count === GENERIC_NACK_FMT) {
        this.#counters.nacksReceived += 1;
        return;
      }
      if (!(packet instanceof RtcpPayloadSpecificFeedback)) return;
      const feedback = packet.feedback as { count: number; mediaSsrc?: number; fir?: { ssrc: number }[] };
      if (feedback.count === PLI_FMT) {
        const ssrc = feedback.mediaSsrc ?? -1;
        const camera = camerasBySsrc.get(ssrc);
        if (camera === undefined) return;
        this.#counters.plisReceived += 1;
        this.#requestKeyframe(ssrc, camera, 'pli');
      } else if (feedback.count === FIR_FMT) {
        for (const entry of feedback.fir ?? []) {
          const camera = camerasBySsrc.get(entry.ssrc);
          if (camera === undefined) continue;
          this.#counters.firsReceived += 1;
          this.#requestKeyframe(entry.ssrc, camera, 'fir');
        }
      }
    };
    transceiver.sender.onRtcp.subscribe(onRtcp);
    transceiver.receiver.onRtcp.subscribe(onRtcp);
  }
}
