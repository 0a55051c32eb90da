import type { CameraInfo } from '@robocam/protocol';
import { Backoff, type BackoffSettings } from '@robocam/types';
import type { TileSnapshot, TileStatus } from '../page-hook.js';
import type { SenderClock } from './clock.js';
import type { DriveControl } from './drive.js';
import { DoctorPanel } from './doctor-panel.js';
import { Playback, roundOrNull } from './playback.js';
import { isRefusal, tileStatus, type SessionCloseInfo } from './status.js';
import { TileView } from './tile-view.js';
import type { WatchSession, WatchSessionSettings } from './watch-session.js';

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

/** Sessions are replaced because the jitter buffer grew at most this often. */
const RESYNC_MIN_INTERVAL_MS = 15_000;
/**
 * After a failed session: 0.3–0.5 s, 0.6–1 s, 1.2–2 s, 2.4–4 s, then 3–5 s (a person is waiting;
 * reset by the next frame).
 */
const RETRY_BACKOFF: BackoffSettings = { initialDelayMs: 500, maxDelayMs: 5000, factor: 2, jitter: 0.4 };
/** After a refusal (unknown camera, no common codec, unauthorized…): every 8–10 s. */
const REFUSED_BACKOFF: BackoffSettings = { initialDelayMs: 10_000, maxDelayMs: 10_000, jitter: 0.2 };
/** A tile scrolled off screen keeps playing this long (scrolling past should not renegotiate). */
const OFFSCREEN_GRACE_MS = 1000;

/**
 * One camera on the page: the controller that keeps it playing (its DOM is a {@link TileView},
 * each session's video a {@link Playback}) — starts a session when the tile is on screen and the
 * sender online, retries with backoff when a session fails (slowly after a refusal, decided from
 * the session's close code, see `isRefusal`), replaces a session without a visible gap (the new one takes
 * over at its first frame) when the sender re-registers or the jitter buffer grew, and stops
 * watching while the tile is off screen or the tab in the background.
 */
