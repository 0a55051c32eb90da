import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { TELEOP_LIMITS, type JsonObject } from '@robocam/protocol';
import { TokenBucket } from '@robocam/service';
import { errorMessage, silentLogger, type Logger } from '@robocam/types';
import type { Sender } from '../sender.js';
import { ConfigurationError } from '../errors.js';
import type { ControlCommand, ControlStop } from './teleop.js';

export interface UdpBridgeSettings {
  /**
   * Where each accepted command and each stop goes, as one JSON datagram (`host:port`, e.g.
   * `127.0.0.1:9870`). Default: not sent.
   */
  controlTarget?: string;
  /** UDP port to receive telemetry datagrams on (JSON objects, forwarded to every viewer). Default: none. */
  telemetryPort?: number;
  /** Address the telemetry port binds to. Default `127.0.0.1`: robot software on the same machine. */
  telemetryHost?: string;
  logger?: Logger;
}

/** What the bridge counted. */
export interface UdpBridgeStats {
  commandsSent: number;
  stopsSent: number;
  telemetryReceived: number;
  /** Telemetry datagrams dropped: not a JSON object, too large, or over 100 per second. */
  telemetryRejected: number;
}

/** Telemetry datagrams accepted per second (and at once); more are dropped and counted. */
const TELEMETRY_PER_SECOND = 100;

/**
 * Teleop for robot software not written in TypeScript (a Python loop, a ROS 2 node): every command
 * the sender accepts leaves as one JSON datagram `{"type":"command","seq","ageMs","viewer","data"}`
 * and every stop as `{"type":"stop","reason","viewer","idleMs"}` to `controlTarget`; each JSON
 * datagram that arrives on `telemetryPort` goes to every viewer as telemetry.
 */
export class UdpBridge {
  readonly #sender: Sender;
  readonly #logger: Logger;
  readonly #target: { host: string; port: number } | undefined;
  readonly #settings: UdpBridgeSettings;
  #controlSocket: Socket | undefined;
  #telemetrySocket: Socket | undefined;
  readonly #bucket = new TokenBucket(TELEMETRY_PER_SECOND, TELEMETRY_PER_SECOND);
  readonly #counters: UdpBridgeStats = {
    commandsSent: 0,
    stopsSent: 0,
    telemetryReceived: 0,
    telemetryRejected: 0,
  };
  #lastWarnAt = -Infinity;
  readonly #onCommand = (command: ControlCommand): void => {
    this.#send({
      type: 'command',
      seq: command.seq,
      ageMs: command.ageMs,
      viewer: command.viewerId,
      data: command.data,
    });
    this.#counters.commandsSent += 1;
  };
  readonly #onStop = (stop: ControlStop): void => {
    this.#send({ type: 'stop', reason: stop.reason, viewer: stop.viewerId, idleMs: stop.idleMs });
    this.#counters.stopsSent += 1;
  };

  constructor(sender: Sender, settings: UdpBridgeSettings) {
    this.#sender = sender;
    this.#settings = settings;
    this.#logger = settings.logger ?? silentLogger;
    this.#target = settings.controlTarget === undefined ? undefined : parseHostPort(settings.controlTarget);
  }

  /** The telemetry port actually bound (useful with port 0). */
  get telemetryPort(): number | undefined {
    return this.#telemetrySocket?.address().port;
  }

  stats(): UdpBridgeStats {
    return { ...this.#counters };
  }

  /** Opens the sockets and starts forwarding. */
  async start(): Promise<void> {
    if (this.#target !== undefined) {
      const socket = createSocket(isIP(this.#target.host) === 6 ? 'udp6' : 'udp4');
      socket.on('error', (error) => {
        this.#warn('control datagram not sent', error);
      });
      this.#controlSocket = socket;
      this.#sender.on('command', this.#onCommand);
      this.#sender.on('stop', this.#onStop);
    }
    if (this.#settings.telemetryPort !== undefined) {
      const host = this.#settings.telemetryHost ?? '127.0.0.1';
      const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
      socket.on('message', (datagram) => {
        this.#onTelemetry(datagram);
      });
      socket.on('error', (error) => {
        this.#warn('telemetry socket error', error);
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(this.#settings.telemetryPort, host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      this.#telemetrySocket = socket;
    }
    this.#logger.info(
      { controlTarget: this.#settings.controlTarget, telemetryPort: this.telemetryPort },
      'UDP control bridge running',
    );
  }

  /** Stops forwarding and closes the sockets. A stop raised by the sender's own close still goes out first. */
  close(): void {
    this.#sender.off('command', this.#onCommand);
    this.#sender.off('stop', this.#onStop);
    this.#controlSocket?.close();
    this.#telemetrySocket?.close();
    this.#controlSocket = undefined;
    this.#telemetrySocket = undefined;
  }

  #send(message: Record<string, unknown>): void {
    const target = this.#target;
    if (target === undefined || this.#controlSocket === undefined) return;
    this.#controlSocket.send(JSON.stringify(message), target.port, target.host, (error) => {
      if (error) this.#warn('control datagram not sent', error);
    });
  }

  #onTelemetry(datagram: Buffer): void {
    this.#counters.telemetryReceived += 1;
    if (!this.#bucket.take()) {
      this.#reject('more than 100 telemetry datagrams/s');
      return;
    }
    if (datagram.length > TELEOP_LIMITS.maxEventBytes - 64) {
      this.#reject(`telemetry datagram of ${datagram.length} bytes is too large`);
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(datagram.toString('utf8'));
    } catch {
      this.#reject('telemetry datagram is not JSON');
      return;
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      this.#reject('telemetry datagram is not a JSON object');
      return;
    }
    try {
      this.#sender.sendTelemetry(data as JsonObject);
    } catch (error) {
      this.#reject(errorMessage(error));
    }
  }

  #reject(reason: string): void {
    this.#counters.telemetryRejected += 1;
    this.#warn(reason);
  }

  /** At most one warning per 5 s: a misbehaving robot process must not flood the log. */
  #warn(message: string, error?: unknown): void {
    const now = performance.now();
    if (now - this.#lastWarnAt < 5000) return;
    this.#lastWarnAt = now;
    this.#logger.warn(
      { ...(error === undefined ? {} : { err: errorMessage(error) }), ...this.#counters },
      message,
    );
  }
}

/** `host:port` or `[v6]:port` → parts; throws a ConfigurationError naming the problem. */
export function parseHostPort(value: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[2]);
  if (match === null || !(port >= 1 && port <= 65535)) {
    throw new ConfigurationError(`"${value}" is not host:port (e.g. 127.0.0.1:9870)`);
  }
  return { host: match[1] as string, port };
}
