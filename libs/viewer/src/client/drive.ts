import {
  TELEOP_LIMITS,
  parseCommandAck,
  parseSenderEvent,
  type JsonObject,
  type LeaseHolder,
} from '@robocam/protocol';
import type { ControlSnapshot } from '../page-hook.js';

/** A ROS `Twist`-shaped command: forward speed and turn rate, each −1…1. */
export interface Twist {
  linear: { x: number };
  angular: { z: number };
}

export interface DriveControlSettings {
  /** This page's id at the sender (the same for every sender and session of the page). */
  clientId: string;
  /** Shown to the other viewers while this page drives. */
  name: string;
  /** Commands per second while driving (10–50). The sender's deadman needs ≥ 10. */
  rateHz: number;
  /** The sender's clock minus ours, ms (undefined before the first estimate: clocks assumed equal). */
  clockOffsetMs: () => number | undefined;
  /** What the operator asks for now (keys, gamepad). */
  input: () => Twist;
  /** Something shown changed (lease, telemetry, a denial): re-render. */
  onChange: () => void;
}

/** One session's two teleop channels. */
interface ChannelPair {
  sessionId: string;
  control: RTCDataChannel;
  events: RTCDataChannel;
}

/** Acknowledgements are matched to their send time for this many recent commands. */
const RTT_WINDOW = 64;

/**
 * Driving one sender from the page: the lease (ask, release, who holds it), the command loop at a
 * steady rate while this page holds it (zeros when no key is down, so the deadman stays quiet),
 * the round trip of commands from their acknowledgements, and the robot's telemetry. It speaks
 * over the teleop channels of whichever of the sender's sessions opened last (a tile replacing its
 * session keeps the lease: the sender knows the page by `clientId`).
 */
export class DriveControl {
  readonly #settings: DriveControlSettings;
  readonly #pairs: ChannelPair[] = [];
  #holder: LeaseHolder | null = null;
  #tokenRequired = false;
  #denied: string | null = null;
  #lastStop: string | null = null;
  #telemetry: { at: number; data: JsonObject } | null = null;
  #error: string | null = null;
  #seq = 0;
  #sent = 0;
  #acked = 0;
  #dropped = 0;
  #rttMs: number | null = null;
  readonly #sentAt = new Map<number, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(settings: DriveControlSettings) {
    this.#settings = settings;
  }

  /** True while this page holds the lease. */
  get driving(): boolean {
    return this.#holder?.you === true;
  }

  /** Whether any session's events channel is open (the button is useless before). */
  get available(): boolean {
    return this.#openPair() !== undefined;
  }

  get holder(): LeaseHolder | null {
    return this.#holder;
  }

  get tokenRequired(): boolean {
    return this.#tokenRequired;
  }

  snapshot(): ControlSnapshot {
    return {
      available: this.available,
      holder: this.#holder?.name ?? null,
      you: this.driving,
      tokenRequired: this.#tokenRequired,
      denied: this.#denied,
      commandsSent: this.#sent,
      commandsAcked: this.#acked,
      commandsDropped: this.#dropped,
      commandRttMs: this.#rttMs,
      telemetry: this.#telemetry?.data ?? null,
      telemetryAt: this.#telemetry?.at ?? null,
      lastStop: this.#lastStop,
      error: this.#error,
    };
  }

  /** A session of this sender opened its channels (they may still be connecting). */
  attach(sessionId: string, control: RTCDataChannel, events: RTCDataChannel): void {
    if (this.#closed) return;
    const pair: ChannelPair = { sessionId, control, events };
    this.#pairs.push(pair);
    events.addEventListener('open', () => {
      this.#send(events, { type: 'hello', client: this.#settings.clientId, name: this.#settings.name });
    });
    events.addEventListener('message', (event: MessageEvent<unknown>) => {
      this.#onEvent(event.data);
    });
    control.addEventListener('message', (event: MessageEvent<unknown>) => {
      this.#onAck(event.data);
    });
    if (events.readyState === 'open') {
      this.#send(events, { type: 'hello', client: this.#settings.clientId, name: this.#settings.name });
    }
  }

  /** The session ended. When it was the last, the lease is gone with it (the sender releases it). */
  detach(sessionId: string): void {
    const index = this.#pairs.findIndex((pair) => pair.sessionId === sessionId);
    if (index >= 0) this.#pairs.splice(index, 1);
    if (this.#openPair() === undefined && this.#holder !== null) {
      this.#setHolder(null);
      this.#settings.onChange();
    }
  }

  /** Asks for the lease (`token`: the sender's control token, when it requires one). */
  request(token?: string): void {
    this.#denied = null;
    const pair = this.#openPair();
    if (pair === undefined) return;
    this.#send(pair.events, {
      type: 'lease-request',
      ...(token === undefined || token === '' ? {} : { token }),
    });
  }

  /** Gives the lease back; the robot stops. */
  release(): void {
    const pair = this.#openPair();
    this.#stopLoop();
    if (pair !== undefined) this.#send(pair.events, { type: 'lease-release' });
  }

  close(): void {
    this.#closed = true;
    this.#stopLoop();
    this.#pairs.length = 0;
  }

  // ---- receiving ---------------------------------------------------------------------------------

  #onEvent(raw: unknown): void {
    if (typeof raw !== 'string') return;
    const parsed = parseSenderEvent(raw);
    if (!parsed.ok) return;
    const event = parsed.message;
    switch (event.type) {
      case 'lease':
        this.#tokenRequired = event.tokenRequired;
        this.#setHolder(event.holder);
        break;
      case 'lease-denied':
        this.#denied = event.message;
        if (event.code === 'unauthorized') this.#tokenRequired = true;
        break;
      case 'stop':
        this.#lastStop = event.reason;
        break;
      case 'telemetry':
        this.#telemetry = { at: event.at, data: event.data };
        break;
      case 'error':
        this.#error = `${event.code}: ${event.message}`;
        break;
    }
    this.#settings.onChange();
  }

  #onAck(raw: unknown): void {
    if (typeof raw !== 'string') return;
    const parsed = parseCommandAck(raw);
    if (!parsed.ok) return;
    const sentAt = this.#sentAt.get(parsed.message.ack);
    this.#acked += 1;
    this.#dropped = parsed.message.dropped;
    if (sentAt !== undefined) this.#rttMs = Math.round((performance.now() - sentAt) * 10) / 10;
  }

  #setHolder(holder: LeaseHolder | null): void {
    const wasDriving = this.driving;
    this.#holder = holder;
    if (this.driving && !wasDriving) this.#startLoop();
    else if (!this.driving && wasDriving) this.#stopLoop();
  }

  // ---- the command loop --------------------------------------------------------------------------

  #startLoop(): void {
    this.#stopLoop();
    this.#lastStop = null;
    const rateHz = Math.min(50, Math.max(10, this.#settings.rateHz));
    this.#sendCommand();
    this.#timer = setInterval(() => {
      this.#sendCommand();
    }, 1000 / rateHz);
  }

  #stopLoop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sendCommand(): void {
    const pair = this.#openPair();
    if (pair === undefined || pair.control.readyState !== 'open') return;
    // Commands never queue: a control channel that cannot take one now gets the next one instead.
    if (pair.control.bufferedAmount > TELEOP_LIMITS.maxCommandBytes * 4) return;
    this.#seq += 1;
    const now = performance.now();
    const command = {
      seq: this.#seq,
      sentAt: Date.now() + (this.#settings.clockOffsetMs() ?? 0),
      data: this.#settings.input() as unknown as JsonObject,
    };
    if (this.#send(pair.control, command)) {
      this.#sent += 1;
      this.#sentAt.set(this.#seq, now);
      this.#sentAt.delete(this.#seq - RTT_WINDOW);
    }
  }

  #openPair(): ChannelPair | undefined {
    for (let index = this.#pairs.length - 1; index >= 0; index -= 1) {
      const pair = this.#pairs[index];
      if (pair?.events.readyState === 'open') return pair;
    }
    return undefined;
  }

  #send(channel: RTCDataChannel, message: object): boolean {
    if (channel.readyState !== 'open') return false;
    try {
      channel.send(JSON.stringify(message));
      return true;
    } catch {
      return false; // closing underneath: the session is ending
    }
  }
}

