// `npm start`: builds signal, sender and web (web's build includes @robocam/viewer's page), then
// runs all three locally on the test pattern, as separate child processes (no Docker, no camera).
// Their JSON logs are forwarded with a prefix (pretty-printed on a terminal; LOG_FORMAT=json keeps
// the raw lines). Ctrl-C or SIGTERM stops all three cleanly and exits 0; if one of them dies on its
// own, the others are stopped and the exit status is non-zero.
//
//   npm start                      build, then run → http://localhost:8080
//   npm start -- --one-process     the same in one process (apps/robocam): page, signaling, sender
//                                  and health all on PORT; the recommended way on a single robot
//   npm start -- --no-build        run what is already built
//   CAMERAS=testpattern:640x480@30,testpattern:320x240@30 CODEC=h264 npm start
//
// Environment: every variable passes through to the three apps (CAMERAS, CODEC, LOG_LEVEL, …).
// Ports: PORT is the viewer page's (default 8080), SIGNAL_PORT the signaling server's (8765),
// HEALTH_PORT the sender's health endpoint (8766); with --one-process, PORT alone.
import { spawn, spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
if (args.has('--help') || args.has('-h')) {
  console.log(
    'usage: npm start [-- --one-process] [--no-build]   (see the comment at the top of scripts/start.mjs)',
  );
  process.exit(0);
}
if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(`robocam needs Node >= 24 (found ${process.version}); see .nvmrc`);
  process.exit(1);
}

const oneProcess = args.has('--one-process');
const env = process.env;
const webPort = env.PORT || '8080';
const signalPort = env.SIGNAL_PORT || '8765';
const healthPort = env.HEALTH_PORT || '8766';
const tty = process.stdout.isTTY === true && env.NO_COLOR === undefined;
const pretty = tty && env.LOG_FORMAT !== 'json';
const color = (code, text) => (tty ? `\u001b[${code}m${text}\u001b[0m` : text);

// ---- build ------------------------------------------------------------------------------------

if (!args.has('--no-build')) {
  const projects = oneProcess ? ['robocam'] : ['signal', 'sender', 'web'];
  console.log(color('1', `building ${projects.join(', ')}…`));
  const build = spawnSync(
    'npx',
    ['nx', 'run-many', '-t', 'build', '-p', ...projects, '--outputStyle=static'],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...env, NX_NO_CLOUD: 'true' },
    },
  );
  if (build.status !== 0) {
    console.error(color('31', `build failed (${build.status ?? build.signal}); nothing started`));
    process.exit(build.status || 1);
  }
}

// ---- the three services -------------------------------------------------------------------------

const { SIGNALING_URL: senderSignalingUrl, ...shared } = env;
const threeServices = [
  { name: 'signal', colour: '35', env: { ...shared, PORT: signalPort } },
  {
    name: 'sender',
    colour: '36',
    env: {
      ...shared,
      SIGNALING_URL: senderSignalingUrl || `ws://localhost:${signalPort}`,
      HEALTH_PORT: healthPort,
    },
  },
  {
    name: 'web',
    colour: '33',
    // The page reaches signaling at its own host on SIGNAL_PORT, unless PUBLIC_SIGNALING_URL says
    // otherwise; SIGNALING_URL is the sender's (often "localhost", wrong for other machines).
    env: { ...shared, PORT: webPort, SIGNALING_PORT: env.SIGNALING_PORT || signalPort },
  },
];
const services = oneProcess
  ? [{ name: 'robocam', colour: '36', env: { ...shared, PORT: webPort } }]
  : threeServices;

const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLOURS = { 40: '33', 50: '31', 60: '31' };
const width = Math.max(...services.map((service) => service.name.length));

