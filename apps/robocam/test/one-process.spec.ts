// The one-process server's monitoring (issue #16 "through the one-process server") and WHIP
// publishing (#14), against the real signaling server, sender and test pattern in this process;
// the page and playback in Chromium are apps/web/e2e/one-process.e2e.ts.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { silentLogger } from '@robocam/service';
import { decodeJpeg } from '../../../libs/sender-core/test/support/jpeg-decode.js';
import { parsePrometheus, sampleValue } from '../../../libs/sender-core/test/support/prometheus.js';
import { readOneProcessConfig, startOneProcess, type OneProcess } from '../src/one-process.js';

const TOKEN = 'm3trics';
const ENV = { PORT: '0', HOST: '127.0.0.1', CAMERAS: 'front=testpattern:320x240@15', LOG_LEVEL: 'silent' };

let robocam: OneProcess | undefined;
let whip: Server | undefined;
afterEach(async () => {
  await robocam?.close();
  robocam = undefined;
  whip?.closeAllConnections();
  whip?.close();
  whip = undefined;
});

async function start(env: NodeJS.ProcessEnv): Promise<string> {
  robocam = await startOneProcess(readOneProcessConfig(env), silentLogger);
  await robocam.started;
  return `http://127.0.0.1:${robocam.port}`;
}

const bearer = { authorization: `Bearer ${TOKEN}` };

describe('one-process configuration', () => {
  it('reads METRICS_TOKEN and the WHIP targets, and ignores the health port’s variables', () => {
    const config = readOneProcessConfig({
      ...ENV,
      CAMERAS: 'front=testpattern,rear=testpattern',
      METRICS_TOKEN: TOKEN,
      PUBLISH_WHIP: 'rear=http://janus.lan:7080/whip/endpoint/rear',
      PUBLISH_WHIP_TOKEN: 'whip-secret',
      HEALTH_PORT: 'not a port',
      HEALTH_HOST: '',
    });
    expect(config.metricsToken).toBe(TOKEN);
    expect(config.publish).toEqual([{ camera: 'rear', url: 'http://janus.lan:7080/whip/endpoint/rear' }]);
    expect(config.publishToken).toBe('whip-secret');
    const open = readOneProcessConfig(ENV);
    expect(open.metricsToken).toBeUndefined();
    expect(open.publish).toEqual([]);
  });
});

describe('one-process monitoring', () => {
  it('serves the signaling server’s and the sender’s metrics in one text, one set of process metrics', async () => {
    const url = await start(ENV);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    const samples = parsePrometheus(text);
    // Signaling's series and the sender's, both seeing the registration.
    expect(sampleValue(samples, 'robocam_connected_senders')).toBe(1);
    expect(sampleValue(samples, 'robocam_signaling_connected')).toBe(1);
    expect(sampleValue(samples, 'robocam_camera_state', { camera: 'front', state: 'idle' })).toBe(1);
    // The process once, under the sender's prefix (the Grafana dashboard's).
    expect(sampleValue(samples, 'robocam_sender_process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(samples.filter((sample) => sample.name.startsWith('robocam_signal_'))).toEqual([]);
    // Every metric described once: a text Prometheus accepts.
    const types = [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]);
    expect(new Set(types).size).toBe(types.length);
  });

  it('serves a snapshot that decodes as JPEG, scaled to ?width', async () => {
    const url = await start(ENV);
    const response = await fetch(`${url}/cameras/front/snapshot.jpg?width=160`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    const picture = await decodeJpeg(Buffer.from(await response.arrayBuffer()));
    expect([picture.width, picture.height]).toEqual([160, 120]);
    expect((await fetch(`${url}/cameras/rear/snapshot.jpg`)).status).toBe(404);
    expect((await fetch(`${url}/cameras/front/snapshot.jpg?width=wide`)).status).toBe(400);
  });

  it('asks for METRICS_TOKEN on /stats, /metrics, /doctor and snapshots, not on /healthz or the page', async () => {
    const url = await start({ ...ENV, METRICS_TOKEN: TOKEN });
    for (const path of ['/stats', '/metrics', '/doctor', '/cameras/front/snapshot.jpg']) {
      const refused = await fetch(`${url}${path}`);
      expect({ path, status: refused.status }).toEqual({ path, status: 401 });
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrong = await fetch(`${url}${path}`, { headers: { authorization: 'Bearer wrong' } });
      expect({ path, status: wrong.status }).toEqual({ path, status: 401 });
      const allowed = await fetch(`${url}${path}`, { headers: bearer });
      expect({ path, status: allowed.status }).toEqual({ path, status: 200 });
      await allowed.arrayBuffer();
    }
    expect((await fetch(`${url}/metrics?token=${TOKEN}`)).status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`, { headers: bearer })).text();
    expect(sampleValue(parsePrometheus(metrics), 'robocam_connected_senders')).toBe(1);
    const stats = (await (await fetch(`${url}/stats`, { headers: bearer })).json()) as {
      cameras: { id: string }[];
    };
    expect(stats.cameras.map((camera) => camera.id)).toEqual(['front']);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/`)).status).toBe(200);
    expect((await fetch(`${url}/config.json`)).status).toBe(200);
  });
});

describe('one-process WHIP publishing', () => {
  it('publishes PUBLISH_WHIP targets with PUBLISH_WHIP_TOKEN and ends them on close', async () => {
    // An endpoint that records the offer and turns it down (503): the publication keeps trying.
    const offers: { headers: IncomingHttpHeaders; sdp: string }[] = [];
    whip = createServer((request, response) => {
      let sdp = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (sdp += chunk));
      request.on('end', () => {
        offers.push({ headers: request.headers, sdp });
        response.writeHead(503).end();
      });
    });
    whip.listen(0, '127.0.0.1');
    await once(whip, 'listening');
    const endpoint = `http://127.0.0.1:${(whip.address() as AddressInfo).port}/whip/endpoint/front`;
    await start({ ...ENV, PUBLISH_WHIP: endpoint, PUBLISH_WHIP_TOKEN: 'whip-secret' });
    const sender = robocam?.sender;
    expect(sender?.publications.size).toBe(1);
    while (offers.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    const [offer] = offers;
    expect(offer?.headers['content-type']).toBe('application/sdp');
    expect(offer?.headers.authorization).toBe('Bearer whip-secret');
    expect(offer?.sdp).toMatch(/^m=video /m);
    await robocam?.close();
    expect(sender?.publications.size).toBe(0);
  });
});