export class Tile {
  readonly key: string;
  readonly senderName: string;
  readonly cameraId: string;
  readonly #host: TileHost;
  readonly #drive: DriveControl;
  readonly #view: TileView;
  /** The connectivity doctor (field-local, issue #15): follows each session, keeps the last verdict. */
  readonly #doctor = new DoctorPanel(() => ({
    lost: this.#info.status === 'lost',
    detail: this.#info.detail,
  }));
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
  readonly #retryBackoff = new Backoff(RETRY_BACKOFF);
  readonly #refusedBackoff = new Backoff(REFUSED_BACKOFF);
  #lastFailure: string | undefined;
  #fatal: string | undefined;
  #sessionsStarted = 0;
  #resyncs = 0;
  #lastResyncAt = -Infinity;
  #firstFrameAt: number | undefined;
  #status: { status: TileStatus; text: string } = { status: 'connecting', text: 'starting…' };
  #closed = false;

  /**
   * `drive`: teleop of the tile's sender, one per sender and shared by its tiles (each tile's
   * sessions carry the channels; any of them may speak for the page).
   */
  constructor(host: TileHost, key: string, senderName: string, info: CameraInfo, drive: DriveControl) {
    this.#host = host;
    this.#drive = drive;
    this.key = key;
    this.senderName = senderName;
    this.cameraId = info.id;
    this.#info = info;
    this.#view = new TileView(senderName, info.id, {
      onClick: () => {
        // A click is a user gesture: also the cure for a browser that refused to autoplay.
        void this.#active?.video.play().catch(() => undefined);
        this.#host.toggleEnlarged(this);
      },
      onKeyActivate: () => {
        this.#host.toggleEnlarged(this);
      },
      onControl: (token) => {
        const drive = this.#drive;
        if (drive.driving) drive.release();
        else drive.request(token);
      },
    });
    this.#view.showInfo(info, senderName);
    this.#view.element.append(this.#doctor.element);
    this.#doctor.cameraChanged();
    this.render();
  }

  /** The tile's `<article>`. */
  get element(): HTMLElement {
    return this.#view.element;
  }

  get status(): TileStatus {
    return this.#status.status;
  }

  /** The sender (id) is online with this camera (`info` may have changed, e.g. lost or back). */
  update(senderId: string, info: CameraInfo): void {
    if (this.#closed) return;
    this.#info = info;
    this.#view.showInfo(info, this.senderName);
    this.#doctor.cameraChanged();
    if (senderId !== this.#senderId) {
      this.#senderId = senderId;
      this.#retryBackoff.reset();
      this.#refusedBackoff.reset();
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
        active.session.close(local('session lost with the signaling connection'), { bye: false });
      }
    }
    this.#reconcile();
  }

  /** Our signaling connection is back: the server does not know our sessions any more. */
  signalingReconnected(): void {
    if (this.#closed) return;
    this.#pending?.session.close(local('signaling reconnected'), { bye: false });
    if (this.#active !== undefined) this.#orphaned = true;
  }

  /** The sender went offline (the server said so): its sessions are over. */
  senderOffline(): void {
    if (this.#closed) return;
    this.#senderId = undefined;
    this.#clearRetry();
    this.#lastFailure = undefined;
    this.#fatal = undefined;
    this.#pending?.session.close(local('sender offline'), { bye: false });
    this.#active?.session.close(local('sender offline'), { bye: false });
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
    this.#pending?.session.close(local('sender not registered'), { bye: false });
    if (this.#active !== undefined && !this.#active.playing) {
      this.#active.session.close(local('sender not registered'), { bye: false });
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
          playback.session.close(local('signaling connection lost'), { bye: false });
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
      const failure = playback?.watchdog(now);
      if (failure !== undefined) playback?.session.close(failure);
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
    return {
      key: this.key,
      sender: this.senderName,
      senderId: this.#senderId ?? null,
      camera: this.cameraId,
      label: this.#info.label,
      status: this.#status.status,
      statusText: this.#status.text,
      sessionsStarted: this.#sessionsStarted,
      resyncs: this.#resyncs,
      control: this.#drive.snapshot(),
      firstFrameAt: roundOrNull(this.#firstFrameAt),
      doctor: this.#doctor.report,
      ...(this.#active?.snapshot() ?? Playback.emptySnapshot),
    };
  }

  /** Stops everything; the tile is being removed. */
  close(): void {
    if (this.#closed) return;
    this.#clearRetry();
    clearTimeout(this.#offscreenTimer);
    const info: SessionCloseInfo = { origin: 'parent', code: 'closed', message: 'viewer closed the camera' };
    this.#pending?.session.close(info);
    this.#active?.session.close(info);
    this.#doctor.close();
    this.#closed = true;
    this.#view.element.remove();
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
    this.#view.showStatus(this.#status);
    this.#view.showStats(active?.meter.reading, active?.stats, active?.senderStats);
    this.#view.showControl(this.#drive.snapshot());
  }

  /** Starts or stops sessions to match what is wanted. */
  #reconcile(): void {
    if (this.#closed) return;
    if (!this.#pageVisible || !this.#onScreen) {
      this.#clearRetry();
      const reason = this.#pageVisible ? 'tile hidden' : 'tab in background';
      this.#pending?.session.close(local(reason));
      this.#active?.session.close(local(reason));
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
      onClosed: (info) => {
        this.#drive.detach(playback.session.id);
        this.#onClosed(playback, info);
      },
    });
    this.#drive.attach(playback.session.id, playback.session.control, playback.session.events);
    this.#doctor.watch(playback.session);
    this.#sessionsStarted += 1;
    playback.video.dataset.session = playback.session.id;
    if (this.#active === undefined) {
      this.#active = playback;
      this.#view.showActive(playback.video);
    } else {
      // Make before break: the new video sits under the playing one until its first frame.
      this.#pending = playback;
      this.#view.showPending(playback.video);
    }
    void playback.session.start();
  }

  /** Starts a replacement session; the current one plays until the replacement's first frame. */
  #replace(reason: string): void {
    if (this.#pending !== undefined) return;
    const active = this.#active;
    if (active !== undefined && !active.playing) {
      active.session.close(local(reason));
      return; // #onClosed → #reconcile starts a fresh one
    }
    if (this.#senderId === undefined || !this.#host.signalingOpen() || !this.#pageVisible || !this.#onScreen)
      return;
    this.#start();
  }

  #onFirstFrame(playback: Playback): void {
    this.#firstFrameAt ??= performance.now();
    this.#retryBackoff.reset();
    this.#refusedBackoff.reset();
    this.#lastFailure = undefined;
    this.#fatal = undefined;
    if (playback === this.#pending) {
      const old = this.#active;
      this.#active = playback;
      this.#pending = undefined;
      this.#view.showActive(playback.video); // on top
      old?.session.close(local('replaced by a new session'));
    }
    this.render();
  }

  #onClosed(playback: Playback, info: SessionCloseInfo): void {
    playback.dispose();
    if (playback === this.#pending) {
      this.#pending = undefined;
    } else if (playback === this.#active) {
      this.#active = this.#pending;
      this.#pending = undefined;
      this.#orphaned = false;
      if (this.#active !== undefined) this.#view.showActive(this.#active.video);
    } else {
      return;
    }
    if (this.#closed) return;
    if (info.origin === 'remote' || info.origin === 'failure') {
      this.#lastFailure = info.message;
      if (isRefusal(info)) this.#fatal = info.message;
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
    const delay = (this.#fatal !== undefined ? this.#refusedBackoff : this.#retryBackoff).next();
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
    const grewTo = playback.jitterBufferGrew();
    if (grewTo === undefined) return;
    const now = performance.now();
    if (now - this.#lastResyncAt < RESYNC_MIN_INTERVAL_MS) return;
    this.#lastResyncAt = now;
    this.#resyncs += 1;
    this.#replace(`jitter buffer at ${Math.round(grewTo)} ms`);
  }
}

/** A close the tile decides on (paused, replaced, sender gone): no retry, `bye` code `closed`. */
function local(message: string): SessionCloseInfo {
  return { origin: 'local', code: 'closed', message };
}
