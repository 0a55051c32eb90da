/**
 * WHIP's HTTP rules against Janus, through a front server of the test's own: a 503 with
 * Retry-After, then a 307 redirect to the real endpoint (whose 201 carries a relative Location);
 * a 404 that must not be retried. Uses @robocam/sender as an embedder would.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Sender, type Logger, type PublicationState } from '@robocam/sender';
import { waitFor } from '../support/processes.js';
import { startJanus, type JanusRig } from '../support/janus.js';

let rig: JanusRig | undefined;
let front: Server | undefined;
const senders: Sender[] = [];

/** Log lines as `msg` strings, to check what the publication said. */
function recordingLogger(lines: string[]): Logger {
  const record = (_fields: object, msg?: string): void => {
    if (msg !== undefined) lines.push(msg);
  };
  const logger: Logger = {
    debug: record,
    info: record,
    warn: record,
    error: record,
    child: () => logger,
  };
  return logger;
}

/** A front server answering each request with `respond`; resolves with its URL. */
async function startFront(
  respond: (request: IncomingMessage, index: number) => { status: number; headers?: Record<string, string> },
): Promise<{ url: string; requests: { method: string; atMs: number }[] }> {
  const requests: { method: string; atMs: number }[] = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const index = requests.length;
      requests.push({ method: request.method ?? '', atMs: performance.now() });
      const { status, headers = {} } = respond(request, index);
      response.writeHead(status, headers);
      response.end(status >= 400 ? 'no' : '');
    });
  });
  front = server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/whip/front`, requests };
}

function newSender(lines: string[]): Sender {
  const sender = new Sender({
    signalingUrl: 'ws://127.0.0.1:9',
    cameras: [{ type: 'testpattern', width: 320, height: 180, fps: 15 }],
    logger: recordingLogger(lines),
  });
  senders.push(sender);
  return sender;
}

afterEach(async () => {
  await Promise.all(senders.splice(0).map((sender) => sender.close()));
  await new Promise((resolve) => front?.close(resolve) ?? resolve(undefined));
  front = undefined;
});

afterAll(async () => {
  await rig?.stop();
});

describe('WHIP over HTTP', () => {
  it('waits out a 503 Retry-After, follows a 307, resolves a relative Location against the endpoint that answered', async () => {
    rig = await startJanus(['cam1']);
    const janusUrl = rig.urls.get('cam1') ?? '';
    const { url, requests } = await startFront(
      (_request, index): { status: number; headers: Record<string, string> } =>
        index === 0
          ? { status: 503, headers: { 'retry-after': '2' } }
          : { status: 307, headers: { location: janusUrl } },
    );
    const lines: string[] = [];
    const publication = newSender(lines).publish('testpattern', { url });
    const states: { state: PublicationState; code: string | undefined }[] = [];
    publication.on('state', (state, error) => states.push({ state, code: error?.code }));
    await waitFor(() => publication.state === 'connected', 30_000, 'the publication to connect');
    expect(states).toEqual([
      { state: 'reconnecting', code: 'whip-server-error' },
      { state: 'connected', code: undefined },
    ]);
    expect(requests.map((request) => request.method)).toEqual(['POST', 'POST']);
    // The server's Retry-After (2 s) wins over the first backoff delay (0.5–1 s).
    expect((requests[1]?.atMs ?? 0) - (requests[0]?.atMs ?? 0)).toBeGreaterThanOrEqual(2000);
    expect(publication.stats()).toMatchObject({ attempts: 2, sessionsConnected: 1, state: 'connected' });
    expect(rig.postsTo('cam1')).toBe(1);

    // The session lives at Janus (`Location: /whip/resource/cam1` relative to Janus's URL), not at
    // the front server: close() DELETEs it there and the endpoint takes a new publisher.
    await publication.close();
    expect(publication.state).toBe('closed');
    expect(requests).toHaveLength(2);
    expect(lines).toContain('whip session deleted');
    const again = newSender([]).publish('testpattern', { url: janusUrl });
    await waitFor(() => again.state === 'connected', 30_000, 'a second publisher on the freed endpoint');
    expect(rig.postsTo('cam1')).toBe(2);
  });

  it('a 404 fails with whip-rejected after one POST', async () => {
    const { url, requests } = await startFront(() => ({ status: 404 }));
    const lines: string[] = [];
    const publication = newSender(lines).publish('testpattern', { url });
    await waitFor(() => publication.state === 'failed', 30_000, 'the publication to fail');
    expect(publication.lastError).toMatchObject({ code: 'whip-rejected' });
    expect(publication.lastError?.message).toMatch(/HTTP 404/);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(requests).toHaveLength(1);
    expect(lines).toContain('whip publication failed: not retrying');
    expect((await senders[0]?.stats())?.publications).toEqual([
      expect.objectContaining({ state: 'failed', attempts: 1, bitrateKbps: 0 }),
    ]);
  });
});
