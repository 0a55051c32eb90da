import type { CameraInfo } from '@robocam/protocol';
import type { SenderClock } from './clock.js';
import { h, setText } from './dom.js';
import { formatBitrate, formatFps, formatMs, formatPercent, formatSize } from './format.js';
import { FrameMeter } from './frame-meter.js';
import { readInboundSample, streamStats, type InboundSample, type StreamStats } from './stats.js';
import { isFatalReason, tileStatus, type TileStatus } from './status.js';
import { pinToLiveEdge, type WatchSession, type WatchSessionSettings } from './watch-session.js';

/** What a tile needs from the app around it. */
export interface TileHost {
  /** Opens a session through the app's signaling client (which routes its messages). */
  openSession(settings: Omit<WatchSessionSettings, 'client'>): WatchSession;
  /** The clock estimate of a sender id. */
  clock(senderId: string): SenderClock;
  signalingOpen(): boolean;
  /** The user clicked the tile: enlarge it, or shrink it back. */
  toggleEnlarged(tile: Tile): void;
}

/** A tile's state as the test hook (`window.robocam`) shows it. */
export interface TileSnapshot {
  key: string;
  sender: string;
  senderId: string | null;
  camera: string;
  label: string;
  status: TileStatus;
  statusText: string;
  session: string | null;
  /** Sessions this tile opened so far (a re-offer opens a new one). */
  sessionsStarted: number;
  framesPresented: number;
  framesDecoded: number;
  fps: number | null;
  decodedFps: number | null;
  latencyMs: number | null;
  receiveToDisplayMs: number | null;
  clockOffsetMs: number | null;
  videoWidth: number;
  videoHeight: number;
  bitrateKbps: number | null;
  packetLossPct: number | null;
  rttMs: number | null;
  jitterBufferMs: number | null;
  codec: string | null;
  /** Sessions replaced because the jitter buffer grew. */
  resyncs: number;
  /** performance.now() of the first frame this tile ever showed (ms since navigation start). */
  firstFrameAt: number | null;
  lastFrameAt: number | null;
  /** When the current session sent its offer, got the answer, connected, showed its first frame. */
  timeline: {
    offer: number;
    answer: number | null;
    connected: number | null;
    firstFrame: number | null;
  } | null;
}

/** A frame newer than this means "playing". */
const PLAYING_WITHIN_MS = 2000;
/** A connected session presenting nothing for this long is replaced. */
const STALL_MS = 4000;
/** A session without a first frame after this long is given up. */
const FIRST_FRAME_TIMEOUT_MS = 12_000;
/** Jitter buffer delay above this for JITTER_SAMPLES seconds in a row triggers a resync. */
const JITTER_LIMIT_MS = 150;
const JITTER_SAMPLES = 3;
const RESYNC_MIN_INTERVAL_MS = 15_000;
const RETRY_DELAYS_MS = [300, 1000, 2000, 4000, 5000];
const FATAL_RETRY_MS = 10_000;
/** A tile scrolled off screen keeps playing this long (scrolling past should not renegotiate). */
const OFFSCREEN_GRACE_MS = 1000;

/** One session and the `<video>` showing it. */
class Playback {
  readonly video: HTMLVideoElement;
  readonly meter: FrameMeter;
  session!: WatchSession;
  receiver: RTCRtpReceiver | undefined;
  previous: InboundSample | undefined;
  stats: StreamStats | undefined;
  highJitterSamples = 0;
  sampling = false;
  #pingTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    /** The sender's clock estimate; the session's pings feed it. */
    readonly clock: SenderClock,
    onFirstFrame: () => void,
  ) {
    this.video = h('video', { attrs: { 'aria-hidden': 'true' } });
    this.video.muted = true;
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.disablePictureInPicture = true;
    let first = true;
    this.meter = new FrameMeter(this.video, {
      clockOffsetMs: () => clock.offsetMs,
      onFrame: () => {
        if (!first) return;
        first = false;
        onFirstFrame();
      },
    });
  }

  get playing(): boolean {
    const last = this.meter.reading.lastFrameAt;
    return last !== undefined && performance.now() - last < PLAYING_WITHIN_MS;
  }

  attach(stream: MediaStream, receiver: RTCRtpReceiver): void {
    this.receiver = receiver;
    this.video.srcObject = stream;
    this.meter.start();
    this.video.play().catch(() => {
      // Muted autoplay is allowed everywhere; if a browser still refuses, a click on the tile
      // (a user gesture) plays it: see Tile's click handler.
    });
  }

  /** Pings the sender through this session: three quick ones, then every 2 s. */
  startPinging(): void {
    const clock = this.clock;
    let count = 0;
    const ping = (): void => {
      if (this.session.closed) return;
      count += 1;
      this.session.ping().then(
        (estimate) => {
          clock.add(estimate);
        },
        () => undefined, // a lost ping only delays the next estimate
      );
      this.#pingTimer = setTimeout(ping, count < 3 ? 300 : 2000);
    };
    ping();
  }

  async sample(): Promise<void> {
    if (this.receiver === undefined || this.sampling || this.session.closed) return;
    this.sampling = true;
    try {
      const sample = readInboundSample((await this.receiver.getStats()).values(), performance.now());
      if (sample === undefined) return;
      this.stats = streamStats(this.previous, sample);
      this.previous = sample;
    } catch {
      // The connection closed under us.
    } finally {
      this.sampling = false;
    }
  }

  dispose(): void {
    clearTimeout(this.#pingTimer);
    this.meter.stop();
    this.video.srcObject = null;
    this.video.remove();
  }
}

