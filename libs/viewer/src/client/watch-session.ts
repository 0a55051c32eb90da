import { TELEOP_CHANNELS } from '@robocam/protocol';
import type {
  ByeCode,
  ClockEstimate,
  ErrorCode,
  IceCandidate,
  ServerMessageOf,
  SignalingClient,
} from '@robocam/protocol';
import { errorMessage } from '@robocam/types';
import { noCommonCodecMessage } from './codec-support.js';
import type { SessionCloseCode, SessionCloseInfo } from './status.js';
import { negotiateCaptureTime } from './capture-time.js';

export type WatchSessionState = 'negotiating' | 'connecting' | 'connected' | 'closed';

export interface WatchSessionSettings {
  client: SignalingClient;
  /** The sender's peer id (changes when the sender re-registers). */
  senderId: string;
  /** Camera ids, one recvonly video m-line each, in this order. */
  cameras: readonly string[];
  /** Time allowed for the answer plus ICE and DTLS, in ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Time a `disconnected` connection gets to recover before the session ends, in ms. Default 3000. */
  disconnectedGraceMs?: number;
  /** Peer connection settings. Default: no ICE servers (the sender's host candidates suffice on a LAN). */
  rtcConfiguration?: RTCConfiguration;
  /** A remote track arrived for camera `index`. */
  onTrack?: (index: number, stream: MediaStream, receiver: RTCRtpReceiver) => void;
  /** The peer connection is up. */
  onConnected?: () => void;
  /**
   * The session ended: `origin` `local`/`parent` when its owner closed it, `remote` when the sender
   * or the server did (`code` is theirs), `failure` when the connection failed or timed out.
   */
  onClosed?: (info: SessionCloseInfo) => void;
}

/** 16 random bytes, base64url: fits the protocol's session id rules, works on insecure origins too. */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/**
 * One viewing session: a browser peer connection with a recvonly video transceiver per camera,
 * negotiated with one sender through the signaling server (offer → answer, candidates trickled both
 * ways). The receivers are pinned to the live edge (`jitterBufferTarget = 0`). A session is never
 * renegotiated in place: when it fails, the owner closes it and starts a new one.
 */
