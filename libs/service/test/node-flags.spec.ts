import { describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { missingNodeFlags } from '../src/index.js';

describe('missingNodeFlags', () => {
  it('returns the wanted flags the command line and NODE_OPTIONS do not name', () => {
    expect(missingNodeFlags(['--optimize-for-size', '--max-semi-space-size=16'], [], '')).toEqual([
      '--optimize-for-size',
      '--max-semi-space-size=16',
    ]);
    expect(
      missingNodeFlags(['--optimize-for-size', '--max-semi-space-size=16'], ['--enable-source-maps'], ''),
    ).toEqual(['--optimize-for-size', '--max-semi-space-size=16']);
  });

  it('counts a flag as given in any form: another value, underscores, --no-, NODE_OPTIONS', () => {
    const wanted = ['--optimize-for-size', '--max-semi-space-size=16'];
    expect(missingNodeFlags(wanted, ['--max-semi-space-size=64'], '')).toEqual(['--optimize-for-size']);
    expect(missingNodeFlags(wanted, ['--max_semi_space_size=8'], '')).toEqual(['--optimize-for-size']);
    expect(missingNodeFlags(wanted, ['--no-optimize-for-size'], '')).toEqual(['--max-semi-space-size=16']);
    expect(missingNodeFlags(wanted, [], ' --max-semi-space-size=32  --inspect ')).toEqual([
      '--optimize-for-size',
    ]);
    expect(missingNodeFlags(wanted, ['--optimize-for-size'], '--max-semi-space-size=4')).toEqual([]);
  });
});

describe('relaunchWithNodeFlags (real processes)', () => {
  const fixture = fileURLToPath(new URL('./fixtures/relaunch.mjs', import.meta.url));
  interface Line {
    msg: string;
    pid: number;
    execArgv: string[];
    args?: string[];
    stackTraceLimit?: number;
    relaunchMarker?: string | null;
    keptEnv?: string | null;
  }
  const run = (nodeArgs: string[], flags: string[], env: Record<string, string> = {}) => {
    const result = spawnSync(process.execPath, [...nodeArgs, fixture, 'first', '--second'], {
      env: { PATH: process.env['PATH'] ?? '', FLAGS: JSON.stringify(flags), ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Line);
    return {
      started: lines.filter((l) => l.msg === 'started'),
      running: lines.filter((l) => l.msg === 'running'),
    };
  };

  it('restarts the program in place (same pid, arguments, environment) with the missing flags', () => {
    const { started, running } = run(['--enable-source-maps'], ['--stack-trace-limit=7'], { KEEP_ME: 'yes' });
    expect(started).toHaveLength(2);
    expect(running).toHaveLength(1);
    const [first, second] = started;
    expect(first!.execArgv).toEqual(['--enable-source-maps']);
    expect(second!.execArgv).toEqual(['--stack-trace-limit=7', '--enable-source-maps']);
    expect(second!.pid).toBe(first!.pid);
    expect(running[0]).toMatchObject({
      pid: first!.pid,
      args: ['first', '--second'],
      stackTraceLimit: 7,
      relaunchMarker: null, // removed again, so the process's own children start fresh
      keptEnv: 'yes',
    });
  });

  it('keeps a value the user chose on the command line and does not restart', () => {
    const { started, running } = run(['--stack-trace-limit=3'], ['--stack-trace-limit=7']);
    expect(started).toHaveLength(1);
    expect(running[0]).toMatchObject({ stackTraceLimit: 3, execArgv: ['--stack-trace-limit=3'] });
  });

  it('keeps a value the user chose in NODE_OPTIONS and does not restart', () => {
    const { started, running } = run([], ['--stack-trace-limit=7'], {
      NODE_OPTIONS: '--stack-trace-limit=4',
    });
    expect(started).toHaveLength(1);
    expect(running[0]).toMatchObject({ stackTraceLimit: 4 });
  });

  it('lets --no-<flag> switch a wanted flag off', () => {
    const { started, running } = run(['--no-optimize-for-size'], ['--optimize-for-size']);
    expect(started).toHaveLength(1);
    expect(running[0]!.execArgv).toEqual(['--no-optimize-for-size']);
  });

  it('adds only what is missing', () => {
    const { started, running } = run(
      ['--stack-trace-limit=5'],
      ['--stack-trace-limit=7', '--max-semi-space-size=4'],
    );
    expect(started).toHaveLength(2);
    expect(running[0]).toMatchObject({
      stackTraceLimit: 5,
      execArgv: ['--max-semi-space-size=4', '--stack-trace-limit=5'],
    });
  });
});

describe('relaunchWithNodeFlags under node --watch (real processes)', () => {
  const fixture = fileURLToPath(new URL('./fixtures/watch-relaunch.mjs', import.meta.url));

  // Bug: process.execve drops the IPC channel through which a --watch child reports the modules it
  // loads, so watch mode restarted on a change of the entry file only and `nx serve sender` never
  // picked up a rebuild.
  it('restarts the program when a module it imported changes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robocam-watch-'));
    const dep = join(dir, 'dep.mjs');
    await writeFile(dep, 'export const version = 1;\n');
    const child = spawn(process.execPath, ['--watch', fixture], {
      env: {
        PATH: process.env['PATH'] ?? '',
        FLAGS: '["--stack-trace-limit=7"]',
        DEP: pathToFileURL(dep).href,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const nextRun = async (): Promise<{ version: number }> => {
        for (;;) {
          const { value, done } = await lines.next();
          if (done === true) throw new Error('node --watch exited');
          if (value.startsWith('{')) return JSON.parse(value) as { version: number };
        }
      };
      expect(await nextRun()).toMatchObject({ version: 1 });
      await writeFile(dep, 'export const version = 2;\n');
      expect(await nextRun()).toMatchObject({ version: 2 });
    } finally {
      child.kill();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