/**
 * One camera on the page: its video, name, status line and stats overlay, and the controller that
 * keeps it playing — starts a session when the tile is on screen and the sender online, retries
 * with backoff when a session fails, replaces a session without a visible gap (the new one takes
 * over at its first frame) when the sender re-registers or the jitter buffer grew, and stops
 * watching while the tile is off screen or the tab in the background.
 */
export class Tile {
  readonly key: string;
  readonly senderName: string;
  readonly cameraId: string;
  readonly element: HTMLElement;
  readonly #host: TileHost;
  readonly #media: HTMLElement;
  readonly #name: HTMLElement;
  readonly #detail: HTMLElement;
  readonly #statusLine: HTMLElement;
  readonly #statsFields = new Map<string, HTMLElement>();
  #info: CameraInfo;
  #senderId: string | undefined;
  #active: Playback | undefined;
  #pending: Playback | undefined;
  /** The signaling server no longer knows the active session (it restarted, or we reconnected). */
  #orphaned = false;
  #onScreen = false;
  #pageVisible = true;
  #offscreenTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryAttempt = 0;
  #lastFailure: string | undefined;
  #fatal: string | undefined;
  #sessionsStarted = 0;
  #resyncs = 0;
  #lastResyncAt = -Infinity;
  #firstFrameAt: number | undefined;
  #status: { status: TileStatus; text: string } = { status: 'connecting', text: 'starting…' };
  #closed = false;

