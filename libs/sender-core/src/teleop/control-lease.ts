import type { StopReason } from '@robocam/protocol';

/** Timings of the control lease and its deadman; see {@link ControlSettings} for their meaning. */
export interface LeaseTimings {
  deadmanMs: number;
  leaseGraceMs: number;
}

/** Who holds the lease: one page (its `client` id, across its sessions). */
export interface LeaseOwner {
  /** The page's random id from its `hello`. */
  client: string;
  /** Shown to the other viewers. */
  name: string;
  /** The viewer (signaling peer id) that asked. */
  viewerId: string;
}

export interface LeaseEvents {
  /** The robot must stop (once per movement: after a stop, only a new command re-arms it). */
  stop(reason: StopReason, owner: LeaseOwner, idleMs: number): void;
  /** The lease changed hands (undefined: free). */
  changed(owner: LeaseOwner | undefined): void;
}

/**
 * The control lease of one sender and its deadman, as a state machine over a clock and timers.
 *
 * One page drives at a time. While it drives it sends commands at ≥ 10 Hz; when none is applied
 * for `deadmanMs` the robot is told to stop — once — and when none comes for `leaseGraceMs` more
 * the lease is released. A stop is raised only if the robot may be moving (a command was applied
 * since the last stop), so closing a driving tab yields exactly one stop whether the session's end
 * or the deadman notices first.
 */
export class ControlLease {
  readonly #timings: LeaseTimings;
  readonly #events: LeaseEvents;
  #owner: LeaseOwner | undefined;
  #since = 0;
  /** A command was applied since the lease began or the last stop. */
  #moving = false;
  /** The last applied command's sequence number (0: none yet). */
  #lastSeq = 0;
  #lastAppliedAt = 0;
  #deadmanTimer: ReturnType<typeof setTimeout> | undefined;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(timings: LeaseTimings, events: LeaseEvents) {
    this.#timings = timings;
    this.#events = events;
  }

  get owner(): LeaseOwner | undefined {
    return this.#owner;
  }

  /** When the lease was granted (ms since the epoch). */
  get since(): number {
    return this.#since;
  }

  /** The last applied command's sequence number of this lease (0: none). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Grants the lease to `owner` if it is free or already theirs; false if someone else holds it. */
  acquire(owner: LeaseOwner): boolean {
    if (this.#owner !== undefined) {
      if (this.#owner.client !== owner.client) return false;
      this.#owner = owner; // same page: a new session or name
      return true;
    }
    this.#owner = owner;
    this.#since = Date.now();
    this.#moving = false;
    this.#lastSeq = 0;
    this.#lastAppliedAt = performance.now();
    // A lease nobody drives with expires like an abandoned one.
    this.#armDeadman();
    this.#events.changed(owner);
    return true;
  }

  /**
   * Whether a command of `client` with `seq` may be applied: the holder's, and newer than every one
   * applied. Call {@link applied} when it is.
   */
  check(client: string, seq: number): 'ok' | 'no-lease' | 'out-of-order' {
    if (this.#owner?.client !== client) return 'no-lease';
    return seq > this.#lastSeq ? 'ok' : 'out-of-order';
  }

  /** A command of the holder was applied: the robot may move, the deadman restarts. */
  applied(seq: number): void {
    this.#lastSeq = seq;
    this.#moving = true;
    this.#lastAppliedAt = performance.now();
    this.#armDeadman();
  }

  /** Ends the lease of `client` (no-op if it does not hold it); stops the robot if it may be moving. */
  release(client: string, reason: StopReason): boolean {
    const owner = this.#owner;
    if (owner?.client !== client) return false;
    this.#clearTimers();
    this.#owner = undefined;
    if (this.#moving) {
      this.#moving = false;
      this.#events.stop(reason, owner, this.#idleMs());
    }
    this.#events.changed(undefined);
    return true;
  }

  /** Ends any lease (sender shutting down). */
  close(): void {
    if (this.#owner !== undefined) this.release(this.#owner.client, 'shutdown');
    this.#clearTimers();
  }

  #idleMs(): number {
    return Math.round(performance.now() - this.#lastAppliedAt);
  }

  #armDeadman(): void {
    this.#clearTimers();
    this.#deadmanTimer = setTimeout(() => {
      this.#deadmanTimer = undefined;
      const owner = this.#owner;
      if (owner === undefined) return;
      if (this.#moving) {
        this.#moving = false;
        this.#events.stop('deadman', owner, this.#idleMs());
      }
      this.#expiryTimer = setTimeout(() => {
        this.#expiryTimer = undefined;
        if (this.#owner?.client === owner.client) this.release(owner.client, 'expired');
      }, this.#timings.leaseGraceMs);
    }, this.#timings.deadmanMs);
  }

  #clearTimers(): void {
    clearTimeout(this.#deadmanTimer);
    clearTimeout(this.#expiryTimer);
    this.#deadmanTimer = undefined;
    this.#expiryTimer = undefined;
  }
}
