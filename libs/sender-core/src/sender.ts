import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import {
  cameraIdSchema,
  type ByeCode,
  type CameraInfo,
  SignalingClient,
  type ServerMessageOf,
  type SignalingState,
  type WebSocketConstructor,
} from '@robocam/protocol';
import { isRecoverableError, V4l2Camera, type V4l2CameraSettings } from '@robocam/capture-v4l2';
import type { TestPatternKind } from '@robocam/testpattern';
import {
  CloseOnce,
  InvalidStateError,
  childLogger,
  errorMessage,
  silentLogger,
  type BackoffSettings,
  type CloseInfo,
  type Logger,
  type VideoCodec,
} from '@robocam/types';
import type * as TypedEmitterModule from 'typed-emitter';
import { RTCDtlsTransport } from 'werift';
import { nameCameras, type NamedCameraSpec } from './camera-list.js';
import { CameraPipeline, type SenderCamera, type CameraStats } from './camera-pipeline.js';
import type { EncoderPreference } from './encoder/index.js';
import { ConfigurationError, NegotiationError } from './errors.js';
import { LINK_STATS_MESSAGE_ID, linkStatsMessage } from './link-stats.js';
import { TestPatternSource } from './test-pattern-source.js';
import type { VideoSource } from './video-source.js';
import {
  Teleop,
  type ControlCommand,
  type ControlLeaseInfo,
  type ControlSettings,
  type ControlStats,
  type ControlStop,
  type ViewerEventInfo,
} from './teleop/teleop.js';
import type { JsonObject } from '@robocam/protocol';
import {
  WhipPublication,
  type PublicationStats,
  type SenderPublication,
  type WhipPublishOptions,
} from './whip/whip-publication.js';
import {
  ViewerSession,
  type PeerSettings,
  type SenderSession,
  type SessionCloseInfo,
  type ViewerSessionStats,
} from './viewer-session.js';

/** A camera of the sender: the built-in test pattern, or any {@link VideoSource}. */

/** A viewer's next session starts from its last link estimate if that is at most this old (ms). */
const LINK_MEMORY_MS = 60_000;
/** Viewers whose last estimate is remembered. */
const LINK_MEMORY_ENTRIES = 256;
/** Each connected viewer is told its link's stats this often (ms), for the page's stats overlay. */
const LINK_STATS_INTERVAL_MS = 1000;
/**
 * Most `link-stats` messages per interval; with more viewers they take turns. The signaling server
 * allows a connection 50 messages/s sustained and closes it beyond: the reports must leave room
 * for offers' answers and candidates.
 */
const LINK_STATS_PER_INTERVAL = 10;
export type CameraSpec =
  | {
      type: 'testpattern';
      /**
       * Camera id. Default `testpattern`, or `busy` for the busy pattern (`testpattern-2`, `busy-2`,
       * … when there are several; see {@link nameCameras}).
       */
      id?: string;
      /**
       * Display name. Default "Test pattern" or "Busy test pattern" ("Test pattern 2", … numbered
       * like the id).
       */
      label?: string;
      /**
       * `'bars'` (colour bars, barely moving: encoders use a fraction of their target bitrate) or
       * `'busy'` (a panning, noisy camera-like scene: realistic bitrates). Default `'bars'`.
       */
      pattern?: TestPatternKind;
      /** Frame width in pixels, even, 160–3840. Default 1280. */
      width?: number;
      /** Frame height in pixels, even, 120–2160. Default 720. */
      height?: number;
      /** Frames per second, 1–120. Default 30. */
      fps?: number;
    }
  | {
      type: 'v4l2';
      /**
       * Camera id. Default: derived from the device path by {@link nameCameras}, e.g. `video0`, or
       * `foo_camera_123` for `/dev/v4l/by-id/usb-Foo_Camera_123-video-index0`.
       */
      id?: string;
      /** Display name. Default: the device path. */
      label?: string;
      /** Device node, e.g. `/dev/video0` or a stable `/dev/v4l/by-id/…` link. Required. */
      device: string;
      /** Requested width in pixels; the closest mode the camera offers is used. Default 1280. */
      width?: number;
      /** Requested height in pixels. Default 720. */
      height?: number;
      /** Requested frames per second; the driver's nearest rate is used. Default 30. */
      fps?: number;
      /** Pixel format: 'auto' (MJPEG for large sizes on USB cameras, raw otherwise), 'mjpeg', 'yuyv', … Default 'auto'. */
      format?: V4l2CameraSettings['format'];
    }
  | {
      type: 'source';
      /** Camera id (lowercase letters, digits, _ and -). Required. */
      id: string;
      /** Display name. Default: the id. */
      label?: string;
      /** Any {@link VideoSource}; the sender starts and stops it, the caller owns it. Required. */
      source: VideoSource;
    };