export class WatchSession {
  readonly id = newSessionId();
  readonly cameras: readonly string[];
  readonly pc: RTCPeerConnection;
  /**
   * The teleop channels, opened with the session (the offer carries them): commands unordered and
   * never retransmitted (a late command is worse than a lost one), events ordered and reliable.
   */
  readonly control: RTCDataChannel;
  readonly events: RTCDataChannel;
  /** performance.now() when the session started, got its answer, connected. */
  readonly startedAt = performance.now();
  answeredAt: number | undefined;
  connectedAt: number | undefined;
  /** The sender's latest report of this session's link (it sends one about once a second). */
  linkStats: ServerMessageOf<'link-stats'> | undefined;
  #senderId: string;
  #state: WatchSessionState = 'negotiating';
  #awaitingAnswer = true;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #closeInfo: SessionCloseInfo | undefined;
  readonly #settings: WatchSessionSettings;
  readonly #transceivers: RTCRtpTransceiver[] = [];
  /** Local candidates wait for the answer: the sender has no peer connection before it answers. */
  #localCandidates: (IceCandidate | null)[] | undefined = [];
  /** Remote candidates wait for the answer to be applied. */
  #remoteCandidates: (IceCandidate | null)[] | undefined = [];
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #disconnectedTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(settings: WatchSessionSettings) {
    this.#settings = settings;
    this.#senderId = settings.senderId;
    this.cameras = settings.cameras;
    this.pc = new RTCPeerConnection({
      iceServers: [],
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
      ...settings.rtcConfiguration,
    });
    for (const _camera of settings.cameras) {
      const transceiver = this.pc.addTransceiver('video', { direction: 'recvonly' });
      pinToLiveEdge(transceiver.receiver);
      negotiateCaptureTime(transceiver); // the capture time in RTP, for the latency readout
      this.#transceivers.push(transceiver);
    }
    this.control = this.pc.createDataChannel(TELEOP_CHANNELS.control, { ordered: false, maxRetransmits: 0 });
    this.events = this.pc.createDataChannel(TELEOP_CHANNELS.events);
    this.pc.onicecandidate = (event) => {
      this.#onLocalCandidate(event.candidate);
    };
    this.pc.ontrack = (event) => {
      const index = this.#transceivers.indexOf(event.transceiver);
      if (index < 0) return;
      const stream = event.streams[0] ?? new MediaStream([event.track]);
      this.#settings.onTrack?.(index, stream, event.receiver);
    };
    this.pc.onconnectionstatechange = () => {
      this.#onConnectionState(this.pc.connectionState);
    };
  }

  /** The sender's current peer id (a re-offer may move the session to a new one). */
  get senderId(): string {
    return this.#senderId;
  }

  get state(): WatchSessionState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Why the session ended (undefined while open). */
  get closeInfo(): SessionCloseInfo | undefined {
    return this.#closeInfo;
  }

  get receivers(): RTCRtpReceiver[] {
    return this.#transceivers.map((transceiver) => transceiver.receiver);
  }

  /** Creates and sends the offer. */
  async start(): Promise<void> {
    this.#connectTimer = setTimeout(() => {
      this.#fail(
        'connect-timeout',
        this.#state === 'negotiating' ? 'no answer from the sender' : 'connection timed out',
      );
    }, this.#settings.connectTimeoutMs ?? 10_000);
    try {
      await this.pc.setLocalDescription(await this.pc.createOffer());
    } catch (error) {
      this.#fail('internal', `cannot create an offer: ${errorMessage(error)}`);
      return;
    }
    if (this.closed) return;
    const sdp = this.pc.localDescription?.sdp;
    if (sdp === undefined) {
      this.#fail('internal', 'no local description');
      return;
    }
    this.#sendOffer(sdp);
  }

  /**
   * Offers again on this running session, to `senderId` (the sender's id after it re-registered,
   * e.g. when the signaling server restarted and forgot every session). The offer keeps the ICE
   * credentials and the DTLS session, so the sender renegotiates in place and the video keeps
   * playing; the server learns the session again, so pings and the final bye reach the sender.
   * (An ICE restart here stalled the media with werift's ICE-lite.) If the sender does not answer
   * in time, or the renegotiation fails, the session closes (`remote`) and its owner starts anew.
   */
  async reoffer(senderId: string): Promise<void> {
    if (this.#state === 'closed') return;
    this.#senderId = senderId;
    this.#awaitingAnswer = true;
    this.#localCandidates = [];
    this.#remoteCandidates = [];
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      this.#fail('connect-timeout', 'no answer to the re-offer');
    }, this.#settings.connectTimeoutMs ?? 10_000);
    try {
      await this.pc.setLocalDescription(await this.pc.createOffer());
    } catch (error) {
      this.#fail('internal', `cannot re-offer: ${errorMessage(error)}`);
      return;
    }
    const sdp = this.pc.localDescription?.sdp;
    if (this.closed || sdp === undefined) return;
    this.#sendOffer(sdp);
  }

  #sendOffer(sdp: string): void {
    const sent = this.#settings.client.send({
      type: 'offer',
      session: this.id,
      to: this.#senderId,
      cameras: [...this.cameras],
      sdp,
    });
    if (!sent) this.#fail('signaling-lost', 'signaling server unreachable', { bye: false });
  }

  /** The sender's answer (to the first offer or to a re-offer). */
  async handleAnswer(sdp: string): Promise<void> {
    if (!this.#awaitingAnswer || this.closed) return;
    this.#awaitingAnswer = false;
    clearTimeout(this.#restartTimer);
    if (this.#state === 'negotiating') {
      this.#state = 'connecting';
      this.answeredAt = performance.now();
    }
    try {
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
    } catch (error) {
      this.#fail('peer-failed', `bad answer: ${errorMessage(error)}`);
      return;
    }
    const remote = this.#remoteCandidates ?? [];
    this.#remoteCandidates = undefined;
    for (const candidate of remote) await this.#addRemoteCandidate(candidate);
    const local = this.#localCandidates ?? [];
    this.#localCandidates = undefined;
    for (const candidate of local) this.#sendCandidate(candidate);
  }

  /** A candidate trickled by the sender (null: end of candidates). */
  async handleCandidate(candidate: IceCandidate | null): Promise<void> {
    if (this.closed) return;
    if (this.#remoteCandidates !== undefined) {
      this.#remoteCandidates.push(candidate);
      return;
    }
    await this.#addRemoteCandidate(candidate);
  }

  /**
   * The sender or the server ended the session. A `bye` without a code (from a sender older than
   * the field) counts as `closed`: retryable, like every code but the refusals.
   */
  handleBye(code: ByeCode | undefined, reason: string | undefined): void {
    let message = reason ?? code ?? 'ended by the sender';
    if (code === 'no-common-codec') {
      // The sender names no codec; its camera list does. A browser without it (Firefox has no
      // H.264 without its OpenH264 plugin) is told why, and what to do.
      const cameras = this.#settings.client.senders.get(this.#senderId)?.cameras ?? [];
      const codec = cameras.find((camera) => this.cameras.includes(camera.id))?.codec;
      message = noCommonCodecMessage(codec, message);
    }
    this.close({ origin: 'remote', code: code ?? 'closed', message }, { bye: false });
  }

  /** The sender reported what it sees of this session's link. */
  handleLinkStats(message: ServerMessageOf<'link-stats'>): void {
    if (!this.closed) this.linkStats = message;
  }

  /** The server refused something of this session (e.g. the sender is gone). */
  handleError(code: ErrorCode, message: string): void {
    this.close({ origin: 'remote', code, message: `${code}: ${message}` }, { bye: false });
  }

  /** Round trip and clock offset to the sender, over the signaling server. */
  ping(): Promise<ClockEstimate> {
    return this.#settings.client.ping(this.id);
  }

  /**
   * Ends the session: tells the sender (unless `bye` is false or the signaling connection is down),
   * closes the peer connection. Idempotent: the first `info` stays. The `bye` carries the session's
   * code when it is one of the protocol's (`connect-timeout`, `peer-failed`), else `closed`.
   */
  close(info: SessionCloseInfo, { bye = true }: { bye?: boolean } = {}): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#closeInfo = info;
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#disconnectedTimer);
    clearTimeout(this.#restartTimer);
    if (bye) {
      this.#settings.client.send({
        type: 'bye',
        session: this.id,
        code: info.code === 'connect-timeout' || info.code === 'peer-failed' ? info.code : 'closed',
        reason: info.message.slice(0, 256),
      });
    }
    this.pc.onicecandidate = null;
    this.pc.ontrack = null;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
    this.#settings.onClosed?.(info);
  }

  /** Closes on a failure of this side (timeout, ICE/DTLS, the browser's WebRTC stack). */
  #fail(code: SessionCloseCode, message: string, options?: { bye?: boolean }): void {
    this.close({ origin: 'failure', code, message }, options);
  }

  #onLocalCandidate(candidate: RTCIceCandidate | null): void {
    const init: IceCandidate | null =
      candidate === null || candidate.candidate === ''
        ? null
        : {
            candidate: candidate.candidate,
            sdpMid: candidate.sdpMid,
            sdpMLineIndex: candidate.sdpMLineIndex,
            usernameFragment: candidate.usernameFragment,
          };
    if (this.#localCandidates !== undefined) this.#localCandidates.push(init);
    else this.#sendCandidate(init);
  }

  #sendCandidate(candidate: IceCandidate | null): void {
    if (this.closed) return;
    // The protocol caps candidate lines; an oversized one would only get the message refused.
    if (candidate !== null && candidate.candidate.length > 1024) return;
    this.#settings.client.send({ type: 'candidate', session: this.id, candidate });
  }

  async #addRemoteCandidate(candidate: IceCandidate | null): Promise<void> {
    if (this.closed) return;
    try {
      await this.pc.addIceCandidate(candidate ?? undefined);
    } catch {
      // A candidate for a transport that does not exist (e.g. after max-bundle) is harmless.
    }
  }

  #onConnectionState(state: RTCPeerConnectionState): void {
    if (this.closed) return;
    if (state === 'connected') {
      clearTimeout(this.#disconnectedTimer);
      this.#disconnectedTimer = undefined;
      if (this.#state !== 'connected') {
        this.#state = 'connected';
        this.connectedAt = performance.now();
        clearTimeout(this.#connectTimer);
        this.#settings.onConnected?.();
      }
    } else if (state === 'disconnected') {
      this.#disconnectedTimer ??= setTimeout(() => {
        this.#fail('peer-failed', 'connection lost');
      }, this.#settings.disconnectedGraceMs ?? 3000);
    } else if (state === 'failed') {
      this.#fail('peer-failed', 'connection failed');
    } else if (state === 'closed') {
      this.#fail('peer-failed', 'connection closed');
    }
  }
}

/**
 * Asks the browser to play frames as soon as they are decodable instead of building up a jitter
 * buffer: `jitterBufferTarget` (Chrome 114+, Safari), or Chrome's older `playoutDelayHint`.
 */
export function pinToLiveEdge(receiver: RTCRtpReceiver): void {
  // Neither is in TypeScript's DOM types yet.
  const tunable = receiver as unknown as Record<string, unknown>;
  try {
    if ('jitterBufferTarget' in receiver) tunable.jitterBufferTarget = 0;
    else if ('playoutDelayHint' in receiver) tunable.playoutDelayHint = 0;
  } catch {
    // Not supported here: the browser's default jitter buffer applies.
  }
}
