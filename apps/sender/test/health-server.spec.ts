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
    health = await startHealthServer(sender, { port: 0 });
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

describe('health server protection', () => {
  it('asks for the token on /stats, /metrics and snapshots, never on /healthz', async () => {
    server = await createSignalingServer({ port: 0, host: '127.0.0.1' });
    sender = new Sender({
      signalingUrl: server.url,
      cameras: [{ type: 'testpattern', id: 'front', width: 320, height: 240 }],
    });
    await sender.start();
    health = await startHealthServer(sender, { port: 0, token: 's3cret' });
    expect(health.address()).toMatchObject({ address: '127.0.0.1' }); // the default host
    const url = `http://127.0.0.1:${health.port}`;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    for (const path of ['/stats', '/metrics', '/cameras/front/snapshot.jpg']) {
      const refused = await fetch(`${url}${path}`);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await fetch(`${url}${path}`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(`${url}${path}?token=wrong`)).status).toBe(401);
    }
    const metrics = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer s3cret' } });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await metrics.text();
    expect(text).toMatch(/^robocam_signaling_connected 1$/m);
    expect(text).toMatch(/^robocam_camera_state\{camera="front",state="idle"\} 1$/m);
    expect(text).toMatch(/^robocam_sender_process_cpu_seconds_total /m);
    expect((await fetch(`${url}/stats?token=s3cret`)).status).toBe(200);

    const snapshot = await fetch(`${url}/cameras/front/snapshot.jpg?width=160&token=s3cret`);
    expect(snapshot.status).toBe(200);
    expect(snapshot.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await snapshot.arrayBuffer());
    expect([jpeg[0], jpeg[1], jpeg.at(-2), jpeg.at(-1)]).toEqual([0xff, 0xd8, 0xff, 0xd9]); // SOI … EOI
    expect((await fetch(`${url}/cameras/rear/snapshot.jpg?token=s3cret`)).status).toBe(404);
    expect((await fetch(`${url}/cameras/front/snapshot.jpg?width=big&token=s3cret`)).status).toBe(400);
    expect((await fetch(`${url}/cameras/%E0%A4%A/snapshot.jpg?token=s3cret`)).status).toBe(404);
  });
});