function printLine(service, line, stream) {
  const prefix = color(service.colour, service.name.padEnd(width));
  if (!pretty) {
    stream.write(`[${service.name}] ${line}\n`);
    return;
  }
  let record;
  try {
    record = JSON.parse(line);
  } catch {
    record = undefined;
  }
  if (record === null || typeof record !== 'object' || typeof record.level !== 'number') {
    stream.write(`${prefix} ${line}\n`);
    return;
  }
  const { level, time, msg, pid: _pid, hostname: _hostname, name: _name, component, ...rest } = record;
  const clock = new Date(typeof time === 'number' ? time : Date.now()).toISOString().slice(11, 23);
  // The one process logs for its three parts: name the part (signal, web, sender) where the three
  // processes' names would stand.
  const who = typeof component === 'string' ? color(service.colour, component.padEnd(width)) : prefix;
  const label = color(LEVEL_COLOURS[level] ?? '32', (LEVELS[level] ?? String(level)).padEnd(5));
  const extra = Object.keys(rest).length === 0 ? '' : ` ${color('2', JSON.stringify(rest))}`;
  stream.write(`${color('2', clock)} ${who} ${label} ${msg ?? ''}${extra}\n`);
}

let stopping = false;
let exitCode = 0;
const children = services.map((service) => {
  const child = spawn(
    process.execPath,
    ['--enable-source-maps', join(root, 'apps', service.name, 'dist', 'main.js')],
    {
      cwd: root,
      env: service.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  createInterface({ input: child.stdout }).on('line', (line) => printLine(service, line, process.stdout));
  createInterface({ input: child.stderr }).on('line', (line) => printLine(service, line, process.stderr));
  const exited = new Promise((resolve) => {
    // 'close' comes after the last output line, unlike 'exit'.
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  child.on('error', (error) => {
    console.error(color('31', `cannot start ${service.name}: ${error.message}`));
  });
  exited.then(({ code, signal }) => {
    if (stopping) return;
    console.error(
      color('31', `${service.name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the others`),
    );
    void stop(typeof code === 'number' && code !== 0 ? code : 1);
  });
  return { service, child, exited };
});

/** Sends SIGTERM to every child still running, waits (SIGKILL after 10 s), exits with `code`. */
async function stop(code) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  for (const { child } of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => {
    console.error(color('31', 'still running after 10 s: killing'));
    for (const { child } of children) child.kill('SIGKILL');
  }, 10_000);
  await Promise.all(children.map(({ exited }) => exited));
  clearTimeout(timer);
  console.log(exitCode === 0 ? 'all stopped' : color('31', 'stopped'));
  process.exit(exitCode);
}

let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1 && signal === 'SIGINT') {
      // A second Ctrl-C: do not wait any longer.
      for (const { child } of children) child.kill('SIGKILL');
      process.exit(130);
    }
    if (!stopping)
      console.log(`\n${signal}: stopping ${services.map((service) => service.name).join(', ')}…`);
    void stop(0);
  });
}

// ---- tell where to look -------------------------------------------------------------------------

async function ready(url, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return true;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

if (await ready(`http://localhost:${webPort}/healthz`)) {
  const lan = Object.values(networkInterfaces())
    .flat()
    .filter((address) => address !== undefined && !address.internal && address.family === 'IPv4')
    .map((address) => `http://${address.address}:${webPort}`);
  console.log(
    [
      '',
      color('1', `robocam is running: open http://localhost:${webPort}`),
      lan.length > 0 ? `  from other machines: ${lan.join('  ')}` : undefined,
      oneProcess
        ? `  one process: signaling ws://localhost:${webPort}/signal   sender stats http://localhost:${webPort}/stats`
        : `  signaling ws://localhost:${signalPort}   sender stats http://localhost:${healthPort}/stats`,
      '  Ctrl-C stops everything.',
      '',
    ]
      .filter((line) => line !== undefined)
      .join('\n'),
  );
} else if (!stopping) {
  console.error(
    color('33', `the viewer did not answer on port ${webPort} within 30 s; still waiting (Ctrl-C stops)`),
  );
}
