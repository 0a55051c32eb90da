import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  readSenderConfig,
  Sender,
  SenderMetrics,
  SenderMonitoring,
  UdpBridge,
  type SenderEnvConfig,
  type SenderSettings,
  type UdpBridgeSettings,
} from '@robocam/sender';
import type { Logger, LogLevel } from '@robocam/service';
import {
  createSignalingHandler,
  readSignalingConfig,
  type SignalingHandlerSettings,
} from '@robocam/signaling';
import {
  diagnoseSender,
  readViewerConfig,
  viewerMiddleware,
  type SenderFacts,
  type SignalingTarget,
} from '@robocam/viewer';
import Koa from 'koa';

/** Where signaling is served on the one port (the page and the in-process sender connect there). */
export const SIGNALING_PATH = '/signal';

/** robocam in one process, read from the same variables as the three apps. */
export interface OneProcessConfig {
  logLevel: LogLevel;
  /** The one HTTP port (PORT, default 8080): page, signaling WebSocket, WHEP, health, metrics. */
  port: number;
  /** Listen address (HOST, default `::`). */
  host: string;
  trustProxy: boolean;
  /** Where pages connect for signaling: this port's {@link SIGNALING_PATH} unless PUBLIC_SIGNALING_URL says otherwise. */
  page: SignalingTarget;
  signaling: SignalingHandlerSettings;
  sender: Omit<SenderSettings, 'logger' | 'signalingUrl'>;
  /** The teleop UDP bridge (CONTROL_UDP, TELEMETRY_UDP_PORT); undefined when neither is set. */
  udpBridge: UdpBridgeSettings | undefined;
  /** Token `/stats`, `/metrics`, `/doctor` and the snapshots ask for (METRICS_TOKEN); undefined: none. */
  metricsToken: string | undefined;
  /** Cameras published to WHIP endpoints (PUBLISH_WHIP); empty when unset. */
  publish: SenderEnvConfig['publish'];
  /** Bearer token for every WHIP endpoint (PUBLISH_WHIP_TOKEN). */
  publishToken: string | undefined;
}

/**
 * Reads the one-process configuration: apps/web's, apps/signal's and apps/sender's variables,
 * except that PORT and HOST name the one server, and SIGNALING_URL, SIGNALING_PORT, HEALTH_PORT and
 * HEALTH_HOST (how the three processes find each other) have no use.
 */
export function readOneProcessConfig(env: NodeJS.ProcessEnv): OneProcessConfig {
  const {
    SIGNALING_URL: _signalingUrl,
    SIGNALING_PORT: _signalingPort,
    HEALTH_PORT: _healthPort,
    HEALTH_HOST: _healthHost,
    ...shared
  } = env;
  const viewer = readViewerConfig(shared);
  const { port: _port, host: _host, ...signaling } = readSignalingConfig(shared).server;
  const senderConfig = readSenderConfig(shared);
  const { signalingUrl: _url, ...sender } = senderConfig.sender;
  return {
    logLevel: viewer.logLevel,
    port: viewer.port,
    host: viewer.host,
    trustProxy: viewer.trustProxy,
    page: viewer.signaling.kind === 'port' ? { kind: 'path', path: SIGNALING_PATH } : viewer.signaling,
    signaling,
    sender,
    udpBridge: senderConfig.udpBridge,
    metricsToken: senderConfig.health.token,
    publish: senderConfig.publish,
    publishToken: senderConfig.publishToken,
  };
}

/**
 * `GET /doctor`: the connectivity doctor's verdict on the robot's side (diagnoseSender) with its
 * facts; the browser's side is in each tile's panel.
 */
async function senderDoctor(
  sender: Sender,
): Promise<{ verdict: ReturnType<typeof diagnoseSender>; facts: SenderFacts }> {
  const stats = await sender.stats();
  const facts: SenderFacts = {
    signaling: sender.signalingState,
    cameras: stats.cameras.map((camera) => {
      const info = sender.cameras.get(camera.id)?.info;
      return {
        id: camera.id,
        lost: info?.status === 'lost',
        ...(info?.detail === undefined ? {} : { detail: info.detail }),
        running: camera.running,
        fps: info?.fps ?? 0,
        encodeMsAvg: camera.encodeMsAvg,
      };
    }),
    sessions: stats.sessions.map(({ id, connectionState, packetsSent }) => ({
      id,
      connectionState,
      packetsSent,
    })),
  };
  return { verdict: diagnoseSender(facts), facts };
}

