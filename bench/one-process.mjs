// One process vs three: resident memory and CPU of robocam's services with 1 and 4 viewers, as
// `npm start` runs them (signal + sender + web, three processes) and as `npm start -- --one-process`
// does (apps/robocam). Test pattern 1280x720@30 VP8 (the default camera); the viewers are werift
// peers in this process (one decodes the timecode strip for glass-to-glass latency), so only the
// services are measured. Per configuration: start, connect the viewers, 5 s warm-up, then RSS (sum
// over the service processes, at the end) and CPU (cores, over the window) from /proc, beside the
// whole machine's busy cores in the same window (on a shared machine the rest of it competes).
// `--rounds N` repeats every configuration N times, alternating the two modes, and reports the
// median of each figure.
//
//   npx nx run-many -t build -p signal sender web robocam
//   flock /tmp/robocam-heavy.lock node bench/one-process.mjs [--seconds 20] [--viewers 1,4] [--rounds 3]
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  argument,
  isolate,
  percentile,
  processReading,
  startApp,
  waitForHttp,
  watch,
} from './lib/harness.mjs';
import { machineBusySeconds } from './lib/cpu.mjs';

const args = process.argv.slice(2);
isolate(import.meta.url, args);
const seconds = Number(argument(args, '--seconds') ?? 20);
const viewerCounts = (argument(args, '--viewers') ?? '1,4').split(',').map(Number);
const rounds = Number(argument(args, '--rounds') ?? 1);
const CAMERAS = 'testpattern:1280x720@30';

async function startThree() {
  const signal = startApp('signal', { PORT: '31765', HOST: '127.0.0.1' });
  const sender = startApp('sender', {
    SIGNALING_URL: 'ws://127.0.0.1:31765',
    HEALTH_PORT: '31766',
    CAMERAS,
  });
  const web = startApp('web', { PORT: '31080', HOST: '127.0.0.1', SIGNALING_PORT: '31765' });
  await waitForHttp('http://127.0.0.1:31766/healthz');
  await waitForHttp('http://127.0.0.1:31080/healthz');
  return {
    signalingUrl: 'ws://127.0.0.1:31765',
    apps: [signal, sender, web],
  };
}

async function startOne() {
  const robocam = startApp('robocam', { PORT: '32080', HOST: '127.0.0.1', CAMERAS });
  await waitForHttp('http://127.0.0.1:32080/healthz');
  return { signalingUrl: 'ws://127.0.0.1:32080/signal', apps: [robocam] };
}

// The apps relaunch themselves with V8 flags (relaunchWithNodeFlags): measure the whole tree of
// each, i.e. every process below the one started.
function descendants(pid) {
  const out = [pid];
  for (const child of readChildren(pid)) out.push(...descendants(child));
  return out;
}
function readChildren(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
function reading(apps) {
  let rssMiB = 0;
  let cpuSeconds = 0;
  for (const app of apps) {
    for (const pid of descendants(app.child.pid)) {
      try {
        const r = processReading(pid);
        rssMiB += r.rssMiB;
        cpuSeconds += r.cpuSeconds;
      } catch {
        // exited meanwhile
      }
    }
  }
  return { rssMiB, cpuSeconds };
}

const rows = [];
for (let round = 0; round < rounds; round += 1) {
  for (const viewers of viewerCounts) {
    for (const mode of ['three processes', 'one process']) {
      const stack = mode === 'one process' ? await startOne() : await startThree();
      const latencies = [];
      const watchers = [];
      for (let i = 0; i < viewers; i += 1) {
        watchers.push(
          await watch(stack.signalingUrl, {
            decode: i === 0,
            onLatency: i === 0 ? (ms) => latencies.push(ms) : undefined,
          }),
        );
      }
      await sleep(5_000);
      latencies.length = 0;
      const before = reading(stack.apps);
      const machineBefore = machineBusySeconds();
      const startedAt = performance.now();
      await sleep(seconds * 1000);
      const after = reading(stack.apps);
      const machineCores = (machineBusySeconds() - machineBefore) / ((performance.now() - startedAt) / 1000);
      const elapsed = (performance.now() - startedAt) / 1000;
      const frames = watchers.map((w) => w.state.frames);
      for (const w of watchers) await w.close();
      for (const app of stack.apps.toReversed()) await app.stop();
      latencies.sort((a, b) => a - b);
      const row = {
        mode,
        viewers,
        processes: stack.apps.length,
        rssMiB: Math.round(after.rssMiB),
        cores: Number(((after.cpuSeconds - before.cpuSeconds) / elapsed).toFixed(2)),
        latencyP50Ms: Math.round(percentile(latencies, 0.5)),
        latencyP95Ms: Math.round(percentile(latencies, 0.95)),
        fps: Number((frames[0] / (elapsed + 5)).toFixed(1)),
        machineCores: Number(machineCores.toFixed(2)),
      };
      rows.push(row);
      console.error(JSON.stringify(row));
    }
  }
}

const median = (values) => {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};
const table = [];
for (const viewers of viewerCounts) {
  for (const mode of ['three processes', 'one process']) {
    const runs = rows.filter((r) => r.mode === mode && r.viewers === viewers);
    const pick = (key) => median(runs.map((r) => r[key]));
    table.push({
      mode,
      viewers,
      processes: runs[0].processes,
      rssMiB: pick('rssMiB'),
      cores: pick('cores'),
      latencyP50Ms: pick('latencyP50Ms'),
      latencyP95Ms: pick('latencyP95Ms'),
      fps: pick('fps'),
      machineCores: pick('machineCores'),
    });
  }
}

console.log(`medians of ${rounds} round(s), ${seconds} s each`);
console.log(
  '| mode | viewers | processes | RSS (MiB) | CPU (cores) | latency p50 / p95 (ms) | fps received | machine busy (cores) |',
);
console.log('| --- | --: | --: | --: | --: | --: | --: | --: |');
for (const r of table) {
  console.log(
    `| ${r.mode} | ${r.viewers} | ${r.processes} | ${r.rssMiB} | ${r.cores} | ${r.latencyP50Ms} / ${r.latencyP95Ms} | ${r.fps} | ${r.machineCores} |`,
  );
}
