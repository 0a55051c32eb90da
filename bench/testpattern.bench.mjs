// Benchmark of @robocam/testpattern (run against the built dist/: `npx nx run testpattern:bench`,
// or `npx nx build testpattern && node --expose-gc bench/testpattern.bench.mjs [--frames N]
// [--patterns bars,busy] [--out file.md]`).
//
// For each pattern ('bars', the default colour bars, and 'busy', the camera-like panning noisy scene)
// and each size: time per generated frame (mean, p50, p95, p99, max) over N frames after warm-up,
// the cost of the plain full-frame copy the generator starts each frame with (the floor), heap growth
// over N more frames (without GC in between: any per-frame allocation would show up as bytes/frame),
// GC events during the timed run, and the cost of decoding the timecode strip (viewer side).
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';

const dist = new URL('../libs/testpattern/dist/index.js', import.meta.url);
const { TestPatternGenerator, decodeTimecode, decodeTimecodeFromLuma, timecodeGeometry, i420Layout } =
  await import(dist.href).catch((error) => {
    console.error(`Cannot load ${dist.pathname}: build first (npx nx build testpattern).`);
    throw error;
  });

const args = process.argv.slice(2);
const argValue = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const FRAMES = Number(argValue('--frames', '2000'));
const WARMUP = 300;
const OUT = argValue('--out', undefined);
const PATTERNS = argValue('--patterns', 'bars,busy').split(',');
const SIZES = [
  [640, 480],
  [1280, 720],
  [1920, 1080],
  [3840, 2160],
];
const gc = globalThis.gc;

let gcEvents = 0;
const observer = new PerformanceObserver((list) => {
  gcEvents += list.getEntries().length;
});
observer.observe({ entryTypes: ['gc'] });
const flushObserver = () => new Promise((resolve) => setTimeout(resolve, 20));

function stats(samples) {
  const sorted = Float64Array.from(samples).sort();
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    mean: sum / sorted.length,
    p50: pick(0.5),
    p95: pick(0.95),
    p99: pick(0.99),
    max: sorted[sorted.length - 1],
  };
}

function runFrames(gen, params, n) {
  for (let i = 0; i < n; i++) {
    params.timestampMs += 33;
    params.counter++;
    gen.next(params);
  }
}

function timeFrames(gen, params, samples) {
  for (let i = 0; i < samples.length; i++) {
    params.timestampMs += 33;
    params.counter++;
    const t0 = performance.now();
    gen.next(params);
    samples[i] = performance.now() - t0;
  }
}

const us = (ms) => (ms * 1000).toFixed(1);
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const rows = [];

// Let the JIT optimise the generator and the loops before measuring anything.
{
  const warm = new TestPatternGenerator({ width: 320, height: 240 });
  const params = { timestampMs: 1_750_000_000_000, counter: 0 };
  for (let i = 0; i < 5; i++) {
    runFrames(warm, params, 2000);
    timeFrames(warm, params, new Float64Array(2000));
  }
}

// Warm the busy scene's loops too (its own code paths).
if (PATTERNS.includes('busy')) {
  const warm = new TestPatternGenerator({ width: 320, height: 240, pattern: 'busy' });
  const params = { timestampMs: 1_750_000_000_000, counter: 0 };
  for (let i = 0; i < 3; i++) {
    runFrames(warm, params, 1000);
    timeFrames(warm, params, new Float64Array(1000));
  }
}

