import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CloseOnce, silentLogger, type Logger } from '@robocam/types';
import Koa from 'koa';
import compose from 'koa-compose';
import serve from 'koa-static';
import { pageIceServers, type IceServerSettings, type PageIceServer } from './ice-servers.js';
import { IMMUTABLE, NO_STORE, REVALIDATE, securityHeaders } from './security-headers.js';
import { cspSourceOf, resolveSignalingUrl, type SignalingTarget } from './signaling-url.js';

/**
 * The built page this package ships (`index.html`, `favicon.svg`, `assets/`), written by the
 * package's build into `dist/public`. Resolved from this module's own location, so it is right from
 * `dist/` (installed package) and from `src/` (workspace tests) alike.
 */
export const viewerPublicDir: string = fileURLToPath(new URL('../dist/public/', import.meta.url));

export interface ViewerServingSettings {
  /** Where pages connect for signaling. Default: the page's own host, port 8765. */
  signaling?: SignalingTarget;
  /** Honour X-Forwarded-Proto / X-Forwarded-Host (behind a reverse proxy). Default false. */
  trustProxy?: boolean;
  /**
   * STUN/TURN servers for the pages (in `/config.json`), with static or derived short-lived TURN
   * credentials. Default: none (the pages use host candidates only, right on a LAN).
   */
  iceServers?: IceServerSettings;
  /** Directory with the built page (`index.html`, `assets/`). Default: {@link viewerPublicDir}. */
  publicDir?: string;
  /** pino-compatible logger; requests are logged at debug level. Default: silent. */
  logger?: Logger;
}

export interface ViewerServerSettings extends ViewerServingSettings {
  /** TCP port. Default 8080; 0 picks a free port. */
  port?: number;
  /** Listen address. Default `::` (all addresses, IPv4 and IPv6). */
  host?: string;
}

/** A listening viewer server. */
export interface ViewerServer {
  /** The port it listens on (the one picked when asked for 0). */
  readonly port: number;
  readonly http: Server;
  /** True once {@link close} was called. */
  readonly closed: boolean;
  /**
   * Stops accepting connections and closes idle ones; requests in flight get 2 s. Resolves when
   * closed; idempotent (later calls return the first call's promise).
   */
  close(): Promise<void>;
}

/** What `GET /config.json` returns to the page. */
export interface ViewerConfig {
  /** The signaling server's WebSocket URL, or null when it cannot be derived from the request. */
  signalingUrl: string | null;
  /**
   * STUN/TURN servers for the page's `RTCPeerConnection`; derived TURN credentials are fresh on
   * every request. Absent when none are configured.
   */
  iceServers?: PageIceServer[];
  /** Present (`relay`) when the page must use TURN relay candidates only. */
  iceTransportPolicy?: 'relay';
}

/**
 * The viewer as one koa middleware, to mount at the root of a robot's own koa app (the page asks
 * for `/config.json` and `/assets/…` on its own origin): the static page and bundle
 * (precompressed, content-hashed assets cached for good, HTML revalidated), `GET /config.json`
 * (the signaling URL for this page) and `GET /healthz`. Every response that reaches it carries the
 * security headers; the CSP allows WebSocket connections to exactly the signaling origin the page
 * is told. Requests for anything else fall through to the middleware after it.
 */
