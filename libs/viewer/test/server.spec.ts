import { request } from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Koa from 'koa';
import { startViewerServer, viewerMiddleware, viewerPublicDir, type ViewerServer } from '../src/index.js';

const HTML =
  '<!doctype html><title>robocam</title><script type="module" src="/assets/viewer-ABCD1234.js"></script>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(2000))});`;

/** A raw GET: fetch() would drop a custom Host header and add Cache-Control to conditional requests. */
function get(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

let dir: string;
let server: ViewerServer;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'robocam-web-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), HTML);
  writeFileSync(join(dir, 'assets', 'viewer-ABCD1234.js'), SCRIPT);
  writeFileSync(join(dir, 'assets', 'viewer-ABCD1234.js.br'), brotliCompressSync(SCRIPT));
  writeFileSync(join(dir, 'assets', 'viewer-ABCD1234.js.gz'), gzipSync(SCRIPT));
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  const past = new Date('2024-01-01T00:00:00Z');
  utimesSync(join(dir, 'index.html'), past, past);
  server = await startViewerServer({ port: 0, host: '127.0.0.1', publicDir: dir });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('viewer server', () => {
  it('serves the page with a CSP that allows exactly the signaling origin, revalidated', async () => {
    const response = await get('/', { host: 'robot.local:8080' });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['x-frame-options']).toBe('DENY');
    const csp = String(response.headers['content-security-policy']);
    expect(csp.split('; ')).toEqual(
      expect.arrayContaining([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self' ws://robot.local:8765",
        "frame-ancestors 'none'",
        "base-uri 'none'",
      ]),
    );
    expect(response.body).toBe(HTML);
  });

  it('answers a conditional request for the page with 304', async () => {
    const response = await get('/', { 'if-modified-since': new Date().toUTCString() });
    expect(response.status).toBe(304);
    expect(response.body).toBe('');
    expect((await get('/', { 'if-modified-since': new Date('2020-01-01').toUTCString() })).status).toBe(200);
  });

  it('serves hashed assets precompressed and immutable', async () => {
    const br = await fetch(`${base}/assets/viewer-ABCD1234.js`, {
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('content-type')).toMatch(/javascript/);
    expect(br.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(br.headers.get('vary')).toMatch(/Accept-Encoding/i);
    expect(await br.text()).toBe(SCRIPT); // fetch decodes
    const gz = await fetch(`${base}/assets/viewer-ABCD1234.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    const plain = await fetch(`${base}/assets/viewer-ABCD1234.js`, {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(SCRIPT);
  });

  it('tells the page its signaling URL, per request and never cached', async () => {
    const response = await get('/config.json', { host: '10.0.0.7:8080' });
    expect(response.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(response.body)).toEqual({ signalingUrl: 'ws://10.0.0.7:8765' });
    const bad = await get('/config.json', { host: 'evil"host' });
    expect(JSON.parse(bad.body)).toEqual({ signalingUrl: null });
    expect(bad.headers['content-security-policy']).toContain("connect-src 'self';");
  });

  it('answers health checks, 404 for unknown paths, 405 for writes', async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/config.json`, { method: 'POST' })).status).toBe(405);
    const traversal = await get('/../../../../etc/passwd', {});
    expect([403, 404]).toContain(traversal.status);
    expect(traversal.body).not.toContain('root:');
  });

  it('uses a configured signaling URL and, behind a trusted proxy, the forwarded scheme', async () => {
    const proxied = await startViewerServer({
      port: 0,
      host: '127.0.0.1',
      publicDir: dir,
      signaling: { kind: 'path', path: '/signal' },
      trustProxy: true,
    });
    try {
      const response = await fetch(`http://127.0.0.1:${proxied.port}/config.json`, {
        headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'cams.example' },
      });
      expect(await response.json()).toEqual({ signalingUrl: 'wss://cams.example/signal' });
      expect(response.headers.get('content-security-policy')).toContain(
        "connect-src 'self' wss://cams.example;",
      );
    } finally {
      await proxied.close();
    }
  });

  it('gives the page its ICE servers, with TURN credentials derived afresh per request', async () => {
    const turn = await startViewerServer({
      port: 0,
      host: '127.0.0.1',
      publicDir: dir,
      iceServers: {
        urls: ['turn:turn.example:3478'],
        secret: 's3cret',
        credentialTtlSec: 600,
        iceTransportPolicy: 'relay',
      },
    });
    try {
      const before = Math.floor(Date.now() / 1000);
      const body = (await (await fetch(`http://127.0.0.1:${turn.port}/config.json`)).json()) as {
        iceServers: { urls: string[]; username: string; credential: string }[];
        iceTransportPolicy: string;
      };
      expect(body.iceTransportPolicy).toBe('relay');
      expect(body.iceServers).toHaveLength(1);
      const [server] = body.iceServers;
      expect(server?.urls).toEqual(['turn:turn.example:3478']);
      const [expiry, name] = (server?.username ?? '').split(':');
      expect(name).toBe('robocam');
      expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600);
      expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 600);
      expect(server?.credential).toMatch(/^[A-Za-z0-9+/]{27}=$/); // base64 of a 20-byte SHA-1 HMAC
    } finally {
      await turn.close();
    }
  });

  it('closes once, however often it is asked', async () => {
    const other = await startViewerServer({ port: 0, host: '127.0.0.1', publicDir: dir });
    expect(other.closed).toBe(false);
    const first = other.close();
    expect(other.close()).toBe(first);
    expect(other.closed).toBe(true);
    await first;
    expect(other.http.listening).toBe(false);
  });
});

