// Soak: N viewer connect → watch → disconnect cycles against one sender process. At the end no
// sessions, peer connections (sockets) or encoder may be left, and the sender's memory must not
// have grown by 10 % or more.
//
//   npx nx run-many -t build -p signal sender
//   node bench/soak.mjs [--cycles 1000] [--concurrency 2] [--preload /path/to/libjemalloc.so.2]
//   (or: npx nx run-many -t soak)
// --preload runs the sender with LD_PRELOAD set to that library, as the Docker image does with
// jemalloc; without it the sender uses glibc's malloc, as under `npm start`.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  argument,
  isolate,
  percentile,
  processReading,
  requireBuilt,
  startStack,
  watch,
} from './lib/harness.mjs';

const args = process.argv.slice(2);
isolate(import.meta.url, args);
requireBuilt();
const cycles = Number(argument(args, '--cycles') ?? 1000);
const concurrency = Number(argument(args, '--concurrency') ?? 2);
const preload = argument(args, '--preload');

const { signalingUrl, sender, stats, health, stop } = await startStack({
  signalPort: 31_765,
  cameras: 'testpattern:640x480@30',
  senderEnv: preload === undefined ? {} : { LD_PRELOAD: preload },
});
let failures = 0;
try {
  const started = Date.now();
  const durations = [];
  let done = 0;
  let baseline;
  const worker = async () => {
    while (done < cycles) {
      done += 1;
      const cycle = done;
      const t0 = performance.now();
      try {
        const viewer = await watch(signalingUrl);
        await viewer.close();
        durations.push(performance.now() - t0);
      } catch (error) {
        failures += 1;
        console.error(`cycle ${cycle}: ${error.message}`);
      }
      if (cycle === Math.min(50, Math.floor(cycles / 2))) {
        await sleep(1000);
        baseline = processReading(sender.child.pid);
      }
      if (cycle % 100 === 0) {
        const r = processReading(sender.child.pid);
        console.log(
          `cycle ${cycle}: sender RSS ${r.rssMiB.toFixed(1)} MiB, ${r.sockets} sockets, ${r.fds} fds`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // Sessions end when the viewer's bye arrives; give the last ones a moment.
  await sleep(3000);
  const end = processReading(sender.child.pid);
  const final = await stats();
  const { status } = await health();
  const sorted = durations.sort((a, b) => a - b);
  const growth = ((end.rssMiB - baseline.rssMiB) / baseline.rssMiB) * 100;
  const camera = final.cameras[0];
  const checks = [
    ['no sessions left', final.sessions.length === 0, `${final.sessions.length}`],
    [
      'encoder stopped',
      camera.running === false,
      `running=${camera.running}, starts=${camera.encoderStarts}`,
    ],
    [
      'no sockets left beyond the baseline',
      end.sockets <= baseline.sockets,
      `${baseline.sockets} → ${end.sockets}`,
    ],
    [
      'RSS growth < 10 %',
      growth < 10,
      `${baseline.rssMiB.toFixed(1)} → ${end.rssMiB.toFixed(1)} MiB (${growth.toFixed(1)} %)`,
    ],
    ['all cycles succeeded', failures === 0, `${failures} failures`],
  ];
  console.log(
    `\nsoak: ${cycles} cycles (allocator: ${preload ?? 'glibc malloc'}) (${concurrency} at a time) in ${((Date.now() - started) / 1000).toFixed(0)} s; cycle p50 ${percentile(sorted, 0.5).toFixed(0)} ms, p95 ${percentile(sorted, 0.95).toFixed(0)} ms; sender ${status}`,
  );
  for (const [name, ok, detail] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}: ${detail}`);
  process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1;
} finally {
  await stop();
}
