import type { CameraInfo, ClientMessage, ErrorCode, ServerMessage } from '@robocam/protocol';

/** A registered party's role. */
export type PeerRole = 'viewer' | 'sender';

/**
 * How the router reaches one party: a WebSocket connection, a WHEP session, or a plain object in a
 * test. The router never touches sockets or timers; it only calls these two methods.
 */
export interface PeerTransport {
  /** Where the party is, for logs (e.g. `203.0.113.7:50412`). */
  readonly remote: string;
  /** Delivers one message to the party. Must not throw; a closed transport drops it. */
  send(message: ServerMessage): void;
  /** Ends the party's transport; used when a hello carries a wrong token (4001 `unauthorized`). */
  close(code: number, reason: string): void;
}

/** A registered viewer or sender, as other code may inspect it. */
export interface Peer {
  readonly id: string;
  readonly role: PeerRole;
  readonly name: string;
  readonly remote: string;
  /** The sender's cameras as last announced (empty for viewers). */
  readonly cameras: readonly CameraInfo[];
  /** Ids of the sessions this peer is a party of. */
  readonly sessions: ReadonlySet<string>;
}

/** One party attached to the router: feed it the party's messages, tell it when the party leaves. */
export interface PeerLink {
  /** The registered peer, or undefined until a valid `hello` arrives. */
  readonly peer: Peer | undefined;
  /** Handles one message from the party (already parsed and validated). Never throws. */
  receive(message: ClientMessage): void;
  /**
   * The party is gone: ends its sessions (the other party of each gets a `bye`), and for a sender
   * tells every viewer it is offline. Idempotent. `code` is the transport's close code, for logs.
   */
  leave(code: number): void;
  /**
   * Answers the party with an `error` (counted like every refusal): for a message the transport
   * could not parse. `message` is cut to 1024 characters.
   */
  reject(code: ErrorCode, message: string, ref?: string): void;
}

/** WebSocket close code the router asks for when a hello's token is refused. */
export const UNAUTHORIZED_CLOSE_CODE = 4001;
