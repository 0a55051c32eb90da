import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, readdirSync, rmSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** Screenshots and service logs of e2e runs (git-ignored). */
export const ARTIFACTS = join(REPO_ROOT, 'artifacts', 'e2e');

/** Removes a suite's logs and screenshots of earlier runs. */
export function clearArtifacts(suite: string): void {
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const file of readdirSync(ARTIFACTS)) if (file.startsWith(`${suite}-`)) rmSync(join(ARTIFACTS, file));
}

export type AppName = 'signal' | 'sender' | 'web' | 'robocam';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 10_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail =
        lastError === undefined
          ? ''
          : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** GETs `url` until it answers `status`. */
export async function waitForHttp(url: string, timeoutMs = 15_000, status = 200): Promise<void> {
  await waitFor(
    `${url} to answer ${status}`,
    async () => (await fetch(url, { signal: AbortSignal.timeout(1000) })).status === status,
    { timeoutMs, intervalMs: 100 },
  );
}

/**
 * One robocam app as a real child process (`node apps/<app>/dist/main.js`), its JSON logs appended
 * to artifacts/e2e/<suite>-<name>.log.
 */
export class Service {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(name: string, child: ChildProcess, log: WriteStream) {
    this.name = name;
    this.child = child;
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.exited = once(child, 'exit').then(([code, signal]) => {
      this.#exit = { code: code as number | null, signal: signal as NodeJS.Signals | null };
      log.write(`--- ${name} exited: code ${String(code)}, signal ${String(signal)}\n`);
      return this.#exit;
    });
  }

  /** Starts `app` with `env`; resolves once `readyUrl` answers 200. */
  static async start(
    suite: string,
    app: AppName,
    env: Record<string, string>,
    readyUrl: string,
    name: string = app,
  ): Promise<Service> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const log = createWriteStream(join(ARTIFACTS, `${suite}-${name}.log`), { flags: 'a' });
    log.write(`--- ${new Date().toISOString()} starting ${name}: ${JSON.stringify(env)}\n`);
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', join(REPO_ROOT, 'apps', app, 'dist', 'main.js')],
      {
        cwd: REPO_ROOT,
        // jest's NODE_OPTIONS (--experimental-vm-modules) are not for the apps.
        env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const service = new Service(name, child, log);
    const failed = service.exited.then(({ code, signal }) => {
      throw new Error(
        `${name} exited during start-up (code ${String(code)}, signal ${String(signal)}); see its log in ${ARTIFACTS}`,
      );
    });
    try {
      await Promise.race([waitForHttp(readyUrl), failed]);
    } catch (error) {
      await service.stop();
      throw error;
    }
    failed.catch(() => undefined);
    return service;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Kills the process at once (no cleanup: as a crash or a power cut would). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  async stop(graceMs = 8000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }
}

/** Ports and URLs of one suite's three services (fixed: the suite runs in its own network namespace). */
export interface Stack {
  signalPort: number;
  webPort: number;
  healthPort: number;
  signalingUrl: string;
  pageUrl: string;
  statsUrl: string;
}

export function stackOn(base: number): Stack {
  const signalPort = base + 765;
  const webPort = base + 80;
  const healthPort = base + 766;
  return {
    signalPort,
    webPort,
    healthPort,
    signalingUrl: `ws://127.0.0.1:${signalPort}`,
    pageUrl: `http://127.0.0.1:${webPort}/`,
    statsUrl: `http://127.0.0.1:${healthPort}/stats`,
  };
}

export function startSignal(suite: string, stack: Stack, env: Record<string, string> = {}): Promise<Service> {
  return Service.start(
    suite,
    'signal',
    { PORT: String(stack.signalPort), ...env },
    `http://127.0.0.1:${stack.signalPort}/healthz`,
  );
}

/** Starts a sender; resolves once it is registered with the signaling server. */
export function startSender(suite: string, stack: Stack, env: Record<string, string>): Promise<Service> {
  return Service.start(
    suite,
    'sender',
    {
      SIGNALING_URL: stack.signalingUrl,
      HEALTH_PORT: String(stack.healthPort),
      SENDER_NAME: 'e2e-robot',
      ...env,
    },
    `http://127.0.0.1:${stack.healthPort}/healthz`,
  );
}

export function startWeb(suite: string, stack: Stack, env: Record<string, string>): Promise<Service> {
  return Service.start(
    suite,
    'web',
    { PORT: String(stack.webPort), ...env },
    `http://127.0.0.1:${stack.webPort}/healthz`,
  );
}

/** Per-camera counters from the sender's GET /stats. */
export interface SenderCameraStats {
  id: string;
  running: boolean;
  viewers: number;
  encoderStarts: number;
  framesEncoded: number;
}

/** Viewer sessions from the sender's GET /stats. */
export interface SenderSessionStats {
  id: string;
  cameras: string[];
  connectionState: string;
}

export async function senderStats(
  stack: Stack,
): Promise<{ cameras: SenderCameraStats[]; sessions: SenderSessionStats[] }> {
  const response = await fetch(stack.statsUrl, { signal: AbortSignal.timeout(3000) });
  return (await response.json()) as { cameras: SenderCameraStats[]; sessions: SenderSessionStats[] };
}

export async function senderCameraStats(stack: Stack): Promise<SenderCameraStats[]> {
  return (await senderStats(stack)).cameras;
}
