import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

/** A robocam app started as users start it: `node apps/<app>/dist/main.js` with env. */
export interface AppProcess {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

export function startApp(app: 'signal' | 'sender', env: Record<string, string>): AppProcess {
  const child = spawn(process.execPath, [`${repo}apps/${app}/dist/main.js`], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout.on('data', (data: Buffer) => output.push(data.toString()));
  child.stderr.on('data', (data: Buffer) => output.push(data.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited };
}

/** Polls `predicate` every 10 ms until it holds; resolves with how long that took (ms). */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = performance.now();
  while (!(await predicate())) {
    if (performance.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}

/** Polls an HTTP endpoint until it answers 200. */
export async function waitForHttp(url: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    try {
      if ((await fetch(url)).status === 200) return performance.now() - started;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

export interface ImpairmentSettings {
  /** Fraction of datagrams dropped in each direction, 0–1. */
  loss: number;
  /** One-way delay in ms. */
  delayMs: number;
  /** Uniform jitter added to the delay, ± ms. */
  jitterMs: number;
}

/**
 * A UDP relay that impairs media between a viewer and the sender: loss, delay and jitter, both
 * ways. This kernel has no netem, so the link is impaired in user space instead; the viewer is
 * pointed at the relay by rewriting the sender's host candidate in the answer.
 */
export class LossyRelay {
  readonly #front: Socket = createSocket('udp4');
  readonly #back: Socket = createSocket('udp4');
  readonly #target: { address: string; port: number };
  #settings: ImpairmentSettings;
  #viewer: RemoteInfo | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;
  dropped = 0;
  forwarded = 0;

  private constructor(target: { address: string; port: number }, settings: ImpairmentSettings) {
    this.#target = target;
    this.#settings = settings;
  }

  static async start(
    target: { address: string; port: number },
    settings: ImpairmentSettings,
  ): Promise<LossyRelay> {
    const relay = new LossyRelay(target, settings);
    await Promise.all([
      new Promise<void>((resolve) => relay.#front.bind(0, target.address, () => resolve())),
      new Promise<void>((resolve) => relay.#back.bind(0, target.address, () => resolve())),
    ]);
    relay.#front.on('message', (message, from) => {
      relay.#viewer = from;
      relay.#forward(relay.#back, message, relay.#target.port, relay.#target.address);
    });
    relay.#back.on('message', (message) => {
      const viewer = relay.#viewer;
      if (viewer !== undefined) relay.#forward(relay.#front, message, viewer.port, viewer.address);
    });
    return relay;
  }

  /** Changes the impairment on the running link. */
  impair(settings: ImpairmentSettings): void {
    this.#settings = settings;
  }

  get port(): number {
    return this.#front.address().port;
  }

  #forward(socket: Socket, message: Buffer, port: number, address: string): void {
    if (Math.random() < this.#settings.loss) {
      this.dropped += 1;
      return;
    }
    const delay = this.#settings.delayMs + (Math.random() * 2 - 1) * this.#settings.jitterMs;
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        if (this.#closed) return;
        this.forwarded += 1;
        socket.send(message, port, address);
      },
      Math.max(0, delay),
    );
    this.#timers.add(timer);
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#front.close();
    this.#back.close();
  }
}