/** The running one-process robocam. */
export interface OneProcess {
  /** The port bound (the one picked when PORT was 0). */
  readonly port: number;
  readonly sender: Sender;
  /** Settles like {@link Sender.start}: rejects if signaling refuses the sender. */
  readonly started: Promise<void>;
  readonly closed: boolean;
  /** Closes the sender (it says bye to its viewers), then signaling, then the HTTP server. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the signaling server, the viewer page and the sender in this process, all on one HTTP
 * port: `GET /` the page, `GET /config.json` its settings, WebSocket upgrades signaling (the page
 * uses {@link SIGNALING_PATH}), `/whep` WHEP, `GET /metrics` Prometheus (the signaling server's
 * and the sender's series in one text, one set of process metrics: the sender's), `GET /stats` the
 * sender's counters, `GET /cameras/<id>/snapshot.jpg[?width=N]` a camera's latest frame, `GET
 * /doctor` the robot's side of the connectivity doctor, and `GET /healthz` one answer for all three
 * (200 once the sender is registered). With a metrics token, all of those but `/healthz` (and the
 * page) ask for it, as apps/sender's health port does. The sender reaches signaling over loopback,
 * through the same WebSocket path as any other sender, and publishes to the WHIP endpoints of
 * {@link OneProcessConfig.publish}.
 */
export async function startOneProcess(config: OneProcessConfig, logger: Logger): Promise<OneProcess> {
  const log = (component: string): Logger => logger.child?.({ component }) ?? logger;
  const startedAt = Date.now();
  // One set of Node process metrics, the sender's (`robocam_sender_`, which the Grafana dashboard
  // reads): the signaling server's would measure the same process under another prefix.
  const signaling = createSignalingHandler({
    ...config.signaling,
    processMetrics: false,
    logger: log('signal'),
  });
  // The sender needs the bound port (PORT may be 0), so it and its monitoring come after listening.
  const current: { sender?: Sender; monitoring?: SenderMonitoring } = {};

  const app = new Koa({ proxy: config.trustProxy });
  app.silent = true; // errors are logged here, with the request
  app.on('error', (error: unknown, ctx?: Koa.Context) => {
    logger.error(
      { err: error instanceof Error ? error.message : String(error), url: ctx?.url },
      'request failed',
    );
  });
  app.use(async (ctx, next) => {
    if (ctx.method !== 'GET' || !['/healthz', '/doctor'].includes(ctx.path)) {
      await next();
      return;
    }
    ctx.set('cache-control', 'no-store');
    const { sender, monitoring } = current;
    if (sender === undefined || monitoring === undefined) {
      ctx.status = 503;
      ctx.body = { status: 'starting' };
    } else if (ctx.path === '/doctor') {
      if (monitoring.authorized(ctx.req)) {
        ctx.body = await senderDoctor(sender);
      } else {
        const { headers, body } = monitoring.unauthorized;
        ctx.set(headers);
        ctx.status = 401;
        ctx.body = body;
      }
    } else {
      const registered = sender.signalingState === 'open';
      ctx.status = registered ? 200 : 503;
      ctx.body = {
        status: registered ? 'ok' : 'not registered',
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        rssBytes: process.memoryUsage.rss(),
        signaling: signaling.stats(),
        sender: {
          signaling: sender.signalingState,
          sessions: sender.sessions.size,
          cameras: [...sender.cameras.values()].map((camera) => camera.info),
        },
      };
    }
  });
  app.use(viewerMiddleware({ signaling: config.page, logger: log('web') }));
  const koa = app.callback();

  const http = createServer((request, response) => {
    // The sender's /stats, /metrics (which then also holds signaling's series) and snapshots, before
    // signaling's own unprotected /metrics; until the sender exists, /metrics is signaling's alone.
    if (current.monitoring?.handle(request, response) === true) return;
    signaling.handleRequest(request, response).then(
      (handled) => {
        if (!handled) void koa(request, response); // koa answers and logs its own errors
      },
      (error: unknown) => {
        logger.error({ err: String(error), url: request.url }, 'HTTP request failed');
        if (!response.headersSent) response.writeHead(500).end();
        else response.end();
      },
    );
  });
  http.on('upgrade', (request, socket, head) => {
    signaling.handleUpgrade(request, socket, head);
  });
  http.on('clientError', (_error, socket) => {
    socket.destroy();
  });
  // Phones on flaky Wi-Fi leave half-open sockets: do not keep them forever.
  http.keepAliveTimeout = 5_000;
  http.headersTimeout = 10_000;
  http.listen(config.port, config.host);
  try {
    await once(http, 'listening');
  } catch (error) {
    await signaling.close();
    throw error;
  }
  const port = (http.address() as AddressInfo).port;

  // Loopback whatever HOST is, unless HOST is one address: then that one.
  const wildcard = config.host === '::' || config.host === '0.0.0.0';
  const signalingHost = wildcard ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const signalingUrl = `ws://${signalingHost}:${port}${SIGNALING_PATH}`;
  const running = new Sender({ ...config.sender, signalingUrl, logger: log('sender') });
  // The sender's collectors join the signaling server's registry: one text on /metrics, and a
  // metric name both define would throw here, at start, rather than yield a text Prometheus rejects.
  const metrics = new SenderMetrics(running, { registry: signaling.metrics.registry });
  current.sender = running;
  current.monitoring = new SenderMonitoring(running, {
    metrics: signaling.metrics.registry,
    ...(config.metricsToken === undefined ? {} : { token: config.metricsToken }),
    realm: 'robocam',
  });
  const bridge =
    config.udpBridge === undefined
      ? undefined
      : new UdpBridge(running, { ...config.udpBridge, logger: log('udp-bridge') });
  try {
    await bridge?.start();
  } catch (error) {
    await running.close();
    await signaling.close();
    http.close();
    metrics.close();
    throw error;
  }
  logger.info(
    { port, host: config.host, page: config.page, cameras: [...running.cameras.keys()] },
    'robocam listening (signaling, viewer page and sender in one process)',
  );
  const started = running.start();
  // Publications run beside signaling, as in apps/sender; sender.close() ends them (DELETE).
  for (const target of config.publish) {
    running.publish(target.camera, {
      url: target.url,
      ...(config.publishToken === undefined ? {} : { token: config.publishToken }),
    });
  }

  let closing: Promise<void> | undefined;
  const teardown = async (): Promise<void> => {
    await running.close().catch((error: unknown) => {
      logger.error({ err: String(error) }, 'unclean sender shutdown');
    });
    // After the sender: its close raises the last stop, which the bridge still sends.
    bridge?.close();
    await signaling.close();
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeIdleConnections();
    // Requests in flight get a moment, then their sockets are cut.
    const timer = setTimeout(() => http.closeAllConnections(), 2_000);
    await closed;
    clearTimeout(timer);
    // Last: it empties the registry signaling's metrics share.
    metrics.close();
  };
  return {
    port,
    sender: running,
    started,
    get closed() {
      return closing !== undefined;
    },
    close() {
      closing ??= teardown();
      return closing;
    },
  };
}