/** Keys that drive: arrows and WASD. */
const DRIVE_KEYS: Record<string, { x?: number; z?: number }> = {
  ArrowUp: { x: 1 },
  w: { x: 1 },
  ArrowDown: { x: -1 },
  s: { x: -1 },
  ArrowLeft: { z: 1 },
  a: { z: 1 },
  ArrowRight: { z: -1 },
  d: { z: -1 },
};

/** Stick positions below this are noise (worn sticks rest at 0.05–0.1). */
const GAMEPAD_DEADZONE = 0.15;

/**
 * What the operator asks for: keys held (arrows, WASD) and the first connected gamepad's left
 * stick (up: forward, left: turn left, as ROS's positive angular z). Keys win over the stick.
 */
export class DriveInput {
  readonly #held = new Set<string>();

  /** Whether `key` (KeyboardEvent.key) is a driving key. */
  static isDriveKey(key: string): boolean {
    return key in DRIVE_KEYS || key.toLowerCase() in DRIVE_KEYS;
  }

  keyDown(key: string): void {
    this.#held.add(normalize(key));
  }

  keyUp(key: string): void {
    this.#held.delete(normalize(key));
  }

  /** Forgets every key (the window lost focus: its key-ups will not come). */
  clear(): void {
    this.#held.clear();
  }

  twist(): Twist {
    let x = 0;
    let z = 0;
    for (const key of this.#held) {
      const effect = DRIVE_KEYS[key];
      x += effect?.x ?? 0;
      z += effect?.z ?? 0;
    }
    if (x === 0 && z === 0) {
      const stick = gamepadStick();
      x = stick.x;
      z = stick.z;
    }
    return { linear: { x: clamp(x) }, angular: { z: clamp(z) } };
  }
}

function normalize(key: string): string {
  return key.length === 1 ? key.toLowerCase() : key;
}

function clamp(value: number): number {
  return Math.round(Math.min(1, Math.max(-1, value)) * 1000) / 1000;
}

function gamepadStick(): { x: number; z: number } {
  const pads = typeof navigator.getGamepads === 'function' ? navigator.getGamepads() : [];
  for (const pad of pads) {
    if (pad === null || !pad.connected || pad.axes.length < 2) continue;
    const turn = pad.axes[0] ?? 0;
    const forward = pad.axes[1] ?? 0;
    return {
      x: Math.abs(forward) < GAMEPAD_DEADZONE ? 0 : -forward,
      z: Math.abs(turn) < GAMEPAD_DEADZONE ? 0 : -turn,
    };
  }
  return { x: 0, z: 0 };
}
