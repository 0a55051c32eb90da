import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import {
  cameraIdSchema,
  type CameraInfo,
  SignalingClient,
  type ServerMessageOf,
  type SignalingState,
  type WebSocketConstructor,
} from '@robocam/protocol';
import { isRecoverableError, V4l2Camera, type V4l2CameraSettings } from '@robocam/capture-v4l2';
import type { BackoffSettings } from '@robocam/types';
import type * as TypedEmitterModule from 'typed-emitter';
import { RTCDtlsTransport } from 'werift';
import { CameraPipeline, type CameraStats } from './camera-pipeline.js';
import type { EncoderPreference, VideoCodec } from './encoder.js';
import { ConfigurationError, InvalidStateError } from './errors.js';
import { childLogger, debugLogger, type Logger } from './logger.js';
import { TestPatternSource } from './test-pattern-source.js';
import type { VideoSource } from './video-source.js';
import { ViewerSession, type PeerSettings, type ViewerSessionStats } from './viewer-session.js';

/** A camera of the sender: the built-in test pattern, or any {@link VideoSource}. */
export type CameraSpec =
  | {
      type: 'testpattern';
      /** Camera id. Default `testpattern` (numbered when there are several). */
      id?: string;
      /** Display name. Default "Test pattern". */
      label?: string;
      /** Default 1280. */
      width?: number;
      /** Default 720. */
      height?: number;
      /** Default 30. */
      fps?: number;
    }
  | {
      type: 'v4l2';
      /** Camera id. Default: the device name, e.g. `video0`. */
      id?: string;
      label?: string;
      /** Device node, e.g. `/dev/video0`. */
      device: string;
      /** Requested size and rate; the closest mode the camera offers is used. Default 1280x720@30. */
      width?: number;
      height?: number;
      fps?: number;
      /** Pixel format: 'auto' (MJPEG for large sizes on USB cameras, raw otherwise), 'mjpeg', 'yuyv', … */
      format?: V4l2CameraSettings['format'];
    }
  | {
      type: 'source';
      id: string;
      label?: string;
      source: VideoSource;
    };

export interface SenderSettings {
  /** Signaling server URL. Default `ws://localhost:8765`. */
  signalingUrl?: string;
  /** Name shown to viewers. Default: the host name. */
  name?: string;
  /** Token for a signaling server with `SENDER_TOKEN` set. Default none. */
  token?: string;
  /** Cameras. Default: one 1280x720@30 test pattern. */
  cameras?: CameraSpec[];
  /** Codec for every camera. Default 'vp8'. */
  codec?: VideoCodec;
  /** Target bitrate per camera in kbps. Default: scaled from each camera's size. */
  bitrateKbps?: number;
  /** Encoder preference. Default 'auto' (hardware H.264 when present, else software). */
  encoder?: EncoderPreference;
  /** Seconds between unrequested keyframes. Default 10. */
  keyframeIntervalSec?: number;
  /** ICE and UDP settings of viewer peer connections. Defaults: see {@link PeerSettings}. */
  peer?: PeerSettings;
  /** Most concurrent viewer sessions; more are refused with a bye. Default 32. */
  maxSessions?: number;
  /** Structured logger (pino-compatible). Default: `debug('robocam:sender')`. */
  logger?: Logger;
  /** WebSocket implementation for signaling. Default: Node's global WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** Signaling reconnect backoff. Defaults: see `BackoffSettings`. */
  backoff?: BackoffSettings;
}

/** Everything the sender counts. */
export interface SenderStats {
  signaling: SignalingState;
  peerId: string | undefined;
  cameras: CameraStats[];
  sessions: ViewerSessionStats[];
}