describe('the built page this package ships', () => {
  it('is served by default: index.html naming hashed, precompressed, immutable assets', async () => {
    const page = await startViewerServer({ port: 0, host: '127.0.0.1' });
    try {
      const url = `http://127.0.0.1:${page.port}`;
      const html = await (await fetch(`${url}/`)).text();
      const script = /<script[^>]+src="(\/assets\/viewer-[A-Z0-9]+\.js)"/.exec(html)?.[1];
      const style = /<link[^>]+href="(\/assets\/style-[A-Z0-9]+\.css)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      expect(style).toBeDefined();
      const js = await fetch(`${url}${script ?? ''}`, { headers: { 'accept-encoding': 'br' } });
      expect(js.status).toBe(200);
      expect(js.headers.get('content-encoding')).toBe('br');
      expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await js.text()).length).toBeGreaterThan(1000);
      expect((await fetch(`${url}${style ?? ''}`)).status).toBe(200);
      expect((await fetch(`${url}/favicon.svg`)).status).toBe(200);
    } finally {
      await page.close();
    }
    expect(viewerPublicDir).toMatch(/dist[/\\]public[/\\]$/);
  });
});

describe('viewerMiddleware in a robot’s own koa app', () => {
  it('serves the viewer after the app’s own routes; what it does not know falls through', async () => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      if (ctx.path === '/api/battery') ctx.body = { percent: 87 };
      else await next();
    });
    app.use(viewerMiddleware({ publicDir: dir, signaling: { kind: 'url', url: 'wss://signal.example' } }));
    app.use((ctx) => {
      ctx.status = 418; // the app's own fallback: the viewer passed the request on
    });
    const http = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => http.once('listening', resolve));
    const url = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    try {
      const api = await fetch(`${url}/api/battery`);
      expect(await api.json()).toEqual({ percent: 87 });
      expect(api.headers.get('content-security-policy')).toBeNull(); // the app's own answer
      const page = await fetch(`${url}/`);
      expect(await page.text()).toBe(HTML);
      expect(page.headers.get('content-security-policy')).toContain(
        "connect-src 'self' wss://signal.example",
      );
      expect(await (await fetch(`${url}/config.json`)).json()).toEqual({
        signalingUrl: 'wss://signal.example',
      });
      expect((await fetch(`${url}/something-else`)).status).toBe(418);
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
