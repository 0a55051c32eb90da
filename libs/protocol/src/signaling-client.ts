// 'events' resolves to Node's built-in module in Node and to the npm 'events' package in browser
// bundles, so this file runs in both without Node-only imports.
import { EventEmitter } from 'events';
import { InvalidStateError, TimeoutError, backoffDelay, type BackoffSettings } from '@robocam/types';
import type * as TypedEmitterModule from 'typed-emitter';
import { estimateClock, type ClockEstimate } from './clock.js';
import { ProtocolError } from './errors.js';
import type {
  CameraInfo,
  ClientMessage,
  ErrorCode,
  Role,
  SenderInfo,
  ServerMessage,
  ServerMessageOf,
} from './messages.js';
import { encodeMessage, parseServerMessage } from './parse.js';
import { PROTOCOL_VERSION } from './schemas.js';

/** The part of the WHATWG WebSocket API the client uses; both browsers and Node ≥ 22 provide it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type SignalingState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface SignalingClientSettings {
  /** Signaling server URL, e.g. `ws://robot.local:8765`. Required. */
  url: string;
  /** `viewer` or `sender`. Required. */
  role: Role;
  /** Display name of this peer. Default: the role. */
  name?: string;
  /** Token for servers that require one (`SENDER_TOKEN` / `VIEWER_TOKEN`). Default: none. */
  token?: string;
  /** A sender's cameras, announced at every (re)registration. Default: none. */
  cameras?: CameraInfo[];
  /** WebSocket implementation. Default: `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect after the connection drops. Default true. */
  reconnect?: boolean;
  /** Reconnect delay growth. Defaults: see {@link BackoffSettings}. */
  backoff?: BackoffSettings;
  /** How long request helpers (`connect`, `ping`) wait for an answer, in ms. Default 5000. */
  requestTimeoutMs?: number;
  /**
   * Interval of client heartbeats, in ms. If nothing at all arrives from the server for 3 intervals
   * the connection is considered dead and is replaced. Default 5000; 0 disables.
   */
  heartbeatIntervalMs?: number;
}

export type SignalingClientEvents = {
  /** Registered (again, after a reconnect): the server's welcome. */
  open: (welcome: ServerMessageOf<'welcome'>) => void;
  /** The connection closed; `willReconnect` tells whether the client tries again. */
  close: (info: { code: number; reason: string; willReconnect: boolean }) => void;
  /** A reconnect attempt is scheduled. */
  reconnecting: (info: { attempt: number; delayMs: number }) => void;
  state: (state: SignalingState) => void;
  /** Every valid message from the server, before the typed events below. */
  message: (message: ServerMessage) => void;
  'sender-online': (message: ServerMessageOf<'sender-online'>) => void;
  'sender-offline': (message: ServerMessageOf<'sender-offline'>) => void;
  offer: (message: ServerMessageOf<'offer'>) => void;
  answer: (message: ServerMessageOf<'answer'>) => void;
  candidate: (message: ServerMessageOf<'candidate'>) => void;
  bye: (message: ServerMessageOf<'bye'>) => void;
  /** A routed ping from the other party of a session; the client answers it by itself. */
  ping: (message: ServerMessageOf<'ping'>) => void;
  /** The server reported an error (about one of our messages, or fatal such as `unauthorized`). */
  'server-error': (error: ProtocolError) => void;
  /** The server sent something this client cannot parse (version skew, or a bug). */
  'protocol-error': (error: ProtocolError) => void;
  /** A listener of this emitter threw; the emitter itself keeps working. */
  listenererror: (eventName: string, error: unknown) => void;
};

/** Errors after which reconnecting cannot help. */
const FATAL_CODES: ReadonlySet<ErrorCode> = new Set(['unauthorized', 'unsupported-version', 'forbidden']);
const WS_OPEN = 1;

interface PendingRequest {
  resolve: (message: ServerMessage) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * A robocam signaling connection for viewers and senders, in Node and browsers: registers,
 * reconnects with exponential backoff and jitter, re-registers after every reconnect, keeps a
 * heartbeat, and exposes server messages as typed events.
 */
export class SignalingClient extends (EventEmitter as new () => TypedEmitterModule.default<SignalingClientEvents>) {
  readonly #settings: Required<
    Pick<
      SignalingClientSettings,
      'url' | 'role' | 'name' | 'reconnect' | 'requestTimeoutMs' | 'heartbeatIntervalMs'
    >
  > &
    SignalingClientSettings;
  readonly #WebSocket: WebSocketConstructor;
  #socket: WebSocketLike | undefined;
  #state: SignalingState = 'idle';
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #lastHeardAt = 0;
  #nextId = 1;
  readonly #pending = new Map<string, PendingRequest>();
  #peerId: string | undefined;
  readonly #senders = new Map<string, SenderInfo>();
  #firstWelcome: { resolve: (w: ServerMessageOf<'welcome'>) => void; reject: (e: Error) => void } | undefined;

