import {
  SignalingClient,
  type SenderInfo,
  type ServerMessageOf,
  type SignalingState,
} from '@robocam/protocol';
import { SenderClock } from './clock.js';
import { DriveControl, DriveInput } from './drive.js';
import { h, setText } from './dom.js';
import type { TileSnapshot } from '../page-hook.js';
import { Tile, type TileHost } from './tile.js';
import { WatchSession, newSessionId, type WatchSessionSettings } from './watch-session.js';

export interface ViewerAppSettings {
  /** Where the tiles go. */
  grid: HTMLElement;
  /** Signaling connection indicator. */
  indicator: HTMLElement;
  /** Shown while there is no camera at all. */
  empty: HTMLElement;
  /** Signaling server URL. */
  signalingUrl: string;
  /** Name announced to the server. Default "web viewer". */
  name?: string;
  /** Teleop commands per second while driving, 10–50. Default 20. */
  controlRateHz?: number;
  /** The viewer token for a server with VIEWER_TOKEN set. Default: none. */
  token?: string;
  /**
   * The server refused the page for want of a (valid) viewer token; `message` is the server's.
   * The signaling connection is closed for good: the owner asks for a token and starts a new app.
   */
  onUnauthorized?: (message: string) => void;
  /**
   * ICE servers and policy for a new session's peer connection, read at every session start (so
   * that refreshed short-lived TURN credentials apply). Default: none (host candidates only).
   */
  rtcConfiguration?: () => Pick<RTCConfiguration, 'iceServers' | 'iceTransportPolicy'>;
}

/** One sender name on the page: tiles survive the sender's restarts (new ids, same name). */
interface SenderGroup {
  key: string;
  name: string;
  /** The id it is registered under now; undefined while it is not online. */
  id: string | undefined;
  tiles: Map<string, Tile>;
  /** Teleop of this sender (its lease, this page's commands, its telemetry). */
  drive: DriveControl;
}

/**
 * The viewer page's brain: a signaling connection as viewer, a group of tiles per online sender
 * (one per camera), message routing to the tiles' sessions, and page-level events (visibility,
 * scrolling, enlarging).
 */
