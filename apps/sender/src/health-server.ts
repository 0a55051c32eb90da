import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CameraSnapshots, CameraUnavailableError, SenderMetrics, type Sender } from '@robocam/sender';
import { tokensEqual } from '@robocam/service';

export interface HealthServerSettings {
  /** TCP port; 0 lets the OS choose (see the returned `port`). Required. */
  port: number;
  /**
   * Address to listen on. Default `127.0.0.1`: only this machine (and containers on its network)
   * reach it; `0.0.0.0` or `::` for a Prometheus elsewhere, best with a {@link token}.
   */
  host?: string;
  /**
   * Token `/stats`, `/metrics` and the snapshots ask for: `Authorization: Bearer <token>` or
   * `?token=<token>`. Default: none asked. `/healthz` never asks (container health checks).
   */
  token?: string;
}

const SNAPSHOT_PATH = /^\/cameras\/([^/]+)\/snapshot\.jpg$/;

/**
 * A small HTTP endpoint for container health checks and operators: `GET /healthz` answers 200
 * while the sender is registered with the signaling server (503 otherwise); `GET /stats` returns
 * every counter as JSON, `GET /metrics` the same as Prometheus text, and
 * `GET /cameras/<id>/snapshot.jpg[?width=N]` a camera's latest frame. All but `/healthz` answer
 * 401 without the token when one is set. Closing the server stops its metrics collectors.
 */
export async function startHealthServer(
  sender: Sender,
  { port, host = '127.0.0.1', token }: HealthServerSettings,
): Promise<Server & { port: number }> {
  const metrics = new SenderMetrics(sender);
  const snapshots = new CameraSnapshots(sender.cameras);
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://health');
    const path = url.pathname;
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      response.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        ...headers,
      });
      response.end(JSON.stringify(body));
    };
    const fail = (error: unknown): void => {
      if (!response.headersSent) reply(500, { error: String(error) });
      else response.destroy();
    };
    if (request.method !== 'GET') {
      reply(405, { error: 'method not allowed' });
      return;
    }
    if (path === '/healthz') {
      const registered = sender.signalingState === 'open';
      reply(registered ? 200 : 503, {
        status: registered ? 'ok' : 'not registered',
        signaling: sender.signalingState,
        sessions: sender.sessions.size,
        cameras: [...sender.cameras.values()].map((camera) => camera.info),
      });
      return;
    }
    const snapshot = SNAPSHOT_PATH.exec(path);
    if (path !== '/stats' && path !== '/metrics' && snapshot === null) {
      reply(404, { error: 'not found' });
      return;
    }
    if (token !== undefined && !tokensEqual(givenToken(request, url), token)) {
      reply(401, { error: 'token required' }, { 'www-authenticate': 'Bearer realm="robocam-sender"' });
      return;
    }
    if (path === '/stats') {
      sender.stats().then((stats) => {
        reply(200, stats);
      }, fail);
    } else if (path === '/metrics') {
      metrics.metrics().then((text) => {
        response.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        response.end(text);
      }, fail);
    } else if (snapshot !== null) {
      const id = safeDecode(snapshot[1] ?? '');
      const width = url.searchParams.get('width');
      if (width !== null && !/^\d{1,5}$/.test(width)) {
        reply(400, { error: 'width must be a whole number of pixels' });
        return;
      }
      if (!snapshots.has(id)) {
        reply(404, { error: 'no such camera' });
        return;
      }
      snapshots.jpeg(id, width === null ? {} : { width: Math.max(16, Number(width)) }).then(
        (jpeg) => {
          response.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'no-store' });
          response.end(jpeg);
        },
        (error: unknown) => {
          if (error instanceof CameraUnavailableError) reply(503, { error: error.message });
          else fail(error);
        },
      );
    }
  });
  server.on('close', () => {
    metrics.close();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve();
    });
  });
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}

/** The token of `Authorization: Bearer <token>`, else of `?token=`; undefined when neither. */
function givenToken(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers.authorization;
  const bearer = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  return bearer ?? url.searchParams.get('token') ?? undefined;
}

/** A path segment decoded; a malformed escape gives no camera id. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}