  constructor(settings: SignalingClientSettings) {
    super();
    const WebSocketImpl =
      settings.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor | undefined }).WebSocket;
    if (WebSocketImpl === undefined) {
      throw new TypeError(
        'no WebSocket implementation: pass settings.WebSocket (e.g. from the "ws" package)',
      );
    }
    this.#WebSocket = WebSocketImpl;
    this.#settings = {
      name: settings.role,
      reconnect: true,
      requestTimeoutMs: 5000,
      heartbeatIntervalMs: 5000,
      ...settings,
    };
  }

  get state(): SignalingState {
    return this.#state;
  }

  /** This client's id as assigned by the server; undefined until registered. Changes on reconnect. */
  get peerId(): string | undefined {
    return this.#peerId;
  }

  /** Online senders as last reported by the server (viewers only). */
  get senders(): ReadonlyMap<string, SenderInfo> {
    return this.#senders;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /**
   * Connects and registers. Resolves with the first welcome; rejects if the server refuses the
   * registration (e.g. `unauthorized`). Later reconnects happen by themselves and emit `open`.
   */
  connect(): Promise<ServerMessageOf<'welcome'>> {
    if (this.#state === 'closed') return Promise.reject(new InvalidStateError('client is closed'));
    if (this.#state !== 'idle') return Promise.reject(new InvalidStateError(`already ${this.#state}`));
    return new Promise((resolve, reject) => {
      this.#firstWelcome = { resolve, reject };
      this.#open();
    });
  }

  /** Sends a message if connected; returns false (message dropped) otherwise. */
  send(message: ClientMessage): boolean {
    const socket = this.#socket;
    if (socket === undefined || socket.readyState !== WS_OPEN || this.#peerId === undefined) return false;
    socket.send(encodeMessage(message));
    return true;
  }

  /**
   * Measures round-trip time and clock offset to the server (no session) or to the other party of
   * `session` (e.g. a viewer measuring its sender's clock for glass-to-glass latency).
   */
  async ping(session?: string): Promise<ClockEstimate> {
    const t0 = Date.now();
    const reply = await this.#request({ type: 'ping', t0, ...(session === undefined ? {} : { session }) });
    if (reply.type !== 'pong') throw new ProtocolError('bad-message', 'expected pong');
    return estimateClock({ t0, t1: reply.t1, t2: Date.now() });
  }

  /** A sender announces changed cameras; remembered for re-registration after reconnects. */
  updateCameras(cameras: CameraInfo[]): void {
    this.#settings.cameras = cameras;
    this.send({ type: 'cameras', cameras });
  }

  /** Closes the connection for good; pending requests reject. Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    clearTimeout(this.#reconnectTimer);
    this.#stopHeartbeat();
    this.#rejectPending(new InvalidStateError('client closed'));
    this.#firstWelcome?.reject(new InvalidStateError('client closed'));
    this.#firstWelcome = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined) {
      detach(socket);
      socket.close(1000, 'client closing');
    }
  }

  #open(): void {
    this.#setState(this.#attempt === 0 ? 'connecting' : 'reconnecting');
    let socket: WebSocketLike;
    try {
      socket = new this.#WebSocket(this.#settings.url);
    } catch (error) {
      // An invalid URL will never work: fail instead of retrying forever.
      this.#fail(new ProtocolError('bad-message', `cannot open ${this.#settings.url}: ${String(error)}`));
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      this.#lastHeardAt = Date.now();
      this.#startHeartbeat();
      const id = this.#newId();
      socket.send(
        encodeMessage({
          type: 'hello',
          id,
          protocol: PROTOCOL_VERSION,
          role: this.#settings.role,
          name: this.#settings.name,
          ...(this.#settings.token === undefined ? {} : { token: this.#settings.token }),
          ...(this.#settings.role === 'sender' ? { cameras: this.#settings.cameras ?? [] } : {}),
        }),
      );
    };
    socket.onmessage = (event) => {
      this.#lastHeardAt = Date.now();
      this.#handle(event.data);
    };
    socket.onerror = () => {
      // Always followed by close, which decides what happens next.
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#peerId = undefined;
      this.#stopHeartbeat();
      this.#rejectPending(new ProtocolError('internal', 'connection closed'));
      const willReconnect = this.#settings.reconnect && this.#state !== 'closed';
      this.#safeEmit('close', { code: event.code, reason: event.reason, willReconnect });
      if (willReconnect) this.#scheduleReconnect();
      else if (this.#state !== 'closed') this.#fail(new ProtocolError('internal', 'connection closed'));
    };
  }

  #handle(data: unknown): void {
    const parsed = parseServerMessage(typeof data === 'string' ? data : new ArrayBuffer(0));
    if (!parsed.ok) {
      this.#safeEmit('protocol-error', parsed.error);
      return;
    }
    const message = parsed.message;
    this.#safeEmit('message', message);
    switch (message.type) {
      case 'welcome':
        this.#onWelcome(message);
        break;
      case 'sender-online':
        this.#senders.set(message.sender.id, message.sender);
        this.#safeEmit('sender-online', message);
        break;
      case 'sender-offline':
        this.#senders.delete(message.senderId);
        this.#safeEmit('sender-offline', message);
        break;
      case 'pong':
        this.#settle(message.id, message);
        break;
      case 'ping':
        this.send({
          type: 'pong',
          t0: message.t0,
          t1: Date.now(),
          session: message.session,
          ...(message.id === undefined ? {} : { id: message.id }),
        });
        this.#safeEmit('ping', message);
        break;
      case 'error':
        this.#onError(message);
        break;
      case 'offer':
        this.#safeEmit('offer', message);
        break;
      case 'answer':
        this.#safeEmit('answer', message);
        break;
      case 'candidate':
        this.#safeEmit('candidate', message);
        break;
      case 'bye':
        this.#safeEmit('bye', message);
        break;
    }
  }

  #onWelcome(welcome: ServerMessageOf<'welcome'>): void {
    this.#attempt = 0;
    this.#peerId = welcome.peerId;
    this.#senders.clear();
    for (const sender of welcome.senders) this.#senders.set(sender.id, sender);
    this.#setState('open');
    this.#firstWelcome?.resolve(welcome);
    this.#firstWelcome = undefined;
    this.#safeEmit('open', welcome);
  }

  #onError(message: ServerMessageOf<'error'>): void {
    const error = new ProtocolError(message.code, message.message, message.ref);
    if (message.ref !== undefined && this.#pending.has(message.ref)) {
      const pending = this.#pending.get(message.ref);
      this.#pending.delete(message.ref);
      clearTimeout(pending?.timer);
      pending?.reject(error);
    }
    this.#safeEmit('server-error', error);
    if (FATAL_CODES.has(message.code) && this.#peerId === undefined) this.#fail(error);
  }

  #fail(error: Error): void {
    const firstWelcome = this.#firstWelcome;
    this.#firstWelcome = undefined;
    this.close();
    firstWelcome?.reject(error);
  }

  #scheduleReconnect(): void {
    const delayMs = backoffDelay(this.#attempt, this.#settings.backoff);
    this.#attempt += 1;
    this.#setState('reconnecting');
    this.#safeEmit('reconnecting', { attempt: this.#attempt, delayMs });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#state !== 'closed') this.#open();
    }, delayMs);
  }

  #request(message: ClientMessage): Promise<ServerMessage> {
    const id = this.#newId();
    return new Promise((resolve, reject) => {
      if (!this.send({ ...message, id })) {
        reject(new InvalidStateError(`not connected (${this.#state})`));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new TimeoutError(`no answer to ${message.type} within ${this.#settings.requestTimeoutMs} ms`));
      }, this.#settings.requestTimeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
    });
  }

  #settle(id: string | undefined, message: ServerMessage): void {
    if (id === undefined) return;
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(message);
  }

  #rejectPending(error: Error): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    const interval = this.#settings.heartbeatIntervalMs;
    if (interval <= 0) return;
    this.#heartbeatTimer = setInterval(() => {
      const socket = this.#socket;
      if (socket === undefined) return;
      if (Date.now() - this.#lastHeardAt > 3 * interval) {
        // A half-open TCP connection can stay "open" for minutes; replace it now.
        socket.close(4000, 'heartbeat timeout');
        socket.onclose?.({ code: 4000, reason: 'heartbeat timeout' });
        detach(socket);
        return;
      }
      if (this.#peerId !== undefined) this.send({ type: 'ping', t0: Date.now() });
    }, interval);
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
  }

  #newId(): string {
    return `c${this.#nextId++}`;
  }

  #setState(state: SignalingState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#safeEmit('state', state);
  }

  /** A throwing listener must not break the client's own state machine. */
  #safeEmit<E extends keyof SignalingClientEvents>(
    event: E,
    ...args: Parameters<SignalingClientEvents[E]>
  ): void {
    try {
      this.emit(event, ...args);
    } catch (error) {
      if (event === 'listenererror') return;
      try {
        this.emit('listenererror', event, error);
      } catch {
        // A throwing listenererror listener has nowhere left to report to.
      }
    }
  }
}

function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onerror = null;
  socket.onclose = null;
}
