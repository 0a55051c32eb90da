import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