export interface SenderSettings {
  /** Signaling server URL (`ws://` or `wss://`). Default `ws://localhost:8765`. */
  signalingUrl?: string;
  /** Name shown to viewers, at most 64 characters. Default: the host name. */
  name?: string;
  /** Token for a signaling server with `SENDER_TOKEN` set. Default none. */
  token?: string;
  /** Cameras, in the order viewers list them. Default: one 1280x720@30 test pattern. */
  cameras?: CameraSpec[];
  /** Codec for every camera. Default 'vp8'. */
  codec?: VideoCodec;
  /**
   * Target bitrate per camera, in kbps. Default: scaled from each camera's size and rate (about
   * 2 500 kbps at 1280x720@30).
   */
  bitrateKbps?: number;
  /** Encoder preference. Default 'auto' (hardware H.264 when present, else software). */
  encoder?: EncoderPreference;
  /** Seconds between keyframes nobody asked for. Default 10. */
  keyframeIntervalSec?: number;
  /** ICE and UDP settings of viewer peer connections. Defaults: see {@link PeerSettings}. */
  peer?: PeerSettings;
  /** Most concurrent viewer sessions; more are refused with a `too-many-viewers` bye. Default 32. */
  maxSessions?: number;
  /**
   * Structured logger (pino's signature: pass the app's pino instance). Each camera logs through a
   * child with `camera` bound, each session through one with `session` and `viewer`. Default
   * `silentLogger`.
   */
  logger?: Logger;
  /**
   * Teleoperation: who may take the control lease (`token`), the command deadline and the
   * deadman. Defaults: see {@link ControlSettings}.
   */
  control?: ControlSettings;
  /** WebSocket implementation for signaling. Default: Node's global WebSocket. */
  WebSocket?: WebSocketConstructor;
  /**
   * Signaling reconnect backoff. Defaults: 250 ms first delay, doubling to 10 000 ms, half of each
   * delay randomized (see `BackoffSettings`).
   */
  backoff?: BackoffSettings;
}

/** Everything the sender counts. */
export interface SenderStats {
  /** Connection state with the signaling server. */
  signaling: SignalingState;
  /** This sender's id at the signaling server; undefined while not registered. */
  peerId: string | undefined;
  /** One entry per camera, in configuration order. */
  cameras: CameraStats[];
  /** One entry per open viewer session. */
  sessions: ViewerSessionStats[];
  /** Teleoperation: who drives, commands applied and dropped (totals since start). */
  control: ControlStats;
  /** One entry per WHIP publication ({@link Sender.publish}), in the order they were made. */
  publications: PublicationStats[];
}

export type SenderEvents = {
  /** Registered with the signaling server (again, after a reconnect). */
  registered: (peerId: string) => void;
  'signaling-state': (state: SignalingState) => void;
  'session-opened': (session: SenderSession) => void;
  /** A session closed; `info` says who closed it (`remote`: the viewer's bye) and the bye code. */
  'session-closed': (session: SenderSession, info: SessionCloseInfo) => void;
  /**
   * The driving viewer's command, validated: in sequence, younger than the deadline, from the
   * lease holder. Apply it; `ageMs` says how old it is.
   */
  command: (command: ControlCommand) => void;
  /** The control lease changed hands (undefined: nobody drives). */
  lease: (lease: ControlLeaseInfo | undefined) => void;
  /**
   * Stop the robot now: the deadman fired (no command for `deadmanMs`), or the driver released
   * the lease or left while the robot may have been moving. Raised once per movement.
   */
  stop: (stop: ControlStop) => void;
  /** A viewer's free-form event (its page's `event` message on the events channel). */
  'viewer-event': (event: ViewerEventInfo) => void;
  /** A listener threw; the sender keeps working. */
  listenererror: (event: string, error: unknown) => void;
};

