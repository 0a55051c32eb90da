import {
  TELEOP_CHANNELS,
  TELEOP_LIMITS,
  parseCommand,
  parseViewerEvent,
  type JsonObject,
  type LeaseDeniedCode,
  type SenderEvent,
  type StopReason,
} from '@robocam/protocol';
import { TokenBucket, tokensEqual } from '@robocam/service';
import { RobocamError, errorMessage, silentLogger, type Logger } from '@robocam/types';
import type { RTCDataChannel } from 'werift';
import { ControlLease, type LeaseOwner } from './control-lease.js';

/** How the sender accepts control from viewers (commands over the sessions' data channels). */
export interface ControlSettings {
  /** Accept lease requests at all. Default true; false leaves every viewer watch-only. */
  enabled?: boolean;
  /**
   * A secret a viewer must present to take the lease (`CONTROL_TOKEN`): watching and driving are
   * different privileges. Default none: any viewer may drive while the lease is free.
   */
  token?: string;
  /**
   * Commands older than this on arrival are dropped, never applied, in ms. Default 250: a
   * command a quarter second old describes a situation that is gone.
   */
  commandDeadlineMs?: number;
  /**
   * The driver's page sends at ≥ 10 Hz while it holds the lease; when no command was applied for
   * this long the sender raises a `stop`, in ms. Default 500.
   */
  deadmanMs?: number;
  /**
   * After the deadman's stop the lease waits this much longer for the driver to come back, then
   * it is released, in ms. Default 2000.
   */
  leaseGraceMs?: number;
}

/** A command from the driving viewer, as robot code receives it. */
export interface ControlCommand {
  /** The command's sequence number (grows by one per command of the driver's page). */
  seq: number;
  /** Time from the viewer's send to its arrival here, in ms, on the sender's clock (≥ 0). */
  ageMs: number;
  /** The viewer's peer id at the signaling server. */
  viewerId: string;
  /** The session it arrived on. */
  sessionId: string;
  /** The payload, e.g. `{ linear: { x }, angular: { z } }` (a ROS Twist's shape) from the page. */
  data: JsonObject;
}

/** Who holds the control lease. */
export interface ControlLeaseInfo {
  /** The holder's name (from its page), or its viewer id. */
  name: string;
  /** The viewer (signaling peer id) that took it. */
  viewerId: string;
  /** When it was granted, ms since the epoch. */
  since: number;
}

/** The robot must stop now. */
export interface ControlStop {
  reason: StopReason;
  /** The driver whose lease the stop belongs to. */
  viewerId: string;
  /** Time since the last applied command, ms. */
  idleMs: number;
}

/** A free-form event from a viewer's page (the events channel's `event` message). */
export interface ViewerEventInfo {
  viewerId: string;
  sessionId: string;
  data: JsonObject;
}

/** Counters of commands and data-channel messages. */
export interface ControlCounters {
  /** Commands that arrived (all of them). */
  commandsReceived: number;
  /** Commands handed to robot code. */
  commandsApplied: number;
  /** Dropped: older than the deadline on arrival. */
  commandsLate: number;
  /** Dropped: sequence number not above the last applied one. */
  commandsOutOfOrder: number;
  /** Dropped: the session's page does not hold the lease. */
  commandsWithoutLease: number;
  /** Dropped: more than the rate limit. */
  commandsRateLimited: number;
  /** Data-channel messages rejected: malformed, oversized, binary, or over the events rate limit. */
  messagesRejected: number;
}

export interface ControlStats extends ControlCounters {
  /** Who drives now; undefined when nobody does. */
  lease: ControlLeaseInfo | undefined;
  /** Whether taking the lease needs a token. */
  tokenRequired: boolean;
  /** Sessions whose events channel is open. */
  channels: number;
}

export interface TeleopEvents {
  command(command: ControlCommand): void;
  lease(lease: ControlLeaseInfo | undefined): void;
  stop(stop: ControlStop): void;
  viewerEvent(event: ViewerEventInfo): void;
}

/** The session a binding belongs to (a ViewerSession satisfies it). */
export interface TeleopSession {
  readonly id: string;
  readonly viewerId: string;
}

/** Error notices to one session, at most one per this many ms (a flood must not echo a flood). */
const ERROR_NOTICE_INTERVAL_MS = 1000;

function emptyCounters(): ControlCounters {
  return {
    commandsReceived: 0,
    commandsApplied: 0,
    commandsLate: 0,
    commandsOutOfOrder: 0,
    commandsWithoutLease: 0,
    commandsRateLimited: 0,
    messagesRejected: 0,
  };
}

