/**
 * One camera published to a WHIP endpoint (RFC 9725): a media server (Janus, LiveKit ingress,
 * MediaMTX, Cloudflare) receives one stream and fans it out, so the robot's upload stays one
 * stream whatever the number of viewers.
 *
 * The publication is one more consumer of the camera's shared encoder, exactly like a viewer
 * session: its peer connection carries a {@link PeerMedia} (congestion control, keyframes on the
 * server's PLI/FIR). It runs a loop of sessions: offer → POST → answer → connected → … → lost →
 * DELETE → wait (backoff, or the server's `Retry-After`) → a new session. A 4xx ends the loop
 * (`failed`): a wrong token or a refused offer does not get better by repeating it.
 */
import { EventEmitter } from 'node:events';
import {
  Backoff,
  CloseOnce,
  errorMessage,
  silentLogger,
  type BackoffSettings,
  type CloseInfo,
  type Logger,
  type VideoCodec,
} from '@robocam/types';
import type * as TypedEmitterModule from 'typed-emitter';
import type { RTCIceServer, RTCPeerConnection } from 'werift';
import type { CameraPipeline, SenderCamera } from '../camera-pipeline.js';
import { waitForGathering, sessionH264 } from '../peer-codecs.js';
import { PeerMedia, createMediaPeer } from '../peer-media.js';
import type { ViewerLinkStats } from '../viewer-link.js';
import type { PeerSettings } from '../viewer-session.js';
import { answeredVideo, iceCredentials } from './sdp.js';
import {
  WhipError,
  deleteSession,
  patchCandidates,
  postOffer,
  redactUrl,
  trickleFragment,
  type WhipSession,
} from './whip-client.js';

/** Where and how to publish a camera. */
export interface WhipPublishOptions {
  /** The WHIP endpoint URL (`http://` or `https://`). Required. */
  url: string;
  /** Bearer token sent with every request. Default none. */
  token?: string;
  /**
   * Delays between sessions after a failure. Defaults: 1 000 ms first delay, doubling to 30 000 ms,
   * half of each delay randomized. A server's `Retry-After` lengthens a delay, never shortens it.
   */
  backoff?: BackoffSettings;
  /** A session not connected this long after its POST is given up (and retried), ms. Default 15 000. */
  connectTimeoutMs?: number;
  /**
   * A connected session that hears no RTCP from the server this long is lost (a server that
   * crashed sends nothing, not even an ICE failure), ms. Default 10 000.
   */
  silenceTimeoutMs?: number;
  /** Per HTTP request timeout, ms. Default 10 000. */
  requestTimeoutMs?: number;
}

/**
 * `connecting` (the first session being set up), `connected` (media flows), `reconnecting` (a
 * session ended or failed and the next one is waited for or set up), `failed` (the server refused
 * with a 4xx or the offer cannot work: no more attempts; see `lastError`), `closed` (`close()`).
 */
export type PublicationState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

/** What a publication reports in `sender.stats()`. */
export interface PublicationStats {
  id: string;
  camera: string;
  /** The endpoint, without query or credentials. */
  url: string;
  state: PublicationState;
  codec: VideoCodec;
  /** POSTs made, including the failed ones. */
  attempts: number;
  /** Sessions that connected. */
  sessionsConnected: number;
  /** Media sent over the last second, kbit/s (0 while not connected). */
  bitrateKbps: number;
  /** Round-trip time to the server from RTCP receiver reports, ms (undefined until measured). */
  rttMs: number | undefined;
  /** Counters of the current session (reset by each new session). */
  packetsSent: number;
  bytesSent: number;
  nacksReceived: number;
  plisReceived: number;
  firsReceived: number;
  /** Congestion control of the current session's link; undefined while not connected. */
  link: ViewerLinkStats | undefined;
  /** The last failure, `{ code, message }` (`WhipErrorCode` or a connection failure); undefined if none. */
  lastError: { code: string; message: string } | undefined;
}