export class ViewerApp implements TileHost {
  readonly client: SignalingClient;
  readonly #settings: ViewerAppSettings;
  readonly #groups = new Map<string, SenderGroup>();
  readonly #sessions = new Map<string, WatchSession>();
  readonly #clocks = new Map<string, SenderClock>();
  readonly #observer: IntersectionObserver;
  /** Keys and gamepad: what the operator asks the robot(s) this page drives to do. */
  readonly #input = new DriveInput();
  /** Names this page at every sender, for the lease: random per page load. */
  readonly #clientId = newSessionId();
  #enlarged: Tile | undefined;
  #fatal: string | undefined;
  #welcomed = false;
  #ticks = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(settings: ViewerAppSettings) {
    this.#settings = settings;
    this.client = new SignalingClient({
      url: settings.signalingUrl,
      role: 'viewer',
      name: settings.name ?? 'web viewer',
      ...(settings.token === undefined ? {} : { token: settings.token }),
      // A person is waiting: retry sooner than the default 10 s ceiling.
      backoff: { initialDelayMs: 250, maxDelayMs: 4000 },
    });
    this.#observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) this.#tileOf(entry.target)?.setOnScreen(entry.isIntersecting);
      },
      { threshold: 0 },
    );
    this.#wireSignaling();
  }

  /** Connects and starts showing cameras. Never rejects: failures show on the page. */
  start(): void {
    document.addEventListener('visibilitychange', this.#onVisibility);
    document.addEventListener('keydown', this.#onKey);
    document.addEventListener('keyup', this.#onKeyUp);
    window.addEventListener('blur', this.#onBlur);
    this.#timer = setInterval(() => {
      this.#ticks += 1;
      for (const tile of this.#tiles()) tile.tick(this.#ticks % 2 === 0);
    }, 500);
    this.#renderIndicator();
    this.client.connect().catch((error: unknown) => {
      // A refused token was reported already (server-error); its close must not replace the reason.
      this.#fatal ??= error instanceof Error ? error.message : String(error);
      this.#renderIndicator();
    });
  }

  /** Stops everything: sessions (with a bye), the signaling connection, timers and listeners. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    document.removeEventListener('visibilitychange', this.#onVisibility);
    document.removeEventListener('keydown', this.#onKey);
    document.removeEventListener('keyup', this.#onKeyUp);
    window.removeEventListener('blur', this.#onBlur);
    this.#observer.disconnect();
    for (const group of this.#groups.values()) {
      group.drive.release();
      group.drive.close();
      for (const tile of group.tiles.values()) tile.close();
    }
    this.#groups.clear();
    this.client.close();
  }

  /** The test hook's view of the page. */
  get snapshot(): { signaling: SignalingState; error: string | null; tiles: TileSnapshot[] } {
    return {
      signaling: this.client.state,
      error: this.#fatal ?? null,
      tiles: [...this.#tiles()].map((tile) => tile.snapshot()),
    };
  }

  // ---- TileHost --------------------------------------------------------------------------------

  openSession(settings: Omit<WatchSessionSettings, 'client'>): WatchSession {
    const session: WatchSession = new WatchSession({
      ...settings,
      ...(this.#settings.rtcConfiguration === undefined
        ? {}
        : { rtcConfiguration: { ...this.#settings.rtcConfiguration(), ...settings.rtcConfiguration } }),
      client: this.client,
      onClosed: (info) => {
        this.#sessions.delete(session.id);
        settings.onClosed?.(info);
      },
    });
    this.#sessions.set(session.id, session);
    return session;
  }

  clock(senderId: string): SenderClock {
    let clock = this.#clocks.get(senderId);
    if (clock === undefined) {
      clock = new SenderClock();
      this.#clocks.set(senderId, clock);
    }
    return clock;
  }

  signalingOpen(): boolean {
    return this.client.state === 'open';
  }

  toggleEnlarged(tile: Tile): void {
    this.#setEnlarged(this.#enlarged === tile ? undefined : tile);
  }

  // ---- signaling -------------------------------------------------------------------------------

  #wireSignaling(): void {
    const client = this.client;
    client.on('open', (welcome) => {
      this.#onWelcome(welcome);
    });
    client.on('state', (state) => {
      this.#renderIndicator();
      if (state !== 'open') for (const tile of this.#tiles()) tile.signalingChanged(false);
    });
    client.on('sender-online', ({ sender }) => {
      this.#senderOnline(sender);
    });
    client.on('sender-offline', ({ senderId }) => {
      const group = [...this.#groups.values()].find((candidate) => candidate.id === senderId);
      if (group === undefined) return;
      group.id = undefined;
      for (const tile of group.tiles.values()) tile.senderOffline();
      this.#clocks.delete(senderId);
    });
    client.on('answer', ({ session, sdp }) => {
      void this.#sessions.get(session)?.handleAnswer(sdp);
    });
    client.on('candidate', ({ session, candidate }) => {
      void this.#sessions.get(session)?.handleCandidate(candidate);
    });
    client.on('bye', ({ session, code, reason }) => {
      this.#sessions.get(session)?.handleBye(code, reason);
    });
    client.on('message', (message) => {
      // Errors about a session (e.g. the sender left before it answered) end that session.
      if (message.type === 'error' && message.session !== undefined) {
        this.#sessions.get(message.session)?.handleError(message.code, message.message);
      } else if (message.type === 'link-stats') {
        this.#sessions.get(message.session)?.handleLinkStats(message);
      }
    });
    client.on('server-error', (error) => {
      // Refused at registration (first connect or a reconnect): the client has closed for good.
      if (error.code !== 'unauthorized' || client.peerId !== undefined) return;
      this.#fatal = error.message;
      this.#renderIndicator();
      this.#settings.onUnauthorized?.(error.message);
    });
    client.on('listenererror', (event, error) => {
      console.error(`robocam: a ${event} handler failed`, error);
    });
  }

  #onWelcome(welcome: ServerMessageOf<'welcome'>): void {
    this.#fatal = undefined;
    if (this.#welcomed) for (const tile of this.#tiles()) tile.signalingReconnected();
    this.#welcomed = true;
    // Ids from before a reconnect may be stale (a restarted server hands out new ones): match
    // senders by name, move every tile to its sender's current id.
    const listed = new Set<SenderGroup>();
    for (const sender of welcome.senders) {
      const group = this.#senderOnline(sender);
      listed.add(group);
    }
    for (const group of this.#groups.values()) {
      if (listed.has(group)) continue;
      if (group.id !== undefined) this.#clocks.delete(group.id);
      group.id = undefined;
      for (const tile of group.tiles.values()) tile.senderUnlisted();
    }
    for (const tile of this.#tiles()) tile.signalingChanged(true);
    this.#renderIndicator();
  }

  /** A sender is online (new, back with a new id, or with changed cameras). */
  #senderOnline(sender: SenderInfo): SenderGroup {
    let group = this.#groups.get(sender.name);
    if (
      group !== undefined &&
      group.id !== undefined &&
      group.id !== sender.id &&
      this.client.senders.has(group.id)
    ) {
      // Two senders online under one name: the second gets a group of its own.
      const key = `${sender.name} (${sender.id.slice(-4)})`;
      group = this.#groups.get(key) ?? this.#newGroup(key, sender.name);
    }
    group ??= this.#newGroup(sender.name, sender.name);
    this.#groups.set(group.key, group);
    if (group.id !== undefined && group.id !== sender.id) this.#clocks.delete(group.id);
    group.id = sender.id;
    const cameraIds = new Set(sender.cameras.map((camera) => camera.id));
    for (const [cameraId, tile] of group.tiles) {
      if (cameraIds.has(cameraId)) continue;
      this.#observer.unobserve(tile.element);
      tile.close();
      group.tiles.delete(cameraId);
      if (this.#enlarged === tile) this.#setEnlarged(undefined);
    }
    for (const camera of sender.cameras) {
      let tile = group.tiles.get(camera.id);
      if (tile === undefined) {
        tile = new Tile(this, `${group.key}/${camera.id}`, sender.name, camera, group.drive);
        group.tiles.set(camera.id, tile);
        this.#settings.grid.append(tile.element);
        this.#observer.observe(tile.element);
        tile.setPageVisible(document.visibilityState === 'visible');
      }
      tile.update(sender.id, camera);
    }
    this.#renderIndicator();
    return group;
  }

  #newGroup(key: string, name: string): SenderGroup {
    const group: SenderGroup = {
      key,
      name,
      id: undefined,
      tiles: new Map(),
      drive: new DriveControl({
        clientId: this.#clientId,
        name: `${this.#settings.name ?? 'web viewer'} ${this.#clientId.slice(0, 4)}`,
        rateHz: this.#settings.controlRateHz ?? 20,
        clockOffsetMs: () => (group.id === undefined ? undefined : this.#clocks.get(group.id)?.offsetMs),
        input: () => this.#input.twist(),
        onChange: () => {
          for (const tile of group.tiles.values()) tile.render();
        },
      }),
    };
    return group;
  }

  /** True while this page drives any sender: the driving keys are then the robot's. */
  get driving(): boolean {
    return [...this.#groups.values()].some((group) => group.drive.driving);
  }

  // ---- page ------------------------------------------------------------------------------------

  readonly #onKeyUp = (event: KeyboardEvent): void => {
    if (DriveInput.isDriveKey(event.key)) this.#input.keyUp(event.key);
  };

  /** A window without focus gets no key-ups: a key held at that moment must not stay held. */
  readonly #onBlur = (): void => {
    this.#input.clear();
  };

  readonly #onVisibility = (): void => {
    const visible = document.visibilityState === 'visible';
    for (const tile of this.#tiles()) tile.setPageVisible(visible);
  };

  readonly #onKey = (event: KeyboardEvent): void => {
    if (event.key === 'Escape' && this.#enlarged !== undefined) this.#setEnlarged(undefined);
    const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement;
    if (!typing && this.driving && DriveInput.isDriveKey(event.key) && !event.ctrlKey && !event.metaKey) {
      // The robot's keys now: no scrolling, no page shortcuts (`s` toggles the stats otherwise).
      event.preventDefault();
      this.#input.keyDown(event.key);
    }
  };

  #setEnlarged(tile: Tile | undefined): void {
    this.#enlarged?.element.classList.remove('enlarged');
    this.#enlarged = tile;
    tile?.element.classList.add('enlarged');
    this.#settings.grid.classList.toggle('has-enlarged', tile !== undefined);
    tile?.element.scrollIntoView({ block: 'nearest' });
  }

  *#tiles(): Generator<Tile> {
    for (const group of this.#groups.values()) yield* group.tiles.values();
  }

  #tileOf(element: Element): Tile | undefined {
    for (const tile of this.#tiles()) if (tile.element === element) return tile;
    return undefined;
  }

  #renderIndicator(): void {
    const state = this.client.state;
    const online = [...this.#groups.values()].filter((group) => group.id !== undefined).length;
    const text =
      this.#fatal !== undefined
        ? `signaling refused: ${this.#fatal}`
        : state === 'open'
          ? `${online} sender${online === 1 ? '' : 's'} online`
          : state === 'reconnecting'
            ? 'signaling server unreachable, reconnecting…'
            : state === 'closed'
              ? 'disconnected'
              : 'connecting…';
    this.#settings.indicator.dataset.state = this.#fatal !== undefined ? 'error' : state;
    setText(this.#settings.indicator, text);
    const hasTiles =
      this.#groups.size > 0 && [...this.#groups.values()].some((group) => group.tiles.size > 0);
    this.#settings.empty.hidden = hasTiles;
    if (!hasTiles) {
      setText(
        this.#settings.empty,
        state === 'open'
          ? 'No sender online. Start one (npm start, or apps/sender) and it appears here.'
          : text,
      );
    }
  }
}

/** Builds the static parts of the page around the app. */
export function buildLayout(root: HTMLElement): {
  grid: HTMLElement;
  indicator: HTMLElement;
  empty: HTMLElement;
  statsButton: HTMLButtonElement;
} {
  const indicator = h('span', { class: 'indicator', attrs: { role: 'status' } });
  const statsButton = h(
    'button',
    { class: 'stats-toggle', attrs: { type: 'button', 'aria-pressed': 'false', title: 'Show stats (s)' } },
    'Stats',
  );
  const empty = h('p', { class: 'empty' });
  const grid = h('main', { class: 'grid' });
  root.replaceChildren(
    h('header', { class: 'bar' }, h('h1', {}, 'robocam'), indicator, statsButton),
    empty,
    grid,
  );
  return { grid, indicator, empty, statsButton };
}
