import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SenderMetrics, SenderMonitoring, type Sender } from '@robocam/sender';

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

/**
 * A small HTTP endpoint for container health checks and operators: `GET /healthz` answers 200
 * while the sender is registered with the signaling server (503 otherwise); `GET /stats` returns
 * every counter as JSON, `GET /metrics` the same as Prometheus text, and
 * `GET /cameras/<id>/snapshot.jpg[?width=N]` a camera's latest frame (all three: `SenderMonitoring`).
 * All but `/healthz` answer 401 without the token when one is set. Closing the server stops its
 * metrics collectors.
 */
export async function startHealthServer(
  sender: Sender,
  { port, host = '127.0.0.1', token }: HealthServerSettings,
): Promise<Server & { port: number }> {
  const metrics = new SenderMetrics(sender);
  const monitoring = new SenderMonitoring(sender, { metrics, ...(token === undefined ? {} : { token }) });
  const server = createServer((request, response) => {
    const reply = (status: number, body: unknown): void => {
      response.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
      });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET') {
      reply(405, { error: 'method not allowed' });
      return;
    }
    if (new URL(request.url ?? '/', 'http://health').pathname === '/healthz') {
      const registered = sender.signalingState === 'open';
      reply(registered ? 200 : 503, {
        status: registered ? 'ok' : 'not registered',
        signaling: sender.signalingState,
        sessions: sender.sessions.size,
        cameras: [...sender.cameras.values()].map((camera) => camera.info),
      });
      return;
    }
    if (!monitoring.handle(request, response)) reply(404, { error: 'not found' });
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
