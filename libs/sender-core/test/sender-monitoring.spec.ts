import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Sender, SenderMetrics, SenderMonitoring } from '../src/index.js';
import { decodeJpeg } from './support/jpeg-decode.js';
import { parsePrometheus, sampleValue } from './support/prometheus.js';

// SenderMonitoring inside a plain Node HTTP server that answers 418 for whatever it leaves alone:
// a real sender on the test pattern (not registered anywhere: monitoring does not need signaling).

let sender: Sender | undefined;
let metrics: SenderMetrics | undefined;
let server: Server | undefined;
afterEach(async () => {
  server?.close();
  server = undefined;
  metrics?.close();
  await sender?.close();
  sender = undefined;
});

async function serve(token?: string): Promise<{ url: string; monitoring: SenderMonitoring }> {
  sender = new Sender({
    signalingUrl: 'ws://127.0.0.1:9/unused',
    cameras: [{ type: 'testpattern', id: 'front', width: 320, height: 240 }],
  });
  metrics = new SenderMetrics(sender, { processMetrics: false });
  const monitoring = new SenderMonitoring(sender, {
    metrics,
    realm: 'test-robot',
    ...(token === undefined ? {} : { token }),
  });
  server = createServer((request, response) => {
    if (!monitoring.handle(request, response)) response.writeHead(418).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, monitoring };
}

describe('SenderMonitoring', () => {
  it('answers /stats, /metrics and snapshots, and leaves other paths and methods alone', async () => {
    const { url } = await serve();
    const metricsResponse = await fetch(`${url}/metrics`);
    expect(metricsResponse.status).toBe(200);
    expect(metricsResponse.headers.get('cache-control')).toBe('no-store');
    const samples = parsePrometheus(await metricsResponse.text());
    expect(sampleValue(samples, 'robocam_signaling_connected')).toBe(0);
    expect(sampleValue(samples, 'robocam_camera_state', { camera: 'front', state: 'idle' })).toBe(1);
    const stats = (await (await fetch(`${url}/stats`)).json()) as { cameras: { id: string }[] };
    expect(stats.cameras.map((camera) => camera.id)).toEqual(['front']);

    const snapshot = await fetch(`${url}/cameras/front/snapshot.jpg?width=64`);
    expect(snapshot.status).toBe(200);
    expect(snapshot.headers.get('content-type')).toBe('image/jpeg');
    const picture = await decodeJpeg(Buffer.from(await snapshot.arrayBuffer()));
    expect([picture.width, picture.height]).toEqual([64, 48]);
    expect((await fetch(`${url}/cameras/rear/snapshot.jpg`)).status).toBe(404);
    expect((await fetch(`${url}/cameras/%E0%A4%A/snapshot.jpg`)).status).toBe(404);
    expect((await fetch(`${url}/cameras/front/snapshot.jpg?width=-1`)).status).toBe(400);

    expect((await fetch(`${url}/healthz`)).status).toBe(418);
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(418);
  });

  it('asks for the token, as Bearer or ?token=, with its realm', async () => {
    const { url, monitoring } = await serve('s3cret');
    for (const path of ['/stats', '/metrics', '/cameras/front/snapshot.jpg']) {
      const refused = await fetch(`${url}${path}`);
      expect({ path, status: refused.status }).toEqual({ path, status: 401 });
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="test-robot"');
      expect(await refused.json()).toEqual({ error: 'token required' });
      const wrong = await fetch(`${url}${path}?token=nope`);
      expect({ path, status: wrong.status }).toEqual({ path, status: 401 });
    }
    expect((await fetch(`${url}/stats`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await fetch(`${url}/metrics?token=s3cret`)).status).toBe(200);
    // Paths it does not serve are not its to refuse.
    expect((await fetch(`${url}/healthz`)).status).toBe(418);
    expect(monitoring.unauthorized.headers).toEqual({ 'www-authenticate': 'Bearer realm="test-robot"' });
  });
});
