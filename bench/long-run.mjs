// Long run: one viewer at 1280x720@30 for 10 minutes. Glass-to-glass latency (timecode strip)
// per minute must not creep: p95 of minute 10 within 10 ms of minute 1; the sender's dropped
// frames and memory must not grow.
//
//   npx nx run-many -t build -p signal sender
//   node bench/long-run.mjs [--minutes 10]                    (or: npx nx run-many -t soak)
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
const minutes = Number(argument(args, '--minutes') ?? 10);

const { signalingUrl, sender, stats, stop } = await startStack({
  signalPort: 32_765,
  cameras: 'testpattern:1280x720@30',
});
try {
  let latencies = [];
  const viewer = await watch(signalingUrl, { decode: true, onLatency: (ms) => latencies.push(ms) });
  const rows = [];
  let previous = await stats();
  let previousFrames = viewer.state.decoded;
  for (let minute = 1; minute <= minutes; minute++) {
    latencies = [];
    await sleep(60_000);
    const now = await stats();
    const sorted = [...latencies].sort((a, b) => a - b);
    const camera = now.cameras[0];
    const before = previous.cameras[0];
    const reading = processReading(sender.child.pid);
    rows.push({
      minute,
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      fps: (viewer.state.decoded - previousFrames) / 60,
      dropped: camera.framesDropped - before.framesDropped,
      rss: reading.rssMiB,
    });
    console.log(
      `minute ${minute}: latency p50 ${rows.at(-1).p50} ms p95 ${rows.at(-1).p95} ms, ${rows.at(-1).fps.toFixed(1)} fps decoded, ` +
        `${rows.at(-1).dropped} frames dropped at the encoder, sender RSS ${reading.rssMiB.toFixed(1)} MiB`,
    );
    previous = now;
    previousFrames = viewer.state.decoded;
  }
  await viewer.close();
  const first = rows[0];
  const last = rows.at(-1);
  const creep = last.p95 - first.p95;
  console.log(
    `\nlong run: ${minutes} min at 1280x720@30; p95 minute 1 ${first.p95} ms, minute ${minutes} ${last.p95} ms (creep ${creep} ms)`,
  );
  console.log(
    '| minute | latency p50 (ms) | latency p95 (ms) | decoded fps | dropped at encoder | sender RSS (MiB) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const row of rows)
    console.log(
      `| ${row.minute} | ${row.p50} | ${row.p95} | ${row.fps.toFixed(1)} | ${row.dropped} | ${row.rss.toFixed(1)} |`,
    );
  process.exitCode = Math.abs(creep) <= 10 ? 0 : 1;
} finally {
  await stop();
}