export type PublicationEvents = {
  /** The state changed; `error` is what caused a `reconnecting` or `failed`. */
  state: (state: PublicationState, error?: { code: string; message: string }) => void;
  /** The publication closed (once). */
  closed: (info: CloseInfo) => void;
};

/** What an embedder sees of one publication (`sender.publish()`, `sender.publications`). */
export interface SenderPublication extends TypedEmitterModule.default<PublicationEvents> {
  /** Publication id, e.g. `whip-1`. */
  readonly id: string;
  /** The published camera. */
  readonly camera: SenderCamera;
  /** The endpoint, without query or credentials. */
  readonly url: string;
  readonly state: PublicationState;
  /** The last failure; for a `failed` publication, why it stopped. */
  readonly lastError: { code: string; message: string } | undefined;
  /** True from the first close on. */
  readonly closed: boolean;
  stats(): PublicationStats;
  /**
   * Ends the publication: DELETEs the current session at the server (freeing the endpoint),
   * closes the peer connection, releases the camera. Idempotent.
   */
  close(info?: CloseInfo): Promise<void>;
}

export interface WhipPublicationSettings extends WhipPublishOptions {
  id: string;
  camera: CameraPipeline;
  codec: VideoCodec;
  peer: PeerSettings;
  logger?: Logger;
}

/** How one session ended. */
interface SessionEnd {
  code: string;
  message: string;
  /** The server's wish, ms. */
  retryAfterMs?: number;
}

const LOCAL_CLOSE: CloseInfo = { origin: 'local', code: 'closed', message: 'publication closed' };
const BITRATE_INTERVAL_MS = 1000;
/** The publication logs its bitrate and RTT after its first second, then every 30 s. */
const STATS_LOG_TICKS = 30;

