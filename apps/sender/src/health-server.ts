import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sender } from '@robocam/sender';

/**
 * A small HTTP endpoint for container health checks and operators: `GET /healthz` answers 200
 * while the sender is registered with the signaling server (503 otherwise), `GET /stats` returns
 * every counter as JSON.
 */
export async function startHealthServer(
  sender: Sender,
  port: number,
  host = '::',
): Promise<Server & { port: number }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const reply = (status: number, body: unknown): void => {
      response.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
      });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET') {
      reply(405, { error: 'method not allowed' });
    } else if (path === '/healthz') {
      const registered = sender.signalingState === 'open';
      reply(registered ? 200 : 503, {
        status: registered ? 'ok' : 'not registered',
        signaling: sender.signalingState,
        sessions: sender.sessions.size,
        cameras: [...sender.cameras.values()].map((camera) => camera.info),
      });
    } else if (path === '/stats') {
      sender.stats().then(
        (stats) => {
          reply(200, stats);
        },
        (error: unknown) => {
          reply(500, { error: String(error) });
        },
      );
    } else {
      reply(404, { error: 'not found' });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve();
    });
  });
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}