  constructor(host: TileHost, key: string, senderName: string, info: CameraInfo) {
    this.#host = host;
    this.key = key;
    this.senderName = senderName;
    this.cameraId = info.id;
    this.#info = info;
    this.#media = h('div', { class: 'media' });
    this.#name = h('span', { class: 'name' });
    this.#detail = h('span', { class: 'sender' });
    this.#statusLine = h('span', { class: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
    const stats = h('dl', { class: 'stats', attrs: { 'aria-label': 'stream statistics' } });
    for (const [field, label] of [
      ['latency', 'glass-to-glass'],
      ['codec', 'codec'],
      ['resolution', 'size'],
      ['fps', 'fps'],
      ['bitrate', 'bitrate'],
      ['loss', 'loss'],
      ['rtt', 'RTT'],
      ['jitter', 'jitter buffer'],
    ] as const) {
      const value = h('dd', { attrs: { 'data-stat': field } }, '–');
      this.#statsFields.set(field, value);
      stats.append(h('dt', {}, label), value);
    }
    this.element = h(
      'article',
      {
        class: 'tile',
        attrs: { 'data-camera': info.id, 'data-sender': senderName, tabindex: '0' },
      },
      this.#media,
      stats,
      h('div', { class: 'caption' }, this.#name, this.#detail, this.#statusLine),
    );
    this.element.addEventListener('click', () => {
      // A click is a user gesture: also the cure for a browser that refused to autoplay.
      void this.#active?.video.play().catch(() => undefined);
      this.#host.toggleEnlarged(this);
    });
    this.element.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        this.#host.toggleEnlarged(this);
      }
    });
    this.#renderInfo();
    this.render();
  }

  get status(): TileStatus {
    return this.#status.status;
  }

  /** The sender (id) is online with this camera (`info` may have changed, e.g. lost or back). */
  update(senderId: string, info: CameraInfo): void {
    if (this.#closed) return;
    this.#info = info;
    this.#renderInfo();
    if (senderId !== this.#senderId) {
      this.#senderId = senderId;
      this.#retryAttempt = 0;
      this.#fatal = undefined;
      this.#clearRetry();
    }
    const active = this.#active;
    if (active !== undefined && (this.#orphaned || active.session.senderId !== senderId)) {
      this.#orphaned = false;
      if (active.session.senderId !== senderId && active.playing && active.session.state === 'connected') {
        // Same sender process under a new id (the signaling server restarted): offer again on the
        // running session, which the sender renegotiates in place. The video keeps playing.
        void active.session.reoffer(senderId);
      } else {
        // The server ended the session when our connection dropped, or the sender restarted.
        active.session.close('session lost with the signaling connection', { bye: false });
      }
    }
    this.#reconcile();
  }

  /** Our signaling connection is back: the server does not know our sessions any more. */
  signalingReconnected(): void {
    if (this.#closed) return;
    this.#pending?.session.close('signaling reconnected', { bye: false });
    if (this.#active !== undefined) this.#orphaned = true;
  }

  /** The sender went offline (the server said so): its sessions are over. */
  senderOffline(): void {
    if (this.#closed) return;
    this.#senderId = undefined;
    this.#clearRetry();
    this.#lastFailure = undefined;
    this.#fatal = undefined;
    this.#pending?.session.close('sender offline', { bye: false });
    this.#active?.session.close('sender offline', { bye: false });
    this.render();
  }

  /**
   * After a signaling reconnect the sender is not (yet) registered with the server. A session that
   * still plays keeps playing (media does not pass through the signaling server); new ones wait.
   */
  senderUnlisted(): void {
    if (this.#closed) return;
    this.#senderId = undefined;
    this.#clearRetry();
    this.#pending?.session.close('sender not registered', { bye: false });
    if (this.#active !== undefined && !this.#active.playing) {
      this.#active.session.close('sender not registered', { bye: false });
    }
    this.render();
  }

  /** The signaling connection went down or came back. */
  signalingChanged(open: boolean): void {
    if (this.#closed) return;
    if (!open) {
      // Negotiations in flight cannot complete; connected sessions keep playing.
      for (const playback of [this.#pending, this.#active]) {
        if (playback !== undefined && playback.session.state !== 'connected') {
          playback.session.close('signaling connection lost', { bye: false });
        }
      }
    }
    this.#reconcile();
  }

  /** Whether the tile is on screen (IntersectionObserver). */
  setOnScreen(onScreen: boolean): void {
    clearTimeout(this.#offscreenTimer);
    this.#offscreenTimer = undefined;
    if (onScreen) {
      this.#onScreen = true;
      this.#reconcile();
    } else if (this.#onScreen) {
      this.#offscreenTimer = setTimeout(() => {
        this.#onScreen = false;
        this.#reconcile();
      }, OFFSCREEN_GRACE_MS);
    }
  }

  /** Whether the tab is in the foreground (Page Visibility API): no grace, stop at once. */
  setPageVisible(visible: boolean): void {
    this.#pageVisible = visible;
    this.#reconcile();
  }

  /** Called twice a second: watchdogs, stats (when `sample`), status line. */
  tick(sample: boolean): void {
    if (this.#closed) return;
    const now = performance.now();
    for (const playback of [this.#active, this.#pending]) {
      if (playback === undefined || playback.session.closed) continue;
      const last = playback.meter.reading.lastFrameAt;
      if (last === undefined && now - playback.session.startedAt > FIRST_FRAME_TIMEOUT_MS) {
        playback.session.close('no video from the sender', { remote: true });
      } else if (last !== undefined && playback.session.state === 'connected' && now - last > STALL_MS) {
        playback.session.close('video stalled', { remote: true });
      }
    }
    const active = this.#active;
    if (sample && active !== undefined && !active.session.closed) {
      void active.sample().then(() => {
        this.#checkJitterBuffer(active);
      });
    }
    this.render();
  }

  /** Snapshot for the test hook. */
  snapshot(): TileSnapshot {
    const active = this.#active;
    const reading = active?.meter.reading;
    const stats = active?.stats;
    const nullable = (value: number | undefined): number | null =>
      value === undefined || !Number.isFinite(value) ? null : Math.round(value * 10) / 10;
    return {
      key: this.key,
      sender: this.senderName,
      senderId: this.#senderId ?? null,
      camera: this.cameraId,
      label: this.#info.label,
      status: this.#status.status,
      statusText: this.#status.text,
      session: active?.session.id ?? null,
      sessionsStarted: this.#sessionsStarted,
      framesPresented: reading?.framesPresented ?? 0,
      framesDecoded: active?.previous?.framesDecoded ?? 0,
      fps: nullable(reading?.fps),
      decodedFps: nullable(stats?.decodedFps),
      latencyMs: nullable(reading?.latencyMs),
      receiveToDisplayMs: nullable(reading?.receiveToDisplayMs),
      clockOffsetMs: nullable(active?.clock.offsetMs),
      videoWidth: active?.video.videoWidth ?? 0,
      videoHeight: active?.video.videoHeight ?? 0,
      bitrateKbps: nullable(stats?.bitrateKbps),
      packetLossPct: nullable(stats?.packetLossPct),
      rttMs: nullable(stats?.rttMs),
      jitterBufferMs: nullable(stats?.jitterBufferMs),
      codec: stats?.codec ?? null,
      resyncs: this.#resyncs,
      firstFrameAt: nullable(this.#firstFrameAt),
      lastFrameAt: nullable(reading?.lastFrameAt),
      timeline:
        active === undefined
          ? null
          : {
              offer: nullable(active.session.startedAt) ?? 0,
              answer: nullable(active.session.answeredAt),
              connected: nullable(active.session.connectedAt),
              firstFrame: nullable(reading?.firstFrameAt),
            },
    };
  }

  /** Stops everything; the tile is being removed. */
  close(): void {
    if (this.#closed) return;
    this.#clearRetry();
    clearTimeout(this.#offscreenTimer);
    this.#pending?.session.close('viewer closed the camera');
    this.#active?.session.close('viewer closed the camera');
    this.#closed = true;
    this.element.remove();
  }

  render(): void {
    const active = this.#active;
    this.#status = tileStatus({
      pageVisible: this.#pageVisible,
      onScreen: this.#onScreen,
      cameraLost: this.#info.status === 'lost',
      cameraDetail: this.#info.detail,
      playing: active?.playing ?? false,
      senderOnline: this.#senderId !== undefined,
      signalingOpen: this.#host.signalingOpen(),
      sessionOpen: active !== undefined || this.#pending !== undefined,
      lastFailure: this.#lastFailure,
      fatal: this.#fatal,
    });
    this.element.dataset.status = this.#status.status;
    setText(this.#statusLine, this.#status.text);

    const reading = active?.meter.reading;
    const stats = active?.stats;
    const field = (name: string, text: string): void => {
      const element = this.#statsFields.get(name);
      if (element !== undefined) setText(element, text);
    };
    field('resolution', formatSize(reading?.width ?? stats?.width, reading?.height ?? stats?.height));
    field('fps', formatFps(reading?.fps ?? stats?.decodedFps));
    field('bitrate', formatBitrate(stats?.bitrateKbps));
    field('loss', formatPercent(stats?.packetLossPct));
    field('rtt', formatMs(stats?.rttMs));
    field('jitter', formatMs(stats?.jitterBufferMs));
    field('codec', stats?.codec ?? '–');
    field(
      'latency',
      reading?.latencyMs !== undefined
        ? formatMs(reading.latencyMs)
        : reading?.timecode === false
          ? 'no timecode'
          : '–',
    );
  }

  #renderInfo(): void {
    // The tile takes the camera's shape, so the picture fills it (CSSOM: allowed by the CSP).
    this.#media.style.aspectRatio = `${this.#info.width} / ${this.#info.height}`;
    setText(this.#name, this.#info.label || this.#info.id);
    // Labels need not be unique (two test patterns): the id tells cameras apart.
    setText(
      this.#detail,
      this.#info.label === '' || this.#info.label === this.#info.id
        ? this.senderName
        : `${this.#info.id} · ${this.senderName}`,
    );
    this.element.setAttribute('aria-label', `${this.#info.label || this.#info.id} on ${this.senderName}`);
  }

  /** Starts or stops sessions to match what is wanted. */
  #reconcile(): void {
    if (this.#closed) return;
    if (!this.#pageVisible || !this.#onScreen) {
      this.#clearRetry();
      const reason = this.#pageVisible ? 'tile hidden' : 'tab in background';
      this.#pending?.session.close(reason);
      this.#active?.session.close(reason);
      this.#lastFailure = undefined;
      this.render();
      return;
    }
    const canStart =
      this.#senderId !== undefined && this.#host.signalingOpen() && this.#info.status !== 'lost';
    if (
      canStart &&
      this.#active === undefined &&
      this.#pending === undefined &&
      this.#retryTimer === undefined
    ) {
      this.#start();
    }
    this.render();
  }

  #start(): void {
    const senderId = this.#senderId;
    if (senderId === undefined) return;
    const playback: Playback = new Playback(this.#host.clock(senderId), () => {
      this.#onFirstFrame(playback);
    });
    playback.session = this.#host.openSession({
      senderId,
      cameras: [this.cameraId],
      onTrack: (_index, stream, receiver) => {
        playback.attach(stream, receiver);
      },
      onConnected: () => {
        playback.startPinging();
      },
      onClosed: (reason, remote) => {
        this.#onClosed(playback, reason, remote);
      },
    });
    this.#sessionsStarted += 1;
    playback.video.dataset.session = playback.session.id;
    if (this.#active === undefined) {
      this.#active = playback;
      playback.video.dataset.active = '';
      this.#media.append(playback.video);
    } else {
      // Make before break: the new video sits under the playing one until its first frame.
      this.#pending = playback;
      this.#media.prepend(playback.video);
    }
    void playback.session.start();
  }

  /** Starts a replacement session; the current one plays until the replacement's first frame. */
  #replace(reason: string): void {
    if (this.#pending !== undefined) return;
    const active = this.#active;
    if (active !== undefined && !active.playing) {
      active.session.close(reason);
      return; // #onClosed → #reconcile starts a fresh one
    }
    if (this.#senderId === undefined || !this.#host.signalingOpen() || !this.#pageVisible || !this.#onScreen)
      return;
    this.#start();
  }

  #onFirstFrame(playback: Playback): void {
    this.#firstFrameAt ??= performance.now();
    this.#retryAttempt = 0;
    this.#lastFailure = undefined;
    this.#fatal = undefined;
    if (playback === this.#pending) {
      const old = this.#active;
      this.#active = playback;
      this.#pending = undefined;
      playback.video.dataset.active = '';
      this.#media.append(playback.video); // on top
      old?.session.close('replaced by a new session');
    }
    this.render();
  }

  #onClosed(playback: Playback, reason: string, remote: boolean): void {
    playback.dispose();
    if (playback === this.#pending) {
      this.#pending = undefined;
    } else if (playback === this.#active) {
      this.#active = this.#pending;
      this.#pending = undefined;
      this.#orphaned = false;
      if (this.#active !== undefined) {
        this.#active.video.dataset.active = '';
        this.#media.append(this.#active.video);
      }
    } else {
      return;
    }
    if (this.#closed) return;
    if (remote) {
      this.#lastFailure = reason;
      if (isFatalReason(reason)) this.#fatal = reason;
      this.#scheduleRetry();
    } else if (this.#active === undefined) {
      // Closed on purpose (paused, replaced, sender gone): start again if wanted.
      queueMicrotask(() => {
        this.#reconcile();
      });
    }
    this.render();
  }

  #scheduleRetry(): void {
    if (this.#retryTimer !== undefined) return;
    const base = this.#fatal !== undefined ? FATAL_RETRY_MS : (RETRY_DELAYS_MS[this.#retryAttempt] ?? 5000);
    this.#retryAttempt += 1;
    const delay = base * (0.8 + 0.4 * Math.random());
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#reconcile();
    }, delay);
  }

  #clearRetry(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /**
   * Frames should leave the jitter buffer at once (the receivers are pinned to the live edge). If
   * the buffer still grows — after a burst of loss or a network hiccup — the session is replaced,
   * which snaps playback back to the live edge without a visible gap.
   */
  #checkJitterBuffer(playback: Playback): void {
    if (playback !== this.#active || playback.session.closed) return;
    const jitter = playback.stats?.jitterBufferMs;
    playback.highJitterSamples =
      jitter !== undefined && jitter > JITTER_LIMIT_MS ? playback.highJitterSamples + 1 : 0;
    if (playback.highJitterSamples < JITTER_SAMPLES) return;
    playback.highJitterSamples = 0;
    if (playback.receiver !== undefined) pinToLiveEdge(playback.receiver);
    const now = performance.now();
    if (now - this.#lastResyncAt < RESYNC_MIN_INTERVAL_MS) return;
    this.#lastResyncAt = now;
    this.#resyncs += 1;
    this.#replace(`jitter buffer at ${Math.round(jitter ?? 0)} ms`);
  }
}
