import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createSignalingServer, type SignalingServer } from '@robocam/signaling';
import { PROTOCOL_VERSION, type ClientMessage } from '@robocam/protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import { Sender, type SenderSession, type SessionCloseInfo } from '../src/index.js';
import { WeriftViewer } from './support/werift-viewer.js';

// Every bye the sender sends carries the protocol's machine-readable code. Run inside
// ../shared/netns/run-isolated.sh (npm test does).

let sender: Sender | undefined;
const viewers: WeriftViewer[] = [];
afterEach(async () => {
  await Promise.all(viewers.splice(0).map((viewer) => viewer.close()));
  await sender?.close();
  sender = undefined;
});

function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (predicate()) resolve();
      else if (performance.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

/**
 * The real signaling server already refuses offers for cameras a sender did not announce, so an
 * offer the sender itself must refuse is delivered by this protocol-speaking stand-in: it welcomes
 * the sender, hands it the given offers and records what the sender sends back.
 */
class OfferingServer {
  readonly received: ClientMessage[] = [];
  readonly #wss: WebSocketServer;
  readonly #sockets = new Set<WebSocket>();

  private constructor(wss: WebSocketServer, offers: object[]) {
    this.#wss = wss;
    wss.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString('utf8')) as ClientMessage;
        this.received.push(message);
        if (message.type !== 'hello') return;
        socket.send(
          JSON.stringify({
            type: 'welcome',
            ...(message.id === undefined ? {} : { ref: message.id }),
            protocol: PROTOCOL_VERSION,
            peerId: 'sender-1',
            role: 'sender',
            senders: [],
            heartbeatMs: 30_000,
            serverTime: Date.now(),
          }),
        );
        for (const offer of offers)
          socket.send(JSON.stringify({ type: 'offer', from: 'viewer-1', ...offer }));
      });
    });
  }

  static async start(offers: object[]): Promise<OfferingServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    return new OfferingServer(wss, offers);
  }

  get url(): string {
    const address = this.#wss.address();
    if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
    return `ws://127.0.0.1:${address.port}`;
  }

  byes(): Extract<ClientMessage, { type: 'bye' }>[] {
    return this.received.filter((message) => message.type === 'bye');
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.terminate();
    await new Promise((resolve) => this.#wss.close(resolve));
  }
}

describe('refused offers', () => {
  it('answers an offer for a camera it does not have with an unknown-camera bye', async () => {
    const server = await OfferingServer.start([
      { session: 'session-unknown-1', cameras: ['nope'], sdp: 'v=0\r\n' },
    ]);
    try {
      sender = new Sender({
        signalingUrl: server.url,
        cameras: [{ type: 'testpattern', width: 320, height: 240 }],
      });
      await sender.start();
      await waitFor(() => server.byes().length > 0, 5000, 'a bye');
      expect(server.byes()).toEqual([
        expect.objectContaining({ type: 'bye', session: 'session-unknown-1', code: 'unknown-camera' }),
      ]);
      expect(sender.sessions.size).toBe(0);
      expect(sender.cameras.get('testpattern')!.running).toBe(false);
    } finally {
      await sender?.close();
      await server.close();
    }
  });

  it('refuses a viewer beyond maxSessions with a too-many-viewers bye', async () => {
    const server = await OfferingServer.start([
      { session: 'session-full-1', cameras: ['testpattern'], sdp: 'v=0\r\n' },
    ]);
    try {
      sender = new Sender({
        signalingUrl: server.url,
        cameras: [{ type: 'testpattern', width: 320, height: 240 }],
        maxSessions: 0,
      });
      await sender.start();
      await waitFor(() => server.byes().length > 0, 5000, 'a bye');
      expect(server.byes()).toEqual([
        expect.objectContaining({ session: 'session-full-1', code: 'too-many-viewers' }),
      ]);
    } finally {
      await sender?.close();
      await server.close();
    }
  });

  it('closes a session whose camera cannot start with a camera-failed bye (failure origin)', async () => {
    const server = await OfferingServer.start([
      { session: 'session-vaapi-1', cameras: ['testpattern'], sdp: 'v=0\r\n' },
    ]);
    try {
      // No VAAPI device here: the encoder cannot open.
      sender = new Sender({
        signalingUrl: server.url,
        cameras: [{ type: 'testpattern', width: 320, height: 240 }],
        encoder: 'vaapi',
      });
      const closed = new Promise<SessionCloseInfo>((resolve) => {
        sender!.once('session-closed', (_session, info) => resolve(info));
      });
      await sender.start();
      expect(await closed).toMatchObject({ origin: 'failure', code: 'camera-failed' });
      await waitFor(() => server.byes().length > 0, 5000, 'a bye');
      expect(server.byes()).toEqual([
        expect.objectContaining({ session: 'session-vaapi-1', code: 'camera-failed' }),
      ]);
      const camera = sender.cameras.get('testpattern')!;
      expect(camera.running).toBe(false);
      expect(camera.info.status).toBe('idle');
      expect(camera.source.status).toBe('idle');
    } finally {
      await sender?.close();
      await server.close();
    }
  });
});

describe('byes through the real signaling server', () => {
  let server: SignalingServer;
  beforeAll(async () => {
    server = await createSignalingServer({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers an offer without a common codec with a no-common-codec bye', async () => {
    sender = new Sender({
      signalingUrl: server.url,
      codec: 'vp8',
      cameras: [{ type: 'testpattern', width: 320, height: 240 }],
    });
    await sender.start();
    const viewer = await WeriftViewer.connect(server.url);
    viewers.push(viewer);
    // The viewer offers H.264 only; the sender sends VP8.
    await expect(viewer.watch(await viewer.senderId(), ['testpattern'], 'h264')).rejects.toThrow(
      /sender refused/,
    );
    expect(viewer.byes).toEqual([
      expect.objectContaining({ session: viewer.session, code: 'no-common-codec' }),
    ]);
  });

  it('tells who closed a session: the viewer’s bye is remote, shutting down is parent', async () => {
    sender = new Sender({
      signalingUrl: server.url,
      cameras: [{ type: 'testpattern', width: 320, height: 240 }],
    });
    await sender.start();
    const s = sender;
    const closes: [SenderSession, SessionCloseInfo][] = [];
    s.on('session-closed', (session, info) => closes.push([session, info]));

    const leaving = await WeriftViewer.connect(server.url);
    try {
      await leaving.watch(await leaving.senderId(), ['testpattern'], 'vp8');
      // Media flowing means both ends finished DTLS (closing mid-handshake leaves werift retrying).
      await waitFor(() => leaving.tracks[0]!.frames.length > 0, 5000, 'frames');
    } finally {
      await leaving.close(); // sends a bye
    }
    await waitFor(() => closes.length === 1, 5000, 'the session to close');
    expect(closes[0]![1]).toMatchObject({ origin: 'remote', code: 'closed' });
    expect(closes[0]![0].closeInfo).toEqual(closes[0]![1]);

    const staying = await WeriftViewer.connect(server.url);
    viewers.push(staying);
    await staying.watch(await staying.senderId(), ['testpattern'], 'vp8');
    await waitFor(() => staying.tracks[0]!.frames.length > 0, 5000, 'frames');
    await s.close();
    expect(closes[1]![1]).toMatchObject({ origin: 'parent', code: 'shutting-down' });
    await waitFor(() => staying.byes.length > 0, 5000, 'the shutdown bye');
    expect(staying.byes).toEqual([
      expect.objectContaining({ session: staying.session, code: 'shutting-down' }),
    ]);
    expect(s.cameras.get('testpattern')!.closed).toBe(true);
  });
});
