import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { accessSync, constants, createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, waitFor } from './services.js';

/** Debian's coturn binary. */
export const TURNSERVER = '/usr/bin/turnserver';

/** Throws (the suite fails, it is never skipped) with the installation hint when coturn is missing. */
export function findTurnserver(): string {
  try {
    accessSync(TURNSERVER, constants.X_OK);
    return TURNSERVER;
  } catch {
    throw new Error(
      `No ${TURNSERVER}: the TURN end-to-end test needs Debian's coturn (\`apt-get install coturn\`; \`bash scripts/install-system-deps.sh\` does it).`,
    );
  }
}

/** A real coturn on 127.0.0.1, checking TURN REST credentials (`use-auth-secret`) against `secret`. */
export class TurnServer {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<unknown>;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.url = `turn:127.0.0.1:${port}?transport=udp`;
    this.#exited = once(child, 'exit');
  }

  /** Starts coturn (log in artifacts/e2e/<suite>-turn.log); resolves once it answers STUN. */
  static async start(suite: string, { port, secret }: { port: number; secret: string }): Promise<TurnServer> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const log = createWriteStream(join(ARTIFACTS, `${suite}-turn.log`), { flags: 'a' });
    const child = spawn(
      findTurnserver(),
      [
        '-n', // no configuration file
        '--listening-ip=127.0.0.1',
        `--listening-port=${port}`,
        '--relay-ip=127.0.0.1',
        `--min-port=${port + 100}`,
        `--max-port=${port + 200}`,
        '--use-auth-secret',
        `--static-auth-secret=${secret}`,
        '--realm=robocam',
        // Both peers are on 127.x inside the test's network namespace.
        '--allow-loopback-peers',
        '--no-cli',
        '--no-tls',
        '--no-dtls',
        '--log-file=stdout',
        '--simple-log',
        `--pidfile=/tmp/robocam-e2e-turn-${port}.pid`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    const server = new TurnServer(child, port);
    try {
      await waitFor(`coturn to answer STUN on 127.0.0.1:${port}`, () => stunBinding(port), {
        timeoutMs: 10_000,
        intervalMs: 200,
      });
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** Sends one STUN Binding request (RFC 5389); true when a Binding success response arrives. */
async function stunBinding(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  try {
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request
    request.writeUInt16BE(0, 2);
    request.writeUInt32BE(0x2112a442, 4); // magic cookie
    randomBytes(12).copy(request, 8);
    const answer = once(socket, 'message') as Promise<[Buffer]>;
    socket.send(request, port, '127.0.0.1');
    const [message] = await Promise.race([
      answer,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no STUN answer')), 500)),
    ]);
    return message.readUInt16BE(0) === 0x0101 && message.subarray(8, 20).equals(request.subarray(8, 20));
  } finally {
    socket.close();
  }
}
