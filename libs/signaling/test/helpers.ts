import {
  encodeMessage,
  parseServerMessage,
  PROTOCOL_VERSION,
  type CameraInfo,
  type ClientMessage,
  type ServerMessage,
} from '@robocam/protocol';
import WebSocket from 'ws';

export const camera: CameraInfo = {
  id: 'front',
  label: 'Front',
  width: 640,
  height: 480,
  fps: 30,
  codec: 'vp8',
  status: 'idle',
};

/** A raw test peer over a real WebSocket: sends anything, records everything it receives. */
export class TestPeer {
  readonly received: ServerMessage[] = [];
  readonly socket: WebSocket;
  closeEvent: { code: number; reason: string } | undefined;
  #waiters: { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  #closeWaiters: ((e: { code: number; reason: string }) => void)[] = [];

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.socket = new WebSocket(url, options);
    this.socket.on('message', (data) => {
      const parsed = parseServerMessage((data as Buffer).toString('utf8'));
      if (!parsed.ok) throw new Error(`server sent invalid message: ${parsed.error.message}`);
      this.received.push(parsed.message);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(parsed.message)) return true;
        w.resolve(parsed.message);
        return false;
      });
    });
    this.socket.on('close', (code, reason) => {
      this.closeEvent = { code, reason: reason.toString() };
      for (const w of this.#closeWaiters) w(this.closeEvent);
    });
    this.socket.on('error', () => undefined);
  }

  static async open(url: string, options?: WebSocket.ClientOptions): Promise<TestPeer> {
    const peer = new TestPeer(url, options);
    await new Promise<void>((resolve, reject) => {
      peer.socket.once('open', () => resolve());
      peer.socket.once('error', reject);
    });
    return peer;
  }

  /** Opens and registers; resolves with the assigned peer id. */
  static async register(
    url: string,
    role: 'viewer' | 'sender',
    extra: { token?: string; cameras?: CameraInfo[]; name?: string } = {},
  ): Promise<TestPeer & { id: string }> {
    const peer = await TestPeer.open(url);
    peer.send({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      role,
      name: extra.name ?? role,
      ...(extra.token === undefined ? {} : { token: extra.token }),
      ...(role === 'sender' ? { cameras: extra.cameras ?? [camera] } : {}),
    });
    const welcome = await peer.next('welcome');
    return Object.assign(peer, { id: welcome.peerId });
  }

  send(message: ClientMessage | Record<string, unknown>): void {
    this.socket.send(encodeMessage(message as ClientMessage));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  /** The next message of `type` (already received ones count if not yet consumed by next()). */
  next<T extends ServerMessage['type']>(
    type: T,
    timeoutMs = 3000,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const index = this.received.findIndex((m) => m.type === type);
    if (index >= 0) {
      const [message] = this.received.splice(index, 1);
      return Promise.resolve(message as Extract<ServerMessage, { type: T }>);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        match: (m) => m.type === type,
        resolve: (m) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m as Extract<ServerMessage, { type: T }>);
        },
      });
    });
  }

  closed(timeoutMs = 3000): Promise<{ code: number; reason: string }> {
    if (this.closeEvent !== undefined) return Promise.resolve(this.closeEvent);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs);
      this.#closeWaiters.push((e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
  }

  /** Proves the connection still works: a server ping round-trip. */
  async assertAlive(): Promise<void> {
    this.send({ type: 'ping', id: `alive-${Math.random()}`, t0: Date.now() });
    await this.next('pong');
  }

  close(): void {
    this.socket.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
