import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's Prometheus metrics, in a registry of its own so several servers can share a process. */
export class SignalingMetrics {
  readonly registry = new Registry();
  readonly viewers = new Gauge({
    name: 'robocam_connected_viewers',
    help: 'Viewers currently registered',
    registers: [this.registry],
  });
  readonly senders = new Gauge({
    name: 'robocam_connected_senders',
    help: 'Senders currently registered',
    registers: [this.registry],
  });
  readonly connections = new Gauge({
    name: 'robocam_connections',
    help: 'Open WebSocket connections, registered or not',
    registers: [this.registry],
  });
  readonly sessions = new Gauge({
    name: 'robocam_sessions',
    help: 'Viewer-sender sessions currently open',
    registers: [this.registry],
  });
  readonly whepSessions = new Gauge({
    name: 'robocam_whep_sessions',
    help: 'WHEP sessions currently open',
    registers: [this.registry],
  });
  readonly routed = new Counter({
    name: 'robocam_messages_routed_total',
    help: 'Messages forwarded between peers, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'robocam_messages_rejected_total',
    help: 'Messages or connections rejected, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(collectProcessMetrics: boolean) {
    if (collectProcessMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'robocam_signal_' });
  }
}