/**
 * A robocam sender: registers its cameras with a signaling server and answers every viewer's offer
 * with a WebRTC session fed by the cameras' shared encoders.
 */
export class Sender extends (EventEmitter as new () => TypedEmitterModule.default<SenderEvents>) {
  readonly name: string;
  readonly codec: VideoCodec;
  readonly #cameras = new Map<string, CameraPipeline>();
  readonly #sessions = new Map<string, ViewerSession>();
  readonly #client: SignalingClient;
  readonly #logger: Logger;
  readonly #peer: PeerSettings;
  readonly #maxSessions: number;
  /** V4L2 cameras, negotiated before registering so viewers learn their real size and rate. */
  readonly #v4l2Cameras: V4l2Camera[] = [];
  readonly #closing = new CloseOnce();
  /** Sessions closed to make room for a new one on the same id: the viewer gets no bye for them. */
  readonly #replaced = new WeakSet<ViewerSession>();
  /**
   * The last bandwidth estimate of each viewer's link, for its next session. The page replaces a
   * session when its video stalls or its jitter buffer grows, which happens on exactly the narrow
   * links congestion control is for; a fresh session would start at the configured bitrate and
   * flood the link it just learned (measured with Chromium behind 400 kbit/s: 39 % loss and a
   * 2 s freeze after each replacement).
   */
  readonly #linkMemory = new Map<string, { bps: number; atMs: number }>();
  /** WHIP publications by id (see {@link Sender.publish}). */
  readonly #publications = new Map<string, WhipPublication>();
  #publicationCount = 0;
  /** Sends each connected viewer its `link-stats`; runs from start to close. */
  #linkStatsTimer: NodeJS.Timeout | undefined;
  /** Where the next interval's turn of `link-stats` starts, among the connected sessions. */
  #linkStatsCursor = 0;
  /** The signaling server does not know `link-stats` (it predates them): not sent until it changes. */
  #linkStatsRefused = false;
  /** The sessions' data channels, the control lease and its deadman. */
  readonly #teleop: Teleop;