for (const pattern of PATTERNS)
  for (const [width, height] of SIZES) {
    const gen = new TestPatternGenerator({ width, height, label: 'bench cam', poolSize: 4, pattern });
    const params = { timestampMs: 1_750_000_000_000, counter: 0 };
    runFrames(gen, params, WARMUP);

    // Timed run.
    const samples = new Float64Array(FRAMES);
    gc?.();
    const heapStart = process.memoryUsage().heapUsed;
    await flushObserver();
    gcEvents = 0;
    timeFrames(gen, params, samples);
    await flushObserver();
    const timedGcEvents = gcEvents;
    const frame = stats(samples);

    // Floor: the plain copy of a whole I420 frame.
    const { byteLength } = i420Layout(width, height);
    const src = new Uint8Array(byteLength).fill(7);
    const dst = new Uint8Array(byteLength);
    const copySamples = new Float64Array(Math.min(FRAMES, 1000));
    for (let i = 0; i < copySamples.length; i++) {
      const t0 = performance.now();
      dst.set(src);
      copySamples[i] = performance.now() - t0;
    }
    const copy = stats(copySamples);

    // Heap growth: heapUsed before and after N frames with no GC in between (the young generation is
    // several MB, so garbage of even a few bytes per frame would add up), for N = FRAMES and 5 × FRAMES:
    // equal growth means a constant cost of the measurement itself, not per-frame allocation.
    const growth = (n) => {
      gc?.();
      const before = process.memoryUsage().heapUsed;
      runFrames(gen, params, n);
      return process.memoryUsage().heapUsed - before;
    };
    growth(5 * FRAMES); // discarded: lets late JIT work (code, feedback) finish first
    const growthShort = growth(FRAMES);
    const growthLong = growth(5 * FRAMES);
    gc?.();
    const heapAfterGc = process.memoryUsage().heapUsed - heapStart;

    // Decoding (viewer side): RGBA of the strip rows, and a Y plane.
    const last = gen.next(params);
    const { stripHeight } = timecodeGeometry(width, height);
    const rgba = new Uint8ClampedArray(width * stripHeight * 4);
    for (let y = 0; y < stripHeight; y++) {
      for (let x = 0; x < width; x++) {
        const v = last.data[y * width + x] > 125 ? 255 : 0;
        rgba.fill(v, (y * width + x) * 4, (y * width + x) * 4 + 3);
        rgba[(y * width + x) * 4 + 3] = 255;
      }
    }
    const decodeSamples = new Float64Array(500);
    const lumaSamples = new Float64Array(500);
    for (let i = 0; i < 500; i++) {
      let t0 = performance.now();
      const a = decodeTimecode(rgba, width, height);
      decodeSamples[i] = performance.now() - t0;
      t0 = performance.now();
      const b = decodeTimecodeFromLuma(last.data, width, height);
      lumaSamples[i] = performance.now() - t0;
      if (!a || !b || a.timestampMs !== params.timestampMs) throw new Error('decode failed');
    }

    rows.push({
      pattern,
      size: `${width}x${height}`,
      frame,
      copy,
      growthShort,
      growthLong,
      heapPerFrame: (growthLong - growthShort) / (4 * FRAMES),
      heapAfterGc,
      gcEvents: timedGcEvents,
      decodeRgba: stats(decodeSamples).p50,
      decodeLuma: stats(lumaSamples).p50,
    });
  }
observer.disconnect();

const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
const lines = [
  `Node ${process.version}, ${cpus().length} cores (${cpu}), ${FRAMES} frames per size after ${WARMUP} warm-up frames, ` +
    `N = ${FRAMES}, poolSize 4${gc ? ', --expose-gc' : ' (run with --expose-gc for heap numbers after GC)'}. Times in µs.`,
  '',
  '| pattern | size | mean | p50 | p95 | p99 | max | full-frame copy p50 | heap growth, no GC: N / 5N frames | ≈ bytes / frame | heap after GC | GCs during run | decode RGBA strip p50 | decode Y plane p50 |',
  '| ------- | ---- | ---: | --: | --: | --: | --: | ------------------: | ------------------------------: | -------------: | ------------: | -------------: | --------------------: | -----------------: |',
  ...rows.map(
    (r) =>
      `| ${r.pattern} | ${r.size} | ${us(r.frame.mean)} | ${us(r.frame.p50)} | ${us(r.frame.p95)} | ${us(r.frame.p99)} | ${us(r.frame.max)} | ` +
      `${us(r.copy.p50)} | ${kib(r.growthShort)} / ${kib(r.growthLong)} | ${Math.max(0, r.heapPerFrame).toFixed(2)} | ` +
      `${kib(r.heapAfterGc)} | ${r.gcEvents} | ` +
      `${us(r.decodeRgba)} | ${us(r.decodeLuma)} |`,
  ),
];
const text = lines.join('\n');
console.log(text);
if (OUT) writeFileSync(OUT, `${text}\n`);
