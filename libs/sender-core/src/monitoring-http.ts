import type { IncomingMessage, ServerResponse } from 'node:http';
import { tokensEqual } from '@robocam/service';
import type { Sender } from './sender.js';
import { CameraSnapshots, CameraUnavailableError } from './snapshot/camera-snapshots.js';

/** Prometheus text and its Content-Type: a {@link SenderMetrics}, or a prom-client `Registry`. */
export interface PrometheusSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface SenderMonitoringSettings {
  /** What `GET /metrics` serves: the sender's `SenderMetrics`, or a registry merging it with others. Required. */
  metrics: PrometheusSource;
  /**
   * Token every endpoint here asks for: `Authorization: Bearer <token>` or `?token=<token>`.
   * Default: none asked.
   */
  token?: string;
  /** Realm named in the 401's `WWW-Authenticate`. Default `robocam-sender`. */
  realm?: string;
}

const SNAPSHOT_PATH = /^\/cameras\/([^/]+)\/snapshot\.jpg$/;

/**
 * The sender's monitoring endpoints for any Node HTTP server (apps/sender's health port,
 * apps/robocam's one port): `GET /stats` every counter as JSON, `GET /metrics` Prometheus text, and
 * `GET /cameras/<id>/snapshot.jpg[?width=N]` a camera's latest frame as JPEG; all answer 401
 * without the token when one is set. It owns nothing that needs closing: whoever made the metrics
 * closes them.
 */
export class SenderMonitoring {
  readonly #sender: Sender;
  readonly #snapshots: CameraSnapshots;
  readonly #metrics: PrometheusSource;
  readonly #token: string | undefined;
  readonly #realm: string;

  constructor(sender: Sender, { metrics, token, realm = 'robocam-sender' }: SenderMonitoringSettings) {
    this.#sender = sender;
    this.#snapshots = new CameraSnapshots(sender.cameras);
    this.#metrics = metrics;
    this.#token = token;
    this.#realm = realm;
  }

  /** Whether the request carries the token (always true when none is set). */
  authorized(request: IncomingMessage): boolean {
    const token = this.#token;
    return token === undefined || tokensEqual(givenToken(request), token);
  }

  /** The 401's headers and JSON body, for servers that answer a request without the token themselves. */
  get unauthorized(): { headers: Record<string, string>; body: { error: string } } {
    return {
      headers: { 'www-authenticate': `Bearer realm="${this.#realm}"` },
      body: { error: 'token required' },
    };
  }

  /**
   * Answers `GET /stats`, `GET /metrics` and `GET /cameras/<id>/snapshot.jpg` (401 without the
   * token, 400 for a bad `width`, 404 for an unknown camera, 503 for a camera without a picture);
   * returns false, the response untouched, for any other method or path.
   */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    if (request.method !== 'GET') return false;
    const url = new URL(request.url ?? '/', 'http://monitoring');
    const path = url.pathname;
    const snapshot = SNAPSHOT_PATH.exec(path);
    if (path !== '/stats' && path !== '/metrics' && snapshot === null) return false;
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
    if (!this.authorized(request)) {
      const { headers, body } = this.unauthorized;
      reply(401, body, headers);
      return true;
    }
    if (path === '/stats') {
      this.#sender.stats().then((stats) => {
        reply(200, stats);
      }, fail);
    } else if (path === '/metrics') {
      const metrics = this.#metrics;
      metrics.metrics().then((text) => {
        response.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        response.end(text);
      }, fail);
    } else if (snapshot !== null) {
      const id = safeDecode(snapshot[1] ?? '');
      const width = url.searchParams.get('width');
      if (width !== null && !/^\d{1,5}$/.test(width)) {
        reply(400, { error: 'width must be a whole number of pixels' });
        return true;
      }
      if (!this.#snapshots.has(id)) {
        reply(404, { error: 'no such camera' });
        return true;
      }
      this.#snapshots.jpeg(id, width === null ? {} : { width: Math.max(16, Number(width)) }).then(
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
    return true;
  }
}

/** The token of `Authorization: Bearer <token>`, else of `?token=`; undefined when neither. */
function givenToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  const bearer = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  return bearer ?? new URL(request.url ?? '/', 'http://monitoring').searchParams.get('token') ?? undefined;
}

/** A path segment decoded; a malformed escape gives no camera id. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}