export type SenderEvents = {
  /** Registered with the signaling server (again, after a reconnect). */
  registered: (peerId: string) => void;
  'signaling-state': (state: SignalingState) => void;
  'session-opened': (session: ViewerSession) => void;
  'session-closed': (session: ViewerSession, reason: string) => void;
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
  #closed = false;

  constructor(settings: SenderSettings = {}) {
    super();
    this.#logger = settings.logger ?? debugLogger();
    this.name = settings.name ?? hostname().slice(0, 64);
    this.codec = settings.codec ?? 'vp8';
    this.#peer = settings.peer ?? {};
    this.#maxSessions = settings.maxSessions ?? 32;
    for (const [index, spec] of (settings.cameras ?? [{ type: 'testpattern' }]).entries()) {
      const pipeline = this.#createPipeline(spec, index, settings);
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
  get cameras(): ReadonlyMap<string, CameraPipeline> {
    return this.#cameras;
  }

  /** Open viewer sessions, by session id. */
  get sessions(): ReadonlyMap<string, ViewerSession> {
    return this.#sessions;
  }

  get signalingState(): SignalingState {
    return this.#client.state;
  }

  /** This sender's id at the signaling server (changes after a reconnect). */
  get peerId(): string | undefined {
    return this.#client.peerId;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Connects to the signaling server and resolves once registered. If the server is unreachable
   * it keeps retrying with backoff; the promise then resolves at the first successful registration
   * and rejects only if the server refuses the sender (e.g. a wrong token).
   */
  async start(): Promise<void> {
    if (this.#closed) throw new InvalidStateError('sender is closed');
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
          this.#logger.warn({ device: camera.device, err: String(error) }, 'camera not available yet');
        }
      }),
    );
    this.#client.updateCameras(this.#cameraInfos());
    await this.#client.connect();
  }

  /** Changes a camera's target bitrate (in place when the encoder allows it). */
  setBitrate(cameraId: string, kbps: number): void {
    const camera = this.#cameras.get(cameraId);
    if (camera === undefined) throw new ConfigurationError(`no camera "${cameraId}"`);
    camera.setBitrate(kbps);
  }

  async stats(): Promise<SenderStats> {
    return {
      signaling: this.#client.state,
      peerId: this.#client.peerId,
      cameras: [...this.#cameras.values()].map((camera) => camera.stats()),
      sessions: await Promise.all([...this.#sessions.values()].map((session) => session.stats())),
    };
  }

  /** Ends every session, stops every encoder and source, disconnects. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const sessions = [...this.#sessions.values()];
    for (const session of sessions)
      this.#client.send({ type: 'bye', session: session.id, reason: 'sender shutting down' });
    await Promise.all(sessions.map((session) => session.close('sender shutting down')));
    this.#client.close();
    await Promise.all([...this.#cameras.values()].map((camera) => camera.close()));
    this.#logger.info({}, 'sender closed');
  }

  #createPipeline(spec: CameraSpec, index: number, settings: SenderSettings): CameraPipeline {
    let id: string;
    let label: string;
    let source: VideoSource;
    if (spec.type === 'testpattern') {
      id = spec.id ?? (index === 0 ? 'testpattern' : `testpattern-${index}`);
      label = spec.label ?? (index === 0 ? 'Test pattern' : `Test pattern ${index + 1}`);
      source = new TestPatternSource({
        label: label.toUpperCase(),
        ...(spec.width === undefined ? {} : { width: spec.width }),
        ...(spec.height === undefined ? {} : { height: spec.height }),
        ...(spec.fps === undefined ? {} : { fps: spec.fps }),
      });
    } else if (spec.type === 'v4l2') {
      id =
        spec.id ??
        spec.device
          .replace(/^\/dev\//, '')
          .replace(/[^a-z0-9_-]/gi, '-')
          .toLowerCase();
      label = spec.label ?? spec.device;
      const camera = new V4l2Camera({
        device: spec.device,
        ...(spec.width === undefined ? {} : { width: spec.width }),
        ...(spec.height === undefined ? {} : { height: spec.height }),
        ...(spec.fps === undefined ? {} : { fps: spec.fps }),
        ...(spec.format === undefined ? {} : { format: spec.format }),
      });
      this.#v4l2Cameras.push(camera);
      source = camera;
    } else {
      id = spec.id;
      label = spec.label ?? spec.id;
      source = spec.source;
    }
    if (!cameraIdSchema.safeParse(id).success) {
      throw new ConfigurationError(`invalid camera id "${id}": use lowercase letters, digits, _ and -`);
    }
    const pipeline = new CameraPipeline({
      id,
      label,
      source,
      codec: this.codec,
      logger: childLogger(this.#logger, { camera: id }),
      ...(settings.bitrateKbps === undefined ? {} : { bitrateKbps: settings.bitrateKbps }),
      ...(settings.encoder === undefined ? {} : { encoder: settings.encoder }),
      ...(settings.keyframeIntervalSec === undefined
        ? {}
        : { keyframeIntervalSec: settings.keyframeIntervalSec }),
    });
    const announce = (): void => {
      if (!this.#closed) this.#client.updateCameras(this.#cameraInfos());
    };
    pipeline.on('status', announce);
    pipeline.on('running', announce);
    pipeline.on('error', (error) => {
      this.#logger.error({ camera: id, err: error.message }, 'camera pipeline error');
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
      this.#safeEmit('registered', welcome.peerId);
    });
    client.on('reconnecting', ({ attempt, delayMs }) => {
      this.#logger.warn({ attempt, delayMs, sessions: this.#sessions.size }, 'signaling lost, reconnecting');
    });
    client.on('server-error', (error) => {
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
    client.on('bye', ({ session: sessionId, reason }) => {
      void this.#sessions.get(sessionId)?.close(`viewer: ${reason ?? 'bye'}`);
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
          log.warn(
            { err: error instanceof Error ? error.message : String(error) },
            'renegotiation failed, starting over',
          );
        }
      }
      await previous.close('renegotiated');
    }
    const cameras = offer.cameras.map((id) => this.#cameras.get(id));
    const missing = offer.cameras.filter((_id, index) => cameras[index] === undefined);
    if (missing.length > 0 || this.#sessions.size >= this.#maxSessions || this.#closed) {
      const reason = this.#closed
        ? 'sender shutting down'
        : missing.length > 0
          ? `unknown camera ${missing.join(', ')}`
          : 'too many viewers';
      log.warn({ reason }, 'offer refused');
      this.#client.send({ type: 'bye', session: offer.session, reason });
      return;
    }
    const session = new ViewerSession({
      id: offer.session,
      viewerId: offer.from,
      cameras: cameras as CameraPipeline[],
      codec: this.codec,
      peer: this.#peer,
      logger: log,
    });
    this.#sessions.set(session.id, session);
    let byeSent = false;
    session.on('closed', (reason) => {
      if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
      if (
        !byeSent &&
        !reason.startsWith('viewer:') &&
        reason !== 'renegotiated' &&
        reason !== 'sender shutting down'
      ) {
        byeSent = true;
        this.#client.send({ type: 'bye', session: session.id, reason });
      }
      this.#safeEmit('session-closed', session, reason);
    });
    this.#safeEmit('session-opened', session);
    try {
      const sdp = await session.answer(offer.sdp);
      if (session.closed) return;
      this.#client.send({ type: 'answer', session: session.id, sdp });
      log.info({ cameras: offer.cameras }, 'answered offer');
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'negotiation failed');
      await session.close(error instanceof Error ? error.message : 'negotiation failed');
    }
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