/** One session's two data channels and what its page said about itself. */
class Binding {
  readonly session: TeleopSession;
  control: RTCDataChannel | undefined;
  events: RTCDataChannel | undefined;
  /** The page's id from its `hello`. */
  client: string | undefined;
  name: string | undefined;
  readonly counters = emptyCounters();
  readonly commandBucket = new TokenBucket(TELEOP_LIMITS.commandsPerSecond, TELEOP_LIMITS.commandBurst);
  readonly eventBucket = new TokenBucket(TELEOP_LIMITS.eventsPerSecond, TELEOP_LIMITS.eventBurst);
  lastErrorNoticeAt = -Infinity;

  constructor(session: TeleopSession) {
    this.session = session;
  }

  get dropped(): number {
    const c = this.counters;
    return c.commandsLate + c.commandsOutOfOrder + c.commandsWithoutLease + c.commandsRateLimited;
  }
}

/**
 * Teleoperation for one sender: the control and events data channels of every session, the
 * control lease with its deadman, command validation (schema, size, rate, sequence, age) and
 * telemetry to the viewers. Nothing malformed, late, out of order or from a viewer without the
 * lease reaches robot code; each drop is counted.
 */
export class Teleop {
  readonly #settings: Required<Omit<ControlSettings, 'token'>> & { token: string | undefined };
  readonly #events: TeleopEvents;
  readonly #logger: Logger;
  readonly #bindings = new Map<string, Binding>();
  readonly #lease: ControlLease;
  /** Counters of sessions that ended, so the totals never go down. */
  readonly #closedCounters = emptyCounters();

