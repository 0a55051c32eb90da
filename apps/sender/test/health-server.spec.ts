import { afterEach, describe, expect, it } from '@jest/globals';
import { Sender } from '@robocam/sender';
import { createSignalingServer, type SignalingServer } from '@robocam/signaling';
import { startHealthServer } from '../src/index.js';

let sender: Sender | undefined;
let server: SignalingServer | undefined;
let health: Awaited<ReturnType<typeof startHealthServer>> | undefined;
afterEach(async () => {
  await sender?.close();
  await server?.close();
  if (health !== undefined) await new Promise((resolve) => health?.close(resolve));
});

describe('health server', () => {
  it('is unhealthy until registered, then healthy with stats', async () => {
    server = await createSignalingServer({ port: 0, host: '127.0.0.1' });
    sender = new Sender({
      signalingUrl: server.url,
      cameras: [{ type: 'testpattern', width: 320, height: 240 }],
    });
    health = await startHealthServer(sender, 0, '127.0.0.1');
    const url = `http://127.0.0.1:${health.port}`;
    const before = await fetch(`${url}/healthz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({ status: 'not registered', signaling: 'idle' });
    await sender.start();
    const after = await fetch(`${url}/healthz`);
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({
      status: 'ok',
      sessions: 0,
      cameras: [{ id: 'testpattern', status: 'idle' }],
    });
    const stats = (await (await fetch(`${url}/stats`)).json()) as {
      cameras: { id: string; running: boolean }[];
    };
    expect(stats.cameras).toMatchObject([{ id: 'testpattern', running: false }]);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/healthz`, { method: 'POST' })).status).toBe(405);
  });
});