/** See the file comment. */
export class WhipPublication
  extends (EventEmitter as new () => TypedEmitterModule.default<PublicationEvents>)
  implements SenderPublication
{
  readonly id: string;
  readonly camera: CameraPipeline;
  readonly url: string;
  readonly #settings: WhipPublicationSettings;
  readonly #logger: Logger;
  readonly #backoff: Backoff;
  readonly #closing = new CloseOnce();
  /** Aborted by close(): ends every wait of the loop. */
  readonly #abort = new AbortController();
  #state: PublicationState = 'connecting';
  #lastError: { code: string; message: string } | undefined;
  #attempts = 0;
  #sessionsConnected = 0;
  /** ICE servers the server announced (`Link`), used from the next session on. */
  #serverIceServers: RTCIceServer[] = [];
  #media: PeerMedia | undefined;
  #bitrateKbps = 0;
  #loop: Promise<void> | undefined;

  constructor(settings: WhipPublicationSettings) {
    super();
    this.#settings = settings;
    this.id = settings.id;
    this.camera = settings.camera;
    this.url = redactUrl(settings.url);
    this.#logger = settings.logger ?? silentLogger;
    this.#backoff = new Backoff({ initialDelayMs: 1000, maxDelayMs: 30_000, ...settings.backoff });
  }

  get state(): PublicationState {
    return this.#state;
  }

  get lastError(): { code: string; message: string } | undefined {
    return this.#lastError;
  }

  get closed(): boolean {
    return this.#closing.closed;
  }

  /** Starts the session loop (once); returns at once. */
  start(): void {
    this.#loop ??= this.#run().catch((error: unknown) => {
      // The loop handles its own failures; this is a bug's last resort.
      this.#logger.error({ err: errorMessage(error) }, 'whip publication loop failed');
      this.#setState('failed', { code: 'internal', message: errorMessage(error) });
    });
  }

  stats(): PublicationStats {
    const media = this.#media;
    const counters = media?.counters;
    return {
      id: this.id,
      camera: this.camera.id,
      url: this.url,
      state: this.#state,
      codec: this.#settings.codec,
      attempts: this.#attempts,
      sessionsConnected: this.#sessionsConnected,
      bitrateKbps: this.#state === 'connected' ? this.#bitrateKbps : 0,
      rttMs: media?.rttMs,
      packetsSent: counters?.packetsSent ?? 0,
      bytesSent: counters?.bytesSent ?? 0,
      nacksReceived: counters?.nacksReceived ?? 0,
      plisReceived: counters?.plisReceived ?? 0,
      firsReceived: counters?.firsReceived ?? 0,
      link: media?.linkStats(),
      lastError: this.#lastError,
    };
  }

  close(info: CloseInfo = LOCAL_CLOSE): Promise<void> {
    return this.#closing.close(info, async () => {
      this.#abort.abort();
      await this.#loop;
      this.#setState('closed');
      this.#logger.info({ origin: info.origin, code: info.code }, 'whip publication closed');
      this.emit('closed', info);
    });
  }

  #setState(state: PublicationState, error?: { code: string; message: string }): void {
    if (error !== undefined) this.#lastError = error;
    if (state === this.#state && error === undefined) return;
    const previous = this.#state;
    this.#state = state;
    const fields = { state, previous, attempts: this.#attempts, ...(error === undefined ? {} : { error }) };
    if (state === 'failed') this.#logger.error(fields, 'whip publication failed: not retrying');
    else if (state === 'reconnecting') this.#logger.warn(fields, 'whip publication state');
    else this.#logger.info(fields, 'whip publication state');
    try {
      this.emit('state', state, error);
    } catch (listenerError) {
      this.#logger.warn({ err: errorMessage(listenerError) }, 'a publication state listener threw');
    }
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const end = await this.#session(signal);
      if (isAborted(signal)) return;
      if (end === 'fatal') return;
      const delayMs = Math.max(this.#backoff.next(), end.retryAfterMs ?? 0);
      this.#setState('reconnecting', { code: end.code, message: end.message });
      this.#logger.info(
        { delayMs, attempt: this.#backoff.attempts },
        'whip publication: next session after a delay',
      );
      await sleep(delayMs, signal);
    }
  }

  /**
   * One session, from acquiring the camera to its teardown. Returns how it ended for a retry, or
   * `'fatal'` (state `failed` is set) when retrying cannot help.
   */
  async #session(signal: AbortSignal): Promise<SessionEnd | 'fatal'> {
    const { camera, codec, token } = this.#settings;
    const requestOptions = {
      token,
      ...(this.#settings.requestTimeoutMs === undefined
        ? {}
        : { timeoutMs: this.#settings.requestTimeoutMs }),
    };
    let pc: RTCPeerConnection | undefined;
    let session: WhipSession | undefined;
    let acquired = false;
    const media = new PeerMedia({
      cameras: [camera],
      logger: this.#logger,
      onRtcp: () => {
        lastRtcpAt = performance.now();
      },
    });
    let lastRtcpAt = performance.now();
    const timers: NodeJS.Timeout[] = [];
    const cleanups: (() => void)[] = [];
    try {
      await camera.acquire();
      acquired = true;
      if (isAborted(signal)) return { code: 'closed', message: 'closed' };
      const configured = this.#settings.peer.iceServers ?? [];
      const peer: PeerSettings = {
        ...this.#settings.peer,
        iceServers: configured.length > 0 ? configured : this.#serverIceServers,
      };
      pc = createMediaPeer(peer, codec, sessionH264(codec, [camera], this.#logger));
      const transceiver = pc.addTransceiver('video', { direction: 'sendonly' });
      media.watchFeedback(transceiver, new Map([[transceiver.sender.ssrc, camera]]));
      await pc.setLocalDescription(await pc.createOffer());
      // Host candidates (ICE-lite) gather in ~40 ms; STUN/TURN may take seconds: post what is
      // there after 2 s and trickle the rest when the server takes PATCH.
      await waitForGathering(pc, (peer.iceServers ?? []).length === 0 ? 3000 : 2000);
      const offer = pc.localDescription?.sdp;
      if (offer === undefined) throw new WhipError('whip-bad-response', 'no local offer');
      const gathered = pc.iceGatheringState === 'complete';
      if (isAborted(signal)) return { code: 'closed', message: 'closed' };
      this.#attempts += 1;
      session = await postOffer(this.#settings.url, offer, requestOptions);
      this.#logger.info(
        {
          resource: redactUrl(session.resourceUrl),
          iceServers: session.iceServers.length,
          trickle: session.acceptsTrickle,
        },
        'whip session created',
      );
      if (session.iceServers.length > 0 && configured.length === 0) {
        // werift cannot add ICE servers to a running agent: they serve the next session (this one
        // still connects whenever host candidates reach the server).
        this.#serverIceServers = session.iceServers;
      }
      if (isAborted(signal)) return { code: 'closed', message: 'closed' };
      const answered = answeredVideo(session.answerSdp, codec);
      if (!answered.accepted) {
        throw new WhipError(
          'whip-no-common-codec',
          `the server does not accept ${codec} (its answer lists ${answered.codecs.join(', ') || 'no video'})`,
        );
      }
      if (answered.h264ProfileLevelId !== undefined) {
        this.#logger.info({ profileLevelId: answered.h264ProfileLevelId }, 'the server accepted H.264');
      }
      if (!answered.transportCc) {
        this.#logger.warn(
          {},
          'the server does not send transport-wide feedback: congestion control runs blind',
        );
      }
      await pc.setRemoteDescription({ type: 'answer', sdp: session.answerSdp });
      if (!gathered && session.acceptsTrickle) this.#trickle(pc, session, offer, requestOptions);
      const connected = await this.#waitConnected(pc, signal);
      if (connected !== undefined) return connected;
      this.#media = media;
      media.attach([transceiver]);
      this.#sessionsConnected += 1;
      this.#backoff.reset();
      this.#setState('connected');
      let lastBytes = media.counters.bytesSent;
      let lastAt = performance.now();
      let ticks = 0;
      timers.push(
        setInterval(() => {
          const now = performance.now();
          this.#bitrateKbps = Math.round(((media.counters.bytesSent - lastBytes) * 8) / (now - lastAt));
          lastBytes = media.counters.bytesSent;
          lastAt = now;
          ticks += 1;
          if (ticks % STATS_LOG_TICKS === 1) {
            const rttMs = media.rttMs;
            this.#logger.info(
              {
                state: this.#state,
                bitrateKbps: this.#bitrateKbps,
                rttMs: rttMs === undefined ? undefined : Math.round(rttMs * 10) / 10,
                estimateKbps: media.linkStats()?.estimateKbps,
                plis: media.counters.plisReceived,
              },
              'whip publication stats',
            );
          }
        }, BITRATE_INTERVAL_MS),
      );
      const silenceTimeoutMs = this.#settings.silenceTimeoutMs ?? 10_000;
      lastRtcpAt = performance.now();
      return await new Promise<SessionEnd>((resolve) => {
        const live = pc as RTCPeerConnection;
        timers.push(
          setInterval(
            () => {
              if (performance.now() - lastRtcpAt > silenceTimeoutMs)
                resolve({
                  code: 'server-silent',
                  message: `no RTCP from the server for ${silenceTimeoutMs} ms`,
                });
            },
            Math.min(1000, silenceTimeoutMs / 2),
          ),
        );
        const subscription = live.connectionStateChange.subscribe((state) => {
          if (state === 'failed' || state === 'closed')
            resolve({ code: 'peer-failed', message: `peer connection ${state}` });
        });
        const onAbort = (): void => {
          resolve({ code: 'closed', message: 'closed' });
        };
        signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(subscription.unSubscribe, () => {
          signal.removeEventListener('abort', onAbort);
        });
      });
    } catch (error) {
      if (isAborted(signal)) return { code: 'closed', message: 'closed' };
      if (error instanceof WhipError) {
        // A 404 for an endpoint this publication has published to is a server that restarted and
        // has not re-created it yet (simple-whip-server creates endpoints through its API after
        // start-up): retried with the backoff. A 404 before any success is a wrong URL: fatal.
        const endpointComingBack = error.status === 404 && this.#sessionsConnected > 0;
        if (!error.retryable && !endpointComingBack) {
          this.#setState('failed', { code: error.code, message: error.message });
          return 'fatal';
        }
        return {
          code: error.code,
          message: error.message,
          ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
        };
      }
      return { code: 'session-failed', message: errorMessage(error) };
    } finally {
      for (const timer of timers) clearInterval(timer);
      for (const cleanup of cleanups) cleanup();
      media.close();
      if (this.#media === media) {
        this.#media = undefined;
        this.#bitrateKbps = 0;
      }
      // The server frees the endpoint on DELETE (simple-whip-server refuses a new publisher with
      // 403 while the old session lives); a server that is gone does not answer, which is fine.
      if (session !== undefined) {
        await deleteSession(session.resourceUrl, { token, timeoutMs: 3000 }).then(
          () => {
            this.#logger.info(
              { resource: redactUrl((session as WhipSession).resourceUrl) },
              'whip session deleted',
            );
          },
          (error: unknown) => {
            this.#logger.info({ err: errorMessage(error) }, 'whip session not deleted');
          },
        );
      }
      await pc?.close().catch(() => undefined);
      if (acquired) await camera.release();
    }
  }

  /** Resolves undefined once connected, or with why not. */
  #waitConnected(pc: RTCPeerConnection, signal: AbortSignal): Promise<SessionEnd | undefined> {
    const timeoutMs = this.#settings.connectTimeoutMs ?? 15_000;
    if (pc.connectionState === 'connected') return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        finish({ code: 'connect-timeout', message: `not connected ${timeoutMs} ms after the answer` });
      }, timeoutMs);
      const subscription = pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') finish(undefined);
        else if (state === 'failed' || state === 'closed')
          finish({ code: 'peer-failed', message: `peer connection ${state} before connecting` });
      });
      const onAbort = (): void => {
        finish({ code: 'closed', message: 'closed' });
      };
      signal.addEventListener('abort', onAbort, { once: true });
      function finish(end: SessionEnd | undefined): void {
        clearTimeout(timer);
        subscription.unSubscribe();
        signal.removeEventListener('abort', onAbort);
        resolve(end);
      }
    });
  }

  /**
   * Sends candidates gathered after the POST with PATCH. The first refusal (405, 501, any non-2xx)
   * stops trickling: the server then connects through what the offer carried, or peer-reflexive
   * candidates.
   */
  #trickle(
    pc: RTCPeerConnection,
    session: WhipSession,
    offer: string,
    requestOptions: { token: string | undefined; timeoutMs?: number },
  ): void {
    const credentials = iceCredentials(offer);
    if (credentials === undefined) return;
    const sentInOffer = new Set(offer.split(/\r?\n/).filter((line) => line.startsWith('a=candidate:')));
    let stopped = false;
    let chain = Promise.resolve();
    const subscription = pc.onIceCandidate.subscribe((candidate) => {
      if (stopped) return;
      const line = candidate === undefined ? undefined : `a=${candidate.candidate.replace(/^a=/, '')}`;
      if (line !== undefined && sentInOffer.has(line)) return;
      const fragment = trickleFragment(
        credentials,
        line === undefined ? [] : [line.slice(2)],
        candidate === undefined,
      );
      chain = chain.then(async () => {
        if (stopped) return;
        try {
          await patchCandidates(session, fragment, requestOptions);
        } catch (error) {
          stopped = true;
          subscription.unSubscribe();
          this.#logger.info({ err: errorMessage(error) }, 'the server takes no trickled candidates: stopped');
        }
      });
    });
  }
}

/** `signal.aborted`, read after an await (TypeScript narrows the property as if it could not change). */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
