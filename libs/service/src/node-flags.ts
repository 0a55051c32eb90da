/** Set in the relaunched process only, so that a flag Node does not echo back cannot loop. */
const RELAUNCHED = 'ROBOCAM_RELAUNCHED';

/** `--max_semi_space_size=16`, `--no-optimize-for-size` → `max-semi-space-size`, `optimize-for-size`. */
function flagName(argument: string): string | undefined {
  const match = /^--(?:no-)?([^=\s]+)/.exec(argument);
  return match?.[1]?.replaceAll('_', '-');
}

/**
 * The flags of `wanted` that the process was not started with. A flag counts as given when the
 * command line or `NODE_OPTIONS` names it in any form (`--x`, `--x=8`, `--no-x`), so a user can
 * override or switch off each one.
 */
export function missingNodeFlags(
  wanted: readonly string[],
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env['NODE_OPTIONS'] ?? '',
): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map(flagName));
  return wanted.filter((flag) => !given.has(flagName(flag)));
}

/**
 * Makes sure the process runs with the Node/V8 `flags` (e.g. heap sizing), restarting it in place
 * when some are missing: `process.execve` replaces the program but keeps the PID, stdio, signals
 * and environment, so init systems, tini and `docker stop` see one process throughout. Call it
 * first thing in an app's entry module, before anything else is loaded.
 *
 * Why: V8 fixes its heap configuration when the process starts, and Node refuses most V8 flags in
 * `NODE_OPTIONS`, so flags an app depends on would otherwise have to be repeated by every launcher
 * (npm scripts, Dockerfile, systemd unit, the user's shell).
 *
 * Flags the process already has (in any form, see {@link missingNodeFlags}) are left as they are.
 * Does nothing where `process.execve` does not exist (Windows), after one relaunch, or when the
 * process has an IPC channel to its parent (`node --watch`, `child_process.fork`): give the flags
 * on that command line instead.
 */
export function relaunchWithNodeFlags(flags: readonly string[]): void {
  if (process.env[RELAUNCHED] !== undefined) {
    Reflect.deleteProperty(process.env, RELAUNCHED); // not inherited by this process's own children
    return;
  }
  // The IPC channel's descriptor is close-on-exec, so a relaunched program would lose it. Under
  // `node --watch` that channel is how the child reports each module it loads; without it watch
  // mode restarted on a change of the entry file only, and `nx serve sender` never picked up a
  // rebuild. Keep the channel: the parent's launcher passes the flags itself.
  if (process.channel !== undefined) return;
  const missing = missingNodeFlags(flags);
  if (missing.length === 0 || typeof process.execve !== 'function') return;
  const [, script, ...args] = process.argv;
  if (script === undefined) return; // node -e / REPL: there is no entry file to run again
  process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, script, ...args], {
    ...process.env,
    [RELAUNCHED]: '1',
  });
}
