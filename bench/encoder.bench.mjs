// Encoder micro benchmark: encode latency (p50/p95/max) and CPU use of @robocam/sender's
// VideoEncoder for VP8 and H.264 at 480p/720p/1080p, frames paced at 30 fps for ~5 s each, with
// the pipeline's "latest frame wins" policy (a frame that arrives while the encoder is busy is
// dropped and counted).
//
// Runs against the built library:  npx nx build sender-core && node bench/encoder.bench.mjs
// Options (env): BENCH_SECONDS=5  BENCH_CODECS=vp8,h264  BENCH_SIZES=640x480,1280x720,1920x1080
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cameraLikeFrame } from './lib/camera-frames.mjs';

const { VideoEncoder } = await import('../libs/sender-core/dist/encoder/index.js');

const FPS = 30;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CODECS = (process.env.BENCH_CODECS ?? 'vp8,h264').split(',');
const SIZES = (process.env.BENCH_SIZES ?? '640x480,1280x720,1920x1080')
  .split(',')
  .map((s) => s.split('x').map(Number));

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))];
}

async function run(codec, w, h) {
  const frames = Array.from({ length: 16 }, (_, i) => cameraLikeFrame(w, h, i));
  const enc = await VideoEncoder.create({ codec, width: w, height: h, fps: FPS, encoder: 'software' });
  // Warm-up (first keyframe, allocations).
  for (let i = 0; i < 5; i++)
    await enc.encode({
      data: frames[i],
      width: w,
      height: h,
      timestampMs: i * (1000 / FPS),
      monotonicMs: i * (1000 / FPS),
    });
  const encodeMs = [];
  let bytes = 0;
  let dropped = 0;
  let inFlight = Promise.resolve();
  const n = Math.round(SECONDS * FPS);
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / FPS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (enc.busy) {
      dropped += 1;
      continue;
    }
    inFlight = enc
      .encode({ data: frames[i % frames.length], width: w, height: h, timestampMs: due, monotonicMs: due })
      .then((out) => {
        for (const f of out) {
          encodeMs.push(f.encodeMs);
          bytes += f.data.length;
        }
      });
  }
  await inFlight;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  encodeMs.sort((a, b) => a - b);
  const result = {
    codec,
    impl: enc.implementation,
    size: `${w}x${h}`,
    frames: encodeMs.length,
    dropped,
    p50ms: +pct(encodeMs, 0.5).toFixed(2),
    p95ms: +pct(encodeMs, 0.95).toFixed(2),
    maxms: +encodeMs[encodeMs.length - 1].toFixed(2),
    cores: +((cpu.user + cpu.system) / 1000 / wallMs).toFixed(3),
    eventLoop: +elu.utilization.toFixed(3),
    kbps: Math.round((bytes * 8) / (wallMs / 1000) / 1000),
    targetKbps: enc.bitrateKbps,
  };
  await enc.close();
  return result;
}

console.log(
  `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${SECONDS} s per run at ${FPS} fps`,
);
const results = [];
for (const codec of CODECS) {
  for (const [w, h] of SIZES) {
    const r = await run(codec, w, h);
    results.push(r);
    console.log(JSON.stringify(r));
  }
}
console.table(results);
