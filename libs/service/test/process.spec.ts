// exitOnConfigError and shutdownOnSignals exit the process, so they run in real child processes:
// the fixtures in test/fixtures import the built package (the test target depends on build).
import { describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface Run {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** The JSON lines printed so far. */
  lines: () => Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once `count` printed lines have this `msg` (and the given fields). */
  waitFor: (message: string, fields?: Record<string, unknown>, count?: number) => Promise<void>;
}

function run(script: string, env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [fixture(script)], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: 'pipe',
  });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (data: Buffer) => {
    stdout += data.toString();
    for (const waiter of [...waiters]) waiter();
  });
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines = (): Record<string, unknown>[] =>
    stdout
      .split('\n')
      .slice(0, -1) // complete lines only
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const matches = (message: string, fields: Record<string, unknown>, count: number): boolean =>
    lines().filter(
      (line) =>
        line['msg'] === message && Object.entries(fields).every(([key, value]) => line[key] === value),
    ).length >= count;
  const waitFor = (message: string, fields: Record<string, unknown> = {}, count = 1): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!matches(message, fields, count)) return;
        waiters.splice(waiters.indexOf(check), 1);
        resolve();
      };
      waiters.push(check);
      check();
      void exited.then(() => {
        if (!matches(message, fields, count))
          reject(new Error(`exited before printing "${message}"; stdout:\n${stdout}\nstderr:\n${stderr}`));
      });
    });
  return { child, stdout: () => stdout, stderr: () => stderr, lines, exited, waitFor };
}

/** Starts the shutdown fixture and waits until its handlers are installed. */
async function startShutdownApp(env: Record<string, string> = {}): Promise<Run> {
  const app = run('shutdown.mjs', env);
  await app.waitFor('ready');
  return app;
}

/** Writes commands to the shutdown fixture, one a line: `release`, `shutdown N`. */
function send(app: Run, ...commands: string[]): void {
  app.child.stdin.write(`${commands.join('\n')}\n`);
}

const closeCalls = (app: Run): number => app.lines().filter((line) => line['msg'] === 'close called').length;

/** [level, msg] of every logged line, leaving out the fixture's own bookkeeping (level `test`). */
const logged = (app: Run): unknown[] =>
  app
    .lines()
    .filter((line) => line['level'] !== 'test')
    .map((line) => [line['level'], line['msg']]);

describe('exitOnConfigError', () => {
  it('returns the configuration when it is valid', async () => {
    const app = run('config.mjs', { PORT: '9000', NAME: '' });
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(JSON.parse(app.stdout())).toEqual({ PORT: 9000, NAME: 'demo' });
    expect(app.stderr()).toBe('');
  });

  it('prints "robocam <app>: <message>" to stderr and exits with 2 on a ConfigError', async () => {
    const app = run('config.mjs', { PORT: 'eighty' });
    expect(await app.exited).toEqual({ code: 2, signal: null });
    expect(app.stdout()).toBe('');
    expect(app.stderr()).toBe(
      'robocam demo: invalid configuration:\n  PORT="eighty": Invalid input: expected number, received NaN\n',
    );
  });

  it('rethrows other errors (an uncaught exception, exit code 1)', async () => {
    const app = run('config.mjs', { THROW: '1' });
    expect(await app.exited).toEqual({ code: 1, signal: null });
    expect(app.stderr()).toMatch(/Error: not a configuration problem/);
    expect(app.stderr()).not.toMatch(/robocam demo:/);
  });
});

describe('shutdownOnSignals', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('on %s closes, logs and exits with 0', async (signal) => {
    const app = await startShutdownApp();
    app.child.kill(signal);
    await app.waitFor('close called');
    send(app, 'release');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.lines()).toContainEqual({ level: 'info', signal, msg: 'stopping' });
    expect(logged(app)).toEqual([
      ['info', 'stopping'],
      ['info', 'stopped'],
    ]);
  });

  it('logs "unclean shutdown" and exits with 1 when close() rejects', async () => {
    const app = await startShutdownApp({ CLOSE: 'reject' });
    app.child.kill('SIGTERM');
    await app.waitFor('close called');
    send(app, 'release');
    expect(await app.exited).toEqual({ code: 1, signal: null });
    expect(app.lines()).toContainEqual({
      level: 'error',
      err: 'Error: port still busy',
      msg: 'unclean shutdown',
    });
    expect(logged(app)).toEqual([
      ['info', 'stopping'],
      ['error', 'unclean shutdown'],
    ]);
  });

  it('closes once however many signals and shutdown() calls arrive', async () => {
    const app = await startShutdownApp();
    app.child.kill('SIGTERM');
    await app.waitFor('close called');
    app.child.kill('SIGINT');
    await app.waitFor('signal seen', { signal: 'SIGINT' });
    app.child.kill('SIGTERM');
    await app.waitFor('signal seen', { signal: 'SIGTERM' }, 2);
    // Read in order: shutdown(3) while stopping changes nothing (not the exit code either).
    send(app, 'shutdown 3', 'release');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(closeCalls(app)).toBe(1);
    expect(logged(app)).toEqual([
      ['info', 'stopping'],
      ['info', 'stopped'],
    ]);
  });

  it('shutdown(code) closes and exits with that code, and signals after it change nothing', async () => {
    const app = await startShutdownApp();
    send(app, 'shutdown 3');
    await app.waitFor('close called');
    app.child.kill('SIGTERM');
    await app.waitFor('signal seen', { signal: 'SIGTERM' });
    send(app, 'release');
    expect(await app.exited).toEqual({ code: 3, signal: null });
    expect(closeCalls(app)).toBe(1);
    expect(logged(app)).toEqual([['info', 'stopped']]);
  });
});