export function viewerMiddleware({
  signaling = { kind: 'port', port: 8765 },
  publicDir = viewerPublicDir,
  iceServers,
  logger = silentLogger,
}: Omit<ViewerServingSettings, 'trustProxy'> = {}): Koa.Middleware {
  const signalingUrlFor = (ctx: Koa.Context): string | undefined =>
    resolveSignalingUrl(signaling, { host: ctx.host, secure: ctx.secure });

  return compose<Koa.ParameterizedContext>([
    // Request log and security headers.
    async (ctx, next) => {
      const started = performance.now();
      const signalingSource = cspSourceOf(signalingUrlFor(ctx) ?? '');
      ctx.set(securityHeaders(signalingSource === undefined ? [] : [signalingSource]));
      try {
        await next();
      } finally {
        logger.debug(
          {
            method: ctx.method,
            url: ctx.url,
            status: ctx.status,
            ms: Math.round((performance.now() - started) * 10) / 10,
            remote: ctx.ip,
          },
          'request',
        );
      }
    },

    // Conditional GET (If-Modified-Since) for files koa-static serves.
    async (ctx, next) => {
      await next();
      if ((ctx.method === 'GET' || ctx.method === 'HEAD') && ctx.status === 200 && ctx.fresh) {
        if (ctx.body instanceof Readable) ctx.body.destroy();
        ctx.status = 304;
      }
    },

    async (ctx, next) => {
      if (ctx.path === '/healthz' || ctx.path === '/config.json') {
        if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
          ctx.set('allow', 'GET, HEAD');
          ctx.status = 405;
          return;
        }
        ctx.set('cache-control', NO_STORE);
        if (ctx.path === '/healthz') {
          ctx.body = { status: 'ok' };
        } else {
          const servers = iceServers === undefined ? [] : pageIceServers(iceServers);
          const body: ViewerConfig = {
            signalingUrl: signalingUrlFor(ctx) ?? null,
            ...(servers.length === 0 ? {} : { iceServers: servers }),
            ...(iceServers?.iceTransportPolicy === 'relay' ? { iceTransportPolicy: 'relay' } : {}),
          };
          ctx.body = body;
        }
        return;
      }
      await next();
    },

    serve(publicDir, {
      index: 'index.html',
      gzip: true,
      brotli: true,
      setHeaders: (response, path) => {
        // `path` may name the precompressed variant (x.js.br); the policy depends on the file.
        const file = basename(path).replace(/\.(br|gz)$/, '');
        response.setHeader('vary', 'Accept-Encoding');
        response.setHeader(
          'cache-control',
          /\/assets\//.test(path) && /-[A-Z0-9]{8,}\.\w+$/.test(file)
            ? IMMUTABLE
            : file.endsWith('.html')
              ? REVALIDATE
              : 'public, max-age=3600',
        );
      },
    }),
  ]);
}

/**
 * A koa app that serves only the viewer ({@link viewerMiddleware}), logging failed requests with
 * their URL.
 */
export function createViewerApp({ trustProxy = false, ...settings }: ViewerServingSettings = {}): Koa {
  const logger = settings.logger ?? silentLogger;
  const app = new Koa({ proxy: trustProxy });
  app.silent = true; // errors are logged below, with the request
  app.on('error', (error: unknown, ctx?: Koa.Context) => {
    logger.error(
      { err: error instanceof Error ? error.message : String(error), url: ctx?.url },
      'request failed',
    );
  });
  app.use(viewerMiddleware(settings));
  return app;
}

/** Creates the viewer app and listens; resolves once listening. */
export async function startViewerServer({
  port = 8080,
  host = '::',
  ...settings
}: ViewerServerSettings = {}): Promise<ViewerServer> {
  const app = createViewerApp(settings);
  const handle = app.callback();
  const http = createServer((request, response) => {
    void handle(request, response); // koa answers and logs its own errors
  });
  // Phones on flaky Wi-Fi leave half-open sockets: do not keep them forever.
  http.keepAliveTimeout = 5_000;
  http.headersTimeout = 10_000;
  http.requestTimeout = 30_000;
  http.listen(port, host);
  await once(http, 'listening');
  const lifecycle = new CloseOnce();
  const teardown = async (): Promise<void> => {
    const closed = new Promise<void>((resolve, reject) => {
      http.close((error) => {
        if (error === undefined) resolve();
        else reject(error);
      });
    });
    http.closeIdleConnections();
    // Requests in flight get a moment, then their sockets are cut.
    const timer = setTimeout(() => http.closeAllConnections(), 2_000);
    try {
      await closed;
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    port: (http.address() as AddressInfo).port,
    http,
    get closed() {
      return lifecycle.closed;
    },
    close: () => lifecycle.close({ origin: 'local', code: 'closed', message: 'server closed' }, teardown),
  };
}
