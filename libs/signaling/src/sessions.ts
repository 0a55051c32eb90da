import type { CameraInfo } from '@robocam/protocol';
import type { Peer, PeerTransport } from './peer.js';

/** A peer as the router keeps it: what others may see, plus its transport. */
export interface RouterPeer extends Peer {
  cameras: CameraInfo[];
  readonly sessions: Set<string>;
  readonly transport: PeerTransport;
}

/** One viewer-sender session: its two parties are the only peers that may use its id. */
export interface Session {
  readonly id: string;
  readonly viewer: RouterPeer;
  readonly sender: RouterPeer;
}

/** The open sessions, kept in step with each party's own `sessions` set. */
export class SessionTable {
  readonly #sessions = new Map<string, Session>();
  readonly #changed: (count: number) => void;

  /** `changed` is told the number of open sessions after each open and end. */
  constructor(changed: (count: number) => void) {
    this.#changed = changed;
  }

  /** Sessions open right now. */
  get size(): number {
    return this.#sessions.size;
  }

  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  /**
   * The session if `peer` is one of its parties. Unknown sessions and other peers' sessions look
   * alike (undefined), so a peer cannot probe for other peers' session ids.
   */
  of(peer: RouterPeer, id: string): Session | undefined {
    const session = this.#sessions.get(id);
    return session !== undefined && (session.viewer === peer || session.sender === peer)
      ? session
      : undefined;
  }

  open(id: string, viewer: RouterPeer, sender: RouterPeer): Session {
    const session: Session = { id, viewer, sender };
    this.#sessions.set(id, session);
    viewer.sessions.add(id);
    sender.sessions.add(id);
    this.#changed(this.#sessions.size);
    return session;
  }

  end(session: Session): void {
    this.#sessions.delete(session.id);
    session.viewer.sessions.delete(session.id);
    session.sender.sessions.delete(session.id);
    this.#changed(this.#sessions.size);
  }
}

/** The party of `session` that is not `peer`. */
export function otherParty(session: Session, peer: RouterPeer): RouterPeer {
  return session.viewer === peer ? session.sender : session.viewer;
}