  constructor(settings: SenderSettings = {}) {
    super();
    this.#logger = settings.logger ?? silentLogger;
    this.name = settings.name ?? hostname().slice(0, 64);
    this.codec = settings.codec ?? 'vp8';
    this.#peer = settings.peer ?? {};
    this.#maxSessions = settings.maxSessions ?? 32;
    this.#teleop = new Teleop(
      settings.control ?? {},
      {
        command: (command) => {
          this.#safeEmit('command', command);
        },
        lease: (lease) => {
          this.#safeEmit('lease', lease);
        },
        stop: (stop) => {
          this.#safeEmit('stop', stop);
        },
        viewerEvent: (event) => {
          this.#safeEmit('viewer-event', event);
        },
      },
      childLogger(this.#logger, { component: 'control' }),
    );
    for (const spec of nameCameras(settings.cameras ?? [{ type: 'testpattern' }])) {
      const pipeline = this.#createPipeline(spec, settings);
      if (this.#cameras.has(pipeline.id))
        throw new ConfigurationError(`duplicate camera id "${pipeline.id}"`);
      this.#cameras.set(pipeline.id, pipeline);
    }
    this.#client = new SignalingClient({
      url: settings.signalingUrl ?? 'ws://localhost:8765',
      role: 'sender',
      name: this.name,
      cameras: this.#cameraInfos(),
      ...(settings.token === undefined ? {} : { token: settings.token }),
      ...(settings.WebSocket === undefined ? {} : { WebSocket: settings.WebSocket }),
      ...(settings.backoff === undefined ? {} : { backoff: settings.backoff }),
    });
    this.#wireSignaling();
  }

  /** The cameras, by id. */
  get cameras(): ReadonlyMap<string, SenderCamera> {
    return this.#cameras;
  }

  /** Open viewer sessions, by session id. */
  get sessions(): ReadonlyMap<string, SenderSession> {
    return this.#sessions;
  }

  get signalingState(): SignalingState {
    return this.#client.state;
  }

  /** This sender's id at the signaling server (changes after a reconnect). */
  get peerId(): string | undefined {
    return this.#client.peerId;
  }

  /** True from the first {@link close} on. */
  get closed(): boolean {
    return this.#closing.closed;
  }

  /** Who closed the sender and why; undefined while open. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closing.info;
  }

  /**
   * Connects to the signaling server and resolves once registered. If the server is unreachable
   * it keeps retrying with backoff; the promise then resolves at the first successful registration
   * and rejects only if the server refuses the sender (e.g. a wrong token).
   */
  async start(): Promise<void> {
    if (this.closed) throw new InvalidStateError('sender is closed');
    // werift makes one DTLS certificate per process, on the first peer connection: make it now,
    // not while the first viewer waits (part of that viewer's 0.5–1.3 s answer; bench/ttff.mjs).
    RTCDtlsTransport.SetupCertificate().catch((error: unknown) => {
      this.#logger.warn({ err: String(error) }, 'DTLS certificate not made in advance');
    });
    await Promise.all(
      this.#v4l2Cameras.map(async (camera) => {
        try {
          const mode = await camera.negotiate();
          this.#logger.info({ device: camera.device, mode }, 'camera mode negotiated');
        } catch (error) {
          // A camera that is absent now is negotiated when it appears; anything else is fatal.
          if (!isRecoverableError(error)) throw error;
          this.#logger.warn({ device: camera.device, err: errorMessage(error) }, 'camera not available yet');
        }
      }),
    );
    this.#client.updateCameras(this.#cameraInfos());
    this.#linkStatsTimer ??= setInterval(() => {
      this.#sendLinkStats().catch((error: unknown) => {
        this.#logger.debug({ err: errorMessage(error) }, 'link stats not sent');
      });
    }, LINK_STATS_INTERVAL_MS).unref();
    await this.#client.connect();
  }

  /** Who drives the robot now (holds the control lease); undefined when nobody does. */
  get controlLease(): ControlLeaseInfo | undefined {
    return this.#teleop.lease;
  }

  /**
   * Sends robot telemetry (battery, pose, status: a small JSON object) to every viewer, or to one
   * viewer's sessions (`to.viewerId`) or one session (`to.sessionId`), over the reliable events
   * channel. Returns how many sessions it went to (0: nobody watches). Throws a `RobocamError`
   * `too-large` beyond 16 KiB of JSON, `bad-message` for data that is not a JSON object.
   */
  sendTelemetry(data: JsonObject, to?: { viewerId?: string; sessionId?: string }): number {
    return this.#teleop.sendTelemetry(data, to);
  }

  /** Takes the control lease from its holder (robot code decided); a `stop` follows if it was moving. */
  revokeControl(): void {
    this.#teleop.revoke();
  }

  /** Open WHIP publications, by publication id. */
  get publications(): ReadonlyMap<string, SenderPublication> {
    return this.#publications;
  }

  /**
   * Publishes a camera to a WHIP endpoint (RFC 9725): a media server receives one stream and
   * serves any number of viewers. The publication shares the camera's encoder with the viewer
   * sessions, reconnects by itself after losses and server errors (backoff, `Retry-After`), and
   * stops (`state` `failed`, see `lastError`) on a 4xx such as a wrong token. It works whether or
   * not the signaling server is reachable, and before {@link start}. Returns at once; watch
   * `state` or its `state` event. Throws `ConfigurationError` for an unknown camera or a URL that
   * is not http(s), `InvalidStateError` once the sender is closed.
   */
  publish(cameraId: string, options: WhipPublishOptions): SenderPublication {
    if (this.closed) throw new InvalidStateError('sender is closed');
    const camera = this.#cameras.get(cameraId);
    if (camera === undefined) throw new ConfigurationError(`no camera "${cameraId}" to publish`);
    if (!/^https?:\/\/[^\s]+$/i.test(options.url) || !URL.canParse(options.url)) {
      throw new ConfigurationError('a WHIP endpoint must be an http:// or https:// URL');
    }
    this.#publicationCount += 1;
    const id = `whip-${this.#publicationCount}`;
    const publication = new WhipPublication({
      ...options,
      id,
      camera,
      codec: this.codec,
      peer: this.#peer,
      logger: childLogger(this.#logger, { publication: id, camera: cameraId }),
    });
    this.#publications.set(id, publication);
    publication.on('closed', () => {
      this.#publications.delete(id);
    });
    publication.start();
    return publication;
  }

  /** Changes a camera's target bitrate (in place when the encoder allows it). */
  setBitrate(cameraId: string, kbps: number): void {
    const camera = this.#cameras.get(cameraId);
    if (camera === undefined) throw new ConfigurationError(`no camera "${cameraId}"`);
    camera.setBitrate(kbps);
  }

  /**
   * Where a viewer's new session should start its estimate: the estimate of a session it still has
   * open (the page opens the replacement before it closes the old one), else the last one
   * remembered.
   */
  #linkHint(viewerId: string): { bps: number; atMs: number } | undefined {
    for (const open of this.#sessions.values()) {
      const bps = open.viewerId === viewerId ? open.lastEstimateBps : undefined;
      if (bps !== undefined) return { bps, atMs: performance.now() };
    }
    return this.#linkMemory.get(viewerId);
  }

  #rememberLink(session: ViewerSession): void {
    const bps = session.lastEstimateBps;
    if (bps === undefined) return;
    this.#linkMemory.delete(session.viewerId);
    this.#linkMemory.set(session.viewerId, { bps, atMs: performance.now() });
    // Oldest first (Map keeps insertion order): a bounded memory of recent viewers.
    for (const key of this.#linkMemory.keys()) {
      if (this.#linkMemory.size <= LINK_MEMORY_ENTRIES) break;
      this.#linkMemory.delete(key);
    }
  }

  async stats(): Promise<SenderStats> {
    return {
      signaling: this.#client.state,
      peerId: this.#client.peerId,
      cameras: [...this.#cameras.values()].map((camera) => camera.stats()),
      sessions: await Promise.all([...this.#sessions.values()].map((session) => session.stats())),
      control: this.#teleop.stats(),
      publications: [...this.#publications.values()].map((publication) => publication.stats()),
    };
  }

  /**
   * Ends every session (each viewer gets a `shutting-down` bye), stops every encoder and source,
   * disconnects. Idempotent: every call resolves when the first one has released everything.
   */
  close(info: CloseInfo = { origin: 'local', code: 'closed', message: 'sender closed' }): Promise<void> {
    return this.#closing.close(info, async () => {
      clearInterval(this.#linkStatsTimer);
      // The robot stops before the sessions (and their channels) go.
      this.#teleop.close();
      const parent = { origin: 'parent', message: 'sender shutting down' } as const;
      await Promise.all([
        ...[...this.#sessions.values()].map((session) => session.close({ ...parent, code: 'shutting-down' })),
        // Each DELETEs its WHIP session: the server frees the endpoint at once.
        ...[...this.#publications.values()].map((publication) =>
          publication.close({ ...parent, code: 'closed' }),
        ),
      ]);
      this.#client.close();
      await Promise.all(
        [...this.#cameras.values()].map((camera) => camera.close({ ...parent, code: 'closed' })),
      );
      await Promise.all(this.#v4l2Cameras.map((camera) => camera.close({ ...parent, code: 'closed' })));
      this.#logger.info({ origin: info.origin, code: info.code }, 'sender closed');
    });
  }

  #createPipeline(spec: NamedCameraSpec, settings: SenderSettings): CameraPipeline {
    const { id, label } = spec;
    if (!cameraIdSchema.safeParse(id).success) {
      throw new ConfigurationError(`invalid camera id "${id}": use lowercase letters, digits, _ and -`);
    }
    const cameraLogger = childLogger(this.#logger, { camera: id });
    let source: VideoSource;
    if (spec.type === 'testpattern') {
      source = new TestPatternSource({
        label: label.toUpperCase(),
        ...(spec.pattern === undefined ? {} : { pattern: spec.pattern }),
        ...(spec.width === undefined ? {} : { width: spec.width }),
        ...(spec.height === undefined ? {} : { height: spec.height }),
        ...(spec.fps === undefined ? {} : { fps: spec.fps }),
      });
    } else if (spec.type === 'v4l2') {
      const camera = new V4l2Camera({
        device: spec.device,
        logger: cameraLogger,
        ...(spec.width === undefined ? {} : { width: spec.width }),
        ...(spec.height === undefined ? {} : { height: spec.height }),
        ...(spec.fps === undefined ? {} : { fps: spec.fps }),
        ...(spec.format === undefined ? {} : { format: spec.format }),
      });
      this.#v4l2Cameras.push(camera);
      source = camera;
    } else {
      source = spec.source;
    }
    const pipeline = new CameraPipeline({
      id,
      label,
      source,
      codec: this.codec,
      logger: cameraLogger,
      ...(settings.bitrateKbps === undefined ? {} : { bitrateKbps: settings.bitrateKbps }),
      ...(settings.encoder === undefined ? {} : { encoder: settings.encoder }),
      ...(settings.keyframeIntervalSec === undefined
        ? {}
        : { keyframeIntervalSec: settings.keyframeIntervalSec }),
    });
    const announce = (): void => {
      if (!this.closed) this.#client.updateCameras(this.#cameraInfos());
    };
    pipeline.on('status', announce);
    pipeline.on('running', announce);
    pipeline.on('error', (error) => {
      cameraLogger.error({ err: error.message }, 'camera pipeline error');
    });
    return pipeline;
  }

  #cameraInfos(): CameraInfo[] {
    return [...this.#cameras.values()].map((camera) => camera.info);
  }

  #wireSignaling(): void {
    const client = this.#client;
    client.on('state', (state) => {
      this.#logger.info({ state }, 'signaling state');
      this.#safeEmit('signaling-state', state);
    });
    client.on('open', (welcome) => {
      this.#logger.info(
        { peerId: welcome.peerId, cameras: [...this.#cameras.keys()] },
        'registered with signaling',
      );
      this.#linkStatsRefused = false; // a server restarted (or replaced) may know them now
      this.#safeEmit('registered', welcome.peerId);
    });
    client.on('reconnecting', ({ attempt, delayMs }) => {
      this.#logger.warn({ attempt, delayMs, sessions: this.#sessions.size }, 'signaling lost, reconnecting');
    });
    client.on('server-error', (error) => {
      if (error.ref === LINK_STATS_MESSAGE_ID) {
        // `bad-message`: a server older than the message. Anything else (a session that ended as
        // its stats left) is a race without consequence.
        if (error.code === 'bad-message' && !this.#linkStatsRefused) {
          this.#linkStatsRefused = true;
          this.#logger.info({}, 'the signaling server does not route link stats; viewers will not see them');
        }
        return;
      }
      this.#logger.warn(
        { code: error.code, message: error.message, ref: error.ref },
        'signaling server reported an error',
      );
    });
    client.on('offer', (offer) => {
      void this.#onOffer(offer);
    });
    client.on('candidate', ({ session: sessionId, candidate }) => {
      this.#sessions
        .get(sessionId)
        ?.addCandidate(candidate)
        .catch((error: unknown) => {
          this.#logger.debug({ session: sessionId, err: String(error) }, 'remote candidate rejected');
        });
    });
    client.on('bye', ({ session: sessionId, code, reason }) => {
      void this.#sessions
        .get(sessionId)
        ?.close({ origin: 'remote', code: code ?? 'closed', message: reason ?? 'the viewer said bye' });
    });
  }

  async #onOffer(offer: ServerMessageOf<'offer'>): Promise<void> {
    const log = childLogger(this.#logger, { session: offer.session, viewer: offer.from });
    const previous = this.#sessions.get(offer.session);
    if (previous !== undefined) {
      // A repeated offer on a session renegotiates it, e.g. an ICE restart after a network change.
      // The running peer connection keeps its DTLS session; if it cannot take the offer, a fresh
      // session replaces it.
      const sameCameras = offer.cameras.join() === previous.cameras.map((camera) => camera.id).join();
      if (sameCameras && !previous.closed) {
        try {
          const sdp = await previous.renegotiate(offer.sdp);
          this.#client.send({ type: 'answer', session: offer.session, sdp });
          log.info({}, 'renegotiated session');
          return;
        } catch (error) {
          log.warn({ err: errorMessage(error) }, 'renegotiation failed, starting over');
        }
      }
      if (!previous.closed) this.#replaced.add(previous);
      await previous.close({ origin: 'parent', code: 'closed', message: 'replaced by a new offer' });
    }
    const cameras = offer.cameras.map((id) => this.#cameras.get(id));
    const refusal = this.#refusal(offer.cameras, cameras);
    if (refusal !== undefined) {
      log.warn({ code: refusal.code, reason: refusal.reason }, 'offer refused');
      this.#client.send({ type: 'bye', session: offer.session, ...refusal });
      return;
    }
    const remembered = this.#linkHint(offer.from);
    const session = new ViewerSession({
      id: offer.session,
      viewerId: offer.from,
      cameras: cameras as CameraPipeline[],
      codec: this.codec,
      peer: this.#peer,
      logger: log,
      ...(remembered !== undefined && performance.now() - remembered.atMs < LINK_MEMORY_MS
        ? { linkStartBps: remembered.bps }
        : {}),
    });
    this.#sessions.set(session.id, session);
    session.on('datachannel', (channel) => {
      this.#teleop.addChannel(session, channel);
    });
    session.on('closed', (info) => {
      if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
      this.#teleop.removeSession(session);
      this.#rememberLink(session);
      // The viewer knows about its own bye; a replaced session's id lives on in its successor.
      if (info.origin !== 'remote' && !this.#replaced.has(session)) {
        this.#client.send({
          type: 'bye',
          session: session.id,
          code: info.code,
          reason: info.message.slice(0, 256),
        });
      }
      this.#safeEmit('session-closed', session, info);
    });
    this.#safeEmit('session-opened', session);
    try {
      const sdp = await session.answer(offer.sdp);
      if (session.closed) return;
      this.#client.send({ type: 'answer', session: session.id, sdp });
      log.info({ cameras: offer.cameras }, 'answered offer');
    } catch (error) {
      if (session.closed) return; // closed while negotiating (a bye, a shutdown): nothing to add
      const code: ByeCode = error instanceof NegotiationError ? error.code : 'internal';
      log.warn({ code, err: errorMessage(error) }, 'negotiation failed');
      await session.close({ origin: 'failure', code, message: errorMessage(error) });
    }
  }

  /**
   * Tells connected viewers (up to LINK_STATS_PER_INTERVAL of them, taking turns) what congestion
   * control sees of their link, for the page's stats overlay. Never throws: the stats are a view,
   * nothing depends on them.
   */
  async #sendLinkStats(): Promise<void> {
    if (this.closed || this.#linkStatsRefused || this.#client.state !== 'open') return;
    const connected = [...this.#sessions.values()].filter(
      (session) => !session.closed && session.connectionState === 'connected',
    );
    const count = Math.min(connected.length, LINK_STATS_PER_INTERVAL);
    const first = connected.length === 0 ? 0 : this.#linkStatsCursor % connected.length;
    this.#linkStatsCursor = first + count;
    const turn = Array.from({ length: count }, (_, index) => connected[(first + index) % connected.length]);
    await Promise.all(
      turn.map(async (session) => {
        try {
          if (session === undefined) return;
          const stats = await session.stats();
          if (session.closed || this.#sessions.get(session.id) !== session) return;
          const cameras = new Map(session.cameras.map((camera) => [camera.id, camera.stats()]));
          this.#client.send(linkStatsMessage(stats, cameras));
        } catch (error) {
          this.#logger.debug({ session: session?.id, err: errorMessage(error) }, 'link stats not sent');
        }
      }),
    );
  }

  /** Why an offer for `ids` (resolved to `cameras`) is refused, or undefined to answer it. */
  #refusal(
    ids: readonly string[],
    cameras: readonly (CameraPipeline | undefined)[],
  ): { code: ByeCode; reason: string } | undefined {
    if (this.closed) return { code: 'shutting-down', reason: 'sender shutting down' };
    const missing = ids.filter((_id, index) => cameras[index] === undefined);
    if (missing.length > 0) {
      return { code: 'unknown-camera', reason: `unknown camera ${missing.join(', ').slice(0, 200)}` };
    }
    if (this.#sessions.size >= this.#maxSessions)
      return { code: 'too-many-viewers', reason: 'too many viewers' };
    return undefined;
  }

  #safeEmit<E extends keyof SenderEvents>(event: E, ...args: Parameters<SenderEvents[E]>): void {
    try {
      this.emit(event, ...args);
    } catch (error) {
      if (event !== 'listenererror') this.emit('listenererror', event, error);
    }
  }
}

/** Creates a sender and starts connecting it (see {@link Sender.start}). */
export async function createSender(settings: SenderSettings = {}): Promise<Sender> {
  const sender = new Sender(settings);
  await sender.start();
  return sender;
}