  constructor(settings: ControlSettings, events: TeleopEvents, logger: Logger = silentLogger) {
    this.#settings = {
      enabled: settings.enabled ?? true,
      token: settings.token === '' ? undefined : settings.token,
      commandDeadlineMs: settings.commandDeadlineMs ?? 250,
      deadmanMs: settings.deadmanMs ?? 500,
      leaseGraceMs: settings.leaseGraceMs ?? 2000,
    };
    this.#events = events;
    this.#logger = logger;
    this.#lease = new ControlLease(
      { deadmanMs: this.#settings.deadmanMs, leaseGraceMs: this.#settings.leaseGraceMs },
      {
        stop: (reason, owner, idleMs) => {
          this.#onStop(reason, owner, idleMs);
        },
        changed: (owner) => {
          this.#onLeaseChanged(owner);
        },
      },
    );
  }

  /** Who drives now. */
  get lease(): ControlLeaseInfo | undefined {
    const owner = this.#lease.owner;
    return owner === undefined
      ? undefined
      : { name: owner.name, viewerId: owner.viewerId, since: this.#lease.since };
  }

  stats(): ControlStats {
    const totals = { ...this.#closedCounters };
    for (const binding of this.#bindings.values()) addCounters(totals, binding.counters);
    return {
      ...totals,
      lease: this.lease,
      tokenRequired: this.#settings.token !== undefined,
      channels: [...this.#bindings.values()].filter((binding) => binding.events?.readyState === 'open')
        .length,
    };
  }

  /** The counters of one session's channels; undefined if it opened none. */
  sessionCounters(sessionId: string): ControlCounters | undefined {
    const binding = this.#bindings.get(sessionId);
    return binding === undefined ? undefined : { ...binding.counters };
  }

  /** A data channel the viewer of `session` opened (werift's `onDataChannel`). */
  addChannel(session: TeleopSession, channel: RTCDataChannel): void {
    let binding = this.#bindings.get(session.id);
    if (binding === undefined) {
      binding = new Binding(session);
      this.#bindings.set(session.id, binding);
    }
    const bound = binding;
    if (channel.label === TELEOP_CHANNELS.control && bound.control === undefined) {
      bound.control = channel;
      channel.onMessage.subscribe((data) => {
        this.#onCommand(bound, data);
      });
    } else if (channel.label === TELEOP_CHANNELS.events && bound.events === undefined) {
      bound.events = channel;
      channel.onMessage.subscribe((data) => {
        this.#onViewerEvent(bound, data);
      });
    } else {
      // Not ours (or a second one of a label): nothing reads it, so nothing should queue on it.
      this.#logger.debug({ session: session.id, label: channel.label.slice(0, 64) }, 'data channel refused');
      bound.counters.messagesRejected += 1;
      channel.close();
    }
  }

  /** The session ended: its channels are gone; if its page drove and has no other session, the lease ends. */
  removeSession(session: TeleopSession): void {
    const binding = this.#bindings.get(session.id);
    // A replaced session's successor may already have channels under the same id.
    if (binding?.session !== session) return;
    this.#bindings.delete(session.id);
    addCounters(this.#closedCounters, binding.counters);
    const client = binding.client;
    if (client === undefined || this.#lease.owner?.client !== client) return;
    const stillThere = [...this.#bindings.values()].some((other) => other.client === client);
    if (!stillThere) {
      this.#logger.info({ viewer: binding.session.viewerId }, 'driver disconnected');
      this.#lease.release(client, 'disconnected');
    }
  }

  /**
   * Sends robot telemetry to every viewer with an open events channel, or only to the sessions of
   * `to.viewerId` / the session `to.sessionId`. Returns how many sessions it was sent to. Throws
   * `too-large` for data beyond 16 KiB of JSON, `bad-message` for data that is not a JSON object.
   */
  sendTelemetry(data: JsonObject, to: { viewerId?: string; sessionId?: string } = {}): number {
    let text: string;
    try {
      text = JSON.stringify({ type: 'telemetry', at: Date.now(), data } satisfies SenderEvent);
    } catch (error) {
      throw new RobocamError('bad-message', `telemetry is not JSON: ${errorMessage(error)}`);
    }
    if (typeof data !== 'object' || Array.isArray(data)) {
      throw new RobocamError('bad-message', 'telemetry must be a JSON object');
    }
    if (Buffer.byteLength(text) > TELEOP_LIMITS.maxEventBytes) {
      throw new RobocamError('too-large', `telemetry exceeds ${TELEOP_LIMITS.maxEventBytes} bytes of JSON`);
    }
    let sent = 0;
    for (const binding of this.#bindings.values()) {
      if (to.viewerId !== undefined && binding.session.viewerId !== to.viewerId) continue;
      if (to.sessionId !== undefined && binding.session.id !== to.sessionId) continue;
      if (this.#sendText(binding.events, text)) sent += 1;
    }
    return sent;
  }

  /** Takes the lease away from whoever holds it (robot code decided); the robot gets a stop. */
  revoke(): void {
    const owner = this.#lease.owner;
    if (owner !== undefined) this.#lease.release(owner.client, 'released');
  }

  /** Ends the lease (with a stop if the robot may be moving) and forgets every channel. */
  close(): void {
    this.#lease.close();
    this.#bindings.clear();
  }

  // ---- control channel ---------------------------------------------------------------------------

  #onCommand(binding: Binding, raw: string | Buffer): void {
    const counters = binding.counters;
    counters.commandsReceived += 1;
    // The bucket comes first: a flood costs a counter increment per message, not a JSON parse.
    if (!binding.commandBucket.take()) {
      counters.commandsRateLimited += 1;
      this.#notice(binding, 'rate-limited', `more than ${TELEOP_LIMITS.commandsPerSecond} commands/s`);
      return;
    }
    const parsed = parseCommand(typeof raw === 'string' ? raw : new Uint8Array(raw));
    if (!parsed.ok) {
      counters.messagesRejected += 1;
      this.#notice(binding, parsed.error.code, parsed.error.message);
      return;
    }
    const command = parsed.message;
    const verdict =
      binding.client === undefined ? 'no-lease' : this.#lease.check(binding.client, command.seq);
    if (verdict === 'no-lease') {
      counters.commandsWithoutLease += 1;
      this.#notice(binding, 'no-lease', 'commands need the control lease');
      return;
    }
    if (verdict === 'out-of-order') {
      counters.commandsOutOfOrder += 1;
      return;
    }
    const ageMs = Math.max(0, Date.now() - command.sentAt);
    if (ageMs > this.#settings.commandDeadlineMs) {
      counters.commandsLate += 1;
      return;
    }
    this.#lease.applied(command.seq);
    counters.commandsApplied += 1;
    this.#sendText(binding.control, JSON.stringify({ ack: command.seq, dropped: binding.dropped }));
    this.#events.command({
      seq: command.seq,
      ageMs,
      viewerId: binding.session.viewerId,
      sessionId: binding.session.id,
      data: command.data,
    });
  }

  // ---- events channel ----------------------------------------------------------------------------

  #onViewerEvent(binding: Binding, raw: string | Buffer): void {
    if (!binding.eventBucket.take()) {
      binding.counters.messagesRejected += 1;
      this.#notice(binding, 'rate-limited', `more than ${TELEOP_LIMITS.eventsPerSecond} events/s`);
      return;
    }
    const parsed = parseViewerEvent(typeof raw === 'string' ? raw : new Uint8Array(raw));
    if (!parsed.ok) {
      binding.counters.messagesRejected += 1;
      this.#notice(binding, parsed.error.code, parsed.error.message);
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'hello': {
        if (binding.client !== undefined && binding.client !== message.client) {
          // A session's page does not change; a second identity would let it borrow a lease.
          binding.counters.messagesRejected += 1;
          this.#notice(binding, 'bad-message', 'hello may not change the client id');
          return;
        }
        binding.client = message.client;
        binding.name = message.name;
        const owner = this.#lease.owner;
        if (owner?.client === message.client) {
          // The driver's page opened another session (a tile replaced its session).
          this.#lease.acquire({ ...owner, viewerId: binding.session.viewerId });
        }
        this.#sendEvent(binding, this.#leaseMessage(binding));
        return;
      }
      case 'lease-request':
        this.#requestLease(binding, message.token);
        return;
      case 'lease-release':
        if (binding.client !== undefined && this.#lease.release(binding.client, 'released')) {
          this.#logger.info({ viewer: binding.session.viewerId }, 'control lease released');
        }
        return;
      case 'event':
        this.#events.viewerEvent({
          viewerId: binding.session.viewerId,
          sessionId: binding.session.id,
          data: message.data,
        });
        return;
    }
  }

  #requestLease(binding: Binding, token: string | undefined): void {
    const deny = (code: LeaseDeniedCode, message: string): void => {
      this.#logger.info({ viewer: binding.session.viewerId, code }, 'control lease denied');
      this.#sendEvent(binding, { type: 'lease-denied', code, message });
    };
    if (!this.#settings.enabled) {
      deny('disabled', 'this robot does not accept control');
      return;
    }
    if (binding.client === undefined) {
      deny('no-hello', 'say hello on the events channel first');
      return;
    }
    const expected = this.#settings.token;
    if (expected !== undefined && !tokensEqual(token, expected)) {
      deny('unauthorized', token === undefined ? 'a control token is required' : 'wrong control token');
      return;
    }
    const owner: LeaseOwner = {
      client: binding.client,
      name: binding.name ?? binding.session.viewerId,
      viewerId: binding.session.viewerId,
    };
    if (!this.#lease.acquire(owner)) {
      deny('held', `${this.#lease.owner?.name ?? 'another viewer'} is driving`);
      return;
    }
    // acquire() broadcast the change when the lease was free; a repeated request gets the state.
    this.#sendEvent(binding, this.#leaseMessage(binding));
  }

  // ---- lease events ------------------------------------------------------------------------------

  #onLeaseChanged(owner: LeaseOwner | undefined): void {
    if (owner !== undefined)
      this.#logger.info({ viewer: owner.viewerId, name: owner.name }, 'control lease taken');
    for (const binding of this.#bindings.values()) this.#sendEvent(binding, this.#leaseMessage(binding));
    this.#events.lease(this.lease);
  }

  #onStop(reason: StopReason, owner: LeaseOwner, idleMs: number): void {
    this.#logger.info({ reason, viewer: owner.viewerId, idleMs }, 'robot told to stop');
    for (const binding of this.#bindings.values()) {
      if (binding.client === owner.client) this.#sendEvent(binding, { type: 'stop', reason });
    }
    this.#events.stop({ reason, viewerId: owner.viewerId, idleMs });
  }

  #leaseMessage(binding: Binding): SenderEvent {
    const owner = this.#lease.owner;
    return {
      type: 'lease',
      holder:
        owner === undefined
          ? null
          : {
              name: owner.name,
              viewer: owner.viewerId,
              you: binding.client === owner.client,
              since: this.#lease.since,
            },
      tokenRequired: this.#settings.token !== undefined,
    };
  }

  // ---- sending -----------------------------------------------------------------------------------

  #notice(binding: Binding, code: string, message: string): void {
    const now = performance.now();
    if (now - binding.lastErrorNoticeAt < ERROR_NOTICE_INTERVAL_MS) return;
    binding.lastErrorNoticeAt = now;
    this.#logger.debug({ session: binding.session.id, code }, 'data channel message rejected');
    this.#sendEvent(binding, { type: 'error', code, message: message.slice(0, 256) });
  }

  #sendEvent(binding: Binding, event: SenderEvent): void {
    this.#sendText(binding.events, JSON.stringify(event));
  }

  /** Sends on an open channel; a channel closing underneath is the session ending, not an error. */
  #sendText(channel: RTCDataChannel | undefined, text: string): boolean {
    if (channel?.readyState !== 'open') return false;
    try {
      channel.send(text);
      return true;
    } catch (error) {
      this.#logger.debug({ err: errorMessage(error) }, 'data channel send failed');
      return false;
    }
  }
}

function addCounters(into: ControlCounters, from: ControlCounters): void {
  for (const key of Object.keys(into) as (keyof ControlCounters)[]) into[key] += from[key];
}
