/**
 * The one lifecycle of robocam's long-lived objects (cameras, encoders, sessions, servers), after
 * mediasoup's: `close()` is idempotent and may be awaited, `closed` says whether it happened, and
 * who ended the object's life is a field, never a reason string to parse:
 *
 * - `local`: its own `close()` was called by its owner;
 * - `parent`: the object it belongs to closed and took it along (mediasoup's `routerClosed()`);
 * - `remote`: the other side ended it (a viewer's `bye`, a server's DELETE);
 * - `failure`: it failed (ICE/DTLS failure, timeout, device error).
 *
 * Calling a method other than `close()` on a closed object throws `InvalidStateError`.
 */
export type CloseOrigin = 'local' | 'parent' | 'remote' | 'failure';

/** Why an object closed: who (`origin`), a machine-readable `code`, and a human `message`. */
export interface CloseInfo<Code extends string = string> {
  readonly origin: CloseOrigin;
  readonly code: Code;
  readonly message: string;
}

/** What every long-lived object offers. */
export interface Closable {
  /** True from the first `close()` (or parent/remote/failure close) on. */
  readonly closed: boolean;
  /** Releases everything; idempotent; resolves when released. */
  close(): Promise<void>;
}

/**
 * The bookkeeping behind {@link Closable}: the first `close(info, teardown)` records `info` and
 * runs `teardown`; every later call returns the first call's promise and keeps the first `info`.
 */
export class CloseOnce<Code extends string = string> {
  #info: CloseInfo<Code> | undefined;
  #done: Promise<void> | undefined;

  /** True once {@link close} has been called. */
  get closed(): boolean {
    return this.#info !== undefined;
  }

  /** Why it closed; undefined while open. */
  get info(): CloseInfo<Code> | undefined {
    return this.#info;
  }

  /**
   * Closes with `info` unless already closed. `teardown` runs once; a teardown that throws rejects
   * the returned promise but the object stays closed.
   */
  close(info: CloseInfo<Code>, teardown: () => Promise<void> | void): Promise<void> {
    if (this.#done !== undefined) return this.#done;
    this.#info = info;
    this.#done = (async () => {
      await teardown();
    })();
    return this.#done;
  }
}
