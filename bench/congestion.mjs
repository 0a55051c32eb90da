// Shaped-link benchmark (issue #12): the real apps (signal, sender, web from their dist/) and the
// real viewer page in headless Chromium, while the kernel narrows the link under them (tbf/htb in
// the isolated namespace; bench/lib/shaping.mjs). Measured in the page on every presented frame
// (bench/lib/page-probe.mjs): shown fps, glass-to-glass latency from the timecode strip, the
// longest gap between shown frames, delivered bitrate (getStats bytesReceived); the sender's
// GET /stats once a second (its per-viewer estimate, pacer, layers and the encoder's target when
// it reports them) and its CPU from /proc.
//
//   npx nx run-many -t build -p signal sender web
//   node bench/congestion.mjs                               one viewer, busy 720p30 VP8, the schedule
//   node bench/congestion.mjs --pattern default             the mostly static colour bars
//   node bench/congestion.mjs --codec h264
//   node bench/congestion.mjs --scenario two                two viewers, only one behind 500 kbit/s
//   node bench/congestion.mjs --scenario clean              clean link, 1 then 4 viewers
//   node bench/congestion.mjs --scenario all --json out.json   all of the above, in one run
//   node bench/congestion.mjs --scenario single:default,single:busy:h264   kind[:pattern[:codec]] lists
//   --schedule free:10,1mbit:20,400kbit:20,free:20          phases (s); a rate shapes every packet
//                                                            (tbf) or, with --scenario two, only the
//                                                            constrained viewer's media (htb)
//   --clean-seconds 15 --clean-viewers 1,4                  the clean scenario's window and counts
//   --compare before.json                                   clean-link targets against an earlier run
//   --sender-log info                                       the sender's log level (default warn)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  argument,
  isolate,
  launchChromium,
  percentile,
  processReading,
  requireBuilt,
  root,
  startApp,
  startStack,
  waitForHttp,
} from './lib/harness.mjs';
import { machineBusySeconds, treeCpuSeconds } from './lib/cpu.mjs';
import { candidatePorts, drainProbe, probeScript } from './lib/page-probe.mjs';
import {
  assertCanShape,
  clearShaping,
  parseRateKbps,
  shapeAll,
  shapePorts,
  shapingCounters,
} from './lib/shaping.mjs';

const args = process.argv.slice(2);
const reportFile = argument(args, '--report');
if (reportFile !== undefined) {
  report(JSON.parse(readFileSync(reportFile, 'utf8')));
  process.exit(0);
}
isolate(import.meta.url, args);
requireBuilt();
if (!existsSync(resolve(root, 'apps/web/dist/main.js'))) {
  console.error('missing apps/web/dist/main.js: run npx nx run-many -t build -p signal sender web first');
  process.exit(1);
}

const CONFIGURED_KBPS = 2500;
/** Phases are measured from this long after their start (the "from 2 s after its start"). */
const SETTLE_MS = 2000;
const pattern = argument(args, '--pattern') ?? 'busy';
const codec = argument(args, '--codec') ?? 'vp8';
const scenarioArg = argument(args, '--scenario') ?? 'single';
const scheduleArg = argument(args, '--schedule');
const cleanSeconds = Number(argument(args, '--clean-seconds') ?? 15);
const cleanViewers = (argument(args, '--clean-viewers') ?? '1,4').split(',').map(Number);
const jsonOut = argument(args, '--json');
const compareFile = argument(args, '--compare');
const senderLog = argument(args, '--sender-log') ?? 'warn';
if (!['busy', 'default'].includes(pattern)) throw new Error('--pattern is busy or default');
if (!['vp8', 'h264'].includes(codec)) throw new Error('--codec is vp8 or h264');

const SINGLE_SCHEDULE = 'free:10,1mbit:20,400kbit:20,free:20';
const TWO_SCHEDULE = 'free:10,500kbit:30,free:10';
const scenarios =
  scenarioArg === 'all'
    ? [
        { kind: 'single', pattern: 'busy', codec: 'vp8' },
        { kind: 'single', pattern: 'default', codec: 'vp8' },
        { kind: 'single', pattern: 'busy', codec: 'h264' },
        { kind: 'two', pattern: 'busy', codec: 'vp8' },
        { kind: 'clean', pattern: 'busy', codec: 'vp8' },
      ]
    : scenarioArg.split(',').map((item) => {
        // kind[:pattern[:codec]], e.g. single:default or single:busy:h264 (else --pattern, --codec).
        const [kind, itemPattern = pattern, itemCodec = codec] = item.split(':');
        if (!['single', 'two', 'clean'].includes(kind))
          throw new Error('--scenario: single, two, clean or all');
        if (!['busy', 'default'].includes(itemPattern))
          throw new Error(`${item}: the pattern is busy or default`);
        if (!['vp8', 'h264'].includes(itemCodec)) throw new Error(`${item}: the codec is vp8 or h264`);
        return { kind, pattern: itemPattern, codec: itemCodec };
      });

assertCanShape();
clearShaping();
const browser = await launchChromium();
const script = await probeScript();
const results = [];
let port = 33_000;
try {
  for (const scenario of scenarios) {
    const label = `${scenario.kind}, ${scenario.pattern} pattern, ${scenario.codec.toUpperCase()}`;
    console.log(`\n=== ${label} (load average ${loadAverage()})`);
    const stack = await startFullStack(port, scenario);
    port += 10;
    try {
      let result;
      if (scenario.kind === 'single') result = await runSingle(stack, scenario);
      else if (scenario.kind === 'two') result = await runTwo(stack, scenario);
      else result = await runClean(stack, scenario);
      results.push({ ...scenario, label, loadAverage: loadAverage(), ...result });
    } finally {
      clearShaping();
      await stack.stop();
    }
  }
} finally {
  clearShaping();
  await browser.close();
}
if (jsonOut !== undefined) {
  // Per-frame latencies stay out of the file (the timelines keep per-second figures), and of the
  // sender's /stats samples only what bears on congestion.
  const replacer = (key, value) => {
    if (key === 'latencies') return undefined;
    if (key === 'senderSamples') return value.map(slimSample);
    return value;
  };
  const run = { date: new Date().toISOString(), args, configuredKbps: CONFIGURED_KBPS, results };
  writeFileSync(jsonOut, `${JSON.stringify(run, replacer, 1)}\n`);
  console.log(`\nraw results in ${jsonOut}`);
}

// ---- scenarios ---------------------------------------------------------------------------------

/** One viewer; every phase with a rate shapes every packet on the links (tbf, 400 ms queue). */
async function runSingle(stack, scenario) {
  const viewer = await openViewer(stack, 'viewer');
  const recorder = record(stack, [viewer]);
  const phases = await runSchedule(parseSchedule(scheduleArg ?? SINGLE_SCHEDULE), (rate) =>
    rate === undefined ? clearShaping() : shapeAll(rate),
  );
  await recorder.stop();
  const measured = phases.map((phase, i) => ({
    ...phase,
    viewer: viewerMetrics(viewer, phase, phases[i - 1]),
    sender: senderMetrics(recorder, phase, viewer),
  }));
  printPhases(measured, ['viewer']);
  const targets = singleTargets(measured, scenario);
  printTargets(targets);
  await viewer.close();
  return {
    phases: measured,
    targets,
    timeline: timelines([viewer]),
    pageSessions: pageSessions([viewer]),
    senderSamples: recorder.samples,
  };
}

/**
 * Two viewers; every phase with a rate shapes only the constrained viewer's media: UDP to its
 * local ICE candidates' ports through an htb class (bench/lib/shaping.mjs), re-read every 100 ms:
 * when the page replaces its session, the new connection has new ports.
 */
async function runTwo(stack) {
  const free = await openViewer(stack, 'free');
  const constrained = await openViewer(stack, 'constrained');
  const recorder = record(stack, [free, constrained]);
  // Every 100 ms: the constrained page's candidate ports into the htb filter, so that a session
  // the page opens meanwhile (it replaces stalled ones) is shaped before its media flows.
  let rateNow;
  let following = true;
  const follow = async () => {
    const ports = await candidatePorts(constrained.page);
    if (rateNow !== undefined) shapePorts(ports, rateNow); // the phase may have ended meanwhile
  };
  const follower = (async () => {
    while (following) {
      await follow();
      await sleep(100);
    }
  })();
  // A failure stops the schedule at once (and is thrown below), not the process.
  let failed;
  follower.catch((error) => (failed = error));
  const phases = await runSchedule(parseSchedule(scheduleArg ?? TWO_SCHEDULE), async (rate) => {
    if (failed !== undefined) throw failed;
    rateNow = rate;
    if (rate === undefined) clearShaping();
    else await follow();
  });
  following = false;
  await follower;
  await recorder.stop();
  const measured = phases.map((phase, i) => ({
    ...phase,
    free: viewerMetrics(free, phase, phases[i - 1]),
    constrained: viewerMetrics(constrained, phase, phases[i - 1]),
    sender: senderMetrics(recorder, phase, free, constrained),
  }));
  printPhases(measured, ['free', 'constrained']);
  const targets = twoTargets(measured);
  printTargets(targets);
  await free.close();
  await constrained.close();
  return {
    shapedBy: 'htb class for UDP to the constrained viewer’s local ICE candidate ports (lo and v0)',
    phases: measured,
    targets,
    timeline: timelines([free, constrained]),
    pageSessions: pageSessions([free, constrained]),
    senderSamples: recorder.samples,
  };
}

/** Clean link: 1, then 4 viewers (--clean-viewers), each count for --clean-seconds after 3 s. */
async function runClean(stack) {
  const rows = [];
  const viewers = [];
  for (const count of cleanViewers) {
    while (viewers.length < count) viewers.push(await openViewer(stack, `viewer ${viewers.length + 1}`));
    while (viewers.length > count) await viewers.pop().close();
    const recorder = record(stack, viewers);
    await sleep(3000);
    const start = Date.now();
    await sleep(cleanSeconds * 1000);
    const phase = {
      name: `${count} viewer${count === 1 ? '' : 's'}`,
      start,
      end: Date.now(),
      measureFrom: start,
    };
    await recorder.stop();
    const perViewer = viewers.map((viewer) => viewerMetrics(viewer, phase));
    const sender = senderMetrics(recorder, phase);
    const fps = perViewer.map((m) => m.fps);
    const row = {
      viewers: count,
      fpsMin: Math.min(...fps),
      fpsAvg: fps.reduce((a, b) => a + b, 0) / fps.length,
      latencyP50Ms: percentile(
        perViewer.flatMap((m) => m.latencies).sort((a, b) => a - b),
        0.5,
      ),
      senderCores: sender.cores,
      othersCores: sender.othersCores,
      perViewer: perViewer.map(({ latencies, ...rest }) => rest),
      sender,
    };
    rows.push(row);
    printClean(row);
  }
  for (const viewer of viewers) await viewer.close();
  const targets = cleanTargets(rows);
  printTargets(targets);
  return { clean: rows, targets };
}

// ---- the stack, the viewers, the recorder ---------------------------------------------------------

async function startFullStack(signalPort, scenario) {
  const cameras = scenario.pattern === 'busy' ? 'busy:1280x720@30' : 'testpattern:1280x720@30';
  const senderEnv = { CODEC: scenario.codec, BITRATE: String(CONFIGURED_KBPS), LOG_LEVEL: senderLog };
  const stack = await startStack({ signalPort, cameras, senderEnv });
  const webPort = signalPort + 2;
  const web = startApp('web', {
    PORT: String(webPort),
    HOST: '127.0.0.1',
    PUBLIC_SIGNALING_URL: stack.signalingUrl,
  });
  try {
    await waitForHttp(`http://127.0.0.1:${webPort}/healthz`);
  } catch (error) {
    await web.stop();
    await stack.stop();
    throw error;
  }
  console.log(`sender env: CAMERAS=${cameras} CODEC=${scenario.codec} BITRATE=${CONFIGURED_KBPS}`);
  return {
    ...stack,
    pageUrl: `http://127.0.0.1:${webPort}/`,
    healthUrl: `http://127.0.0.1:${signalPort + 1}`,
    senderPid: stack.sender.child.pid,
    stop: async () => {
      await web.stop();
      await stack.stop();
    },
  };
}

/** A viewer page in its own browser context, with the probe; resolves once it shows frames. */
async function openViewer(stack, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  await context.addInitScript({ content: script });
  const page = await context.newPage();
  await page.goto(stack.pageUrl);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const tile = await page.evaluate(() => window.robocam?.tiles[0]);
    if (tile?.status === 'live' && tile.framesPresented > 0) break;
    if (Date.now() > deadline) throw new Error(`${name}: no live tile within 20 s: ${JSON.stringify(tile)}`);
    await sleep(100);
  }
  const viewer = { name, page, frames: [], stats: [], tiles: [] };
  viewer.drain = async () => {
    const [{ frames, stats }, tile] = await Promise.all([
      drainProbe(page),
      page.evaluate(() => window.robocam?.tiles[0]),
    ]);
    viewer.frames.push(...frames);
    viewer.stats.push(...stats);
    if (tile !== undefined) {
      viewer.tiles.push({
        at: Date.now(),
        session: tile.session,
        status: tile.status,
        sessionsStarted: tile.sessionsStarted,
        resyncs: tile.resyncs,
        pageLatencyMs: tile.latencyMs,
      });
    }
  };
  viewer.port = () => viewer.stats.at(-1)?.port ?? null;
  viewer.close = () => context.close();
  await viewer.drain();
  viewer.frames.length = 0; // the time to first frame is bench/ttff.mjs's business
  return viewer;
}

/**
 * Every 500 ms: what the viewers' probes recorded; every second: the sender's GET /stats (2 s
 * timeout: on a shaped loopback the request queues behind the media) and its CPU time.
 */
function record(stack, viewers) {
  const samples = [];
  let running = true;
  const drains = (async () => {
    while (running) {
      await Promise.all(viewers.map((viewer) => viewer.drain()));
      await sleep(500);
    }
  })();
  const polls = (async () => {
    while (running) {
      const at = Date.now();
      const cpuSeconds = processReading(stack.senderPid).cpuSeconds;
      const ownCpuSeconds = treeCpuSeconds(process.pid);
      const machineSeconds = machineBusySeconds();
      let stats;
      try {
        stats = await (await fetch(`${stack.healthUrl}/stats`, { signal: AbortSignal.timeout(2000) })).json();
      } catch {
        stats = undefined;
      }
      samples.push({ at, cpuSeconds, ownCpuSeconds, machineSeconds, stats });
      await sleep(Math.max(0, 1000 - (Date.now() - at)));
    }
  })();
  // A failure (a page or the sender gone) surfaces at stop(), inside the scenario's try/finally
  // that stops the apps, not as an unhandled rejection that would leave them running.
  for (const loop of [drains, polls]) loop.catch(() => undefined);
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all([drains, polls]);
      await Promise.all(viewers.map((viewer) => viewer.drain()));
    },
  };
}

async function runSchedule(schedule, apply) {
  const phases = [];
  for (const step of schedule) {
    await apply(step.rateKbps);
    const start = Date.now();
    console.log(`${new Date(start).toISOString().slice(11, 19)} ${step.name} for ${step.seconds} s`);
    await sleep(step.seconds * 1000);
    const end = Date.now();
    // What the qdiscs passed and dropped (lo / v0): shows which link carried the media.
    const qdisc = step.rateKbps === undefined ? undefined : shapingCounters();
    phases.push({ ...step, start, end, measureFrom: start + SETTLE_MS, qdisc });
  }
  return phases;
}

function parseSchedule(text) {
  return text.split(',').map((item) => {
    const [what, seconds] = item.split(':');
    if (!(Number(seconds) > 0)) throw new Error(`bad schedule step "${item}": use e.g. 1mbit:20 or free:10`);
    const rateKbps = what === 'free' ? undefined : parseRateKbps(what);
    return { name: what === 'free' ? 'free' : `${rateKbps} kbit/s`, rateKbps, seconds: Number(seconds) };
  });
}

// ---- metrics ---------------------------------------------------------------------------------

/** Cumulative counter `key` of the probe's samples at time `at`, interpolated. */
function counterAt(stats, key, at) {
  let before;
  for (const sample of stats) {
    if (sample.at <= at) before = sample;
    else {
      if (before === undefined) return sample[key];
      return before[key] + ((sample[key] - before[key]) * (at - before.at)) / (sample.at - before.at);
    }
  }
  return before?.[key] ?? NaN;
}

/**
 * One viewer over [phase.measureFrom, phase.end]: shown fps, latency percentiles, longest gap
 * between shown frames (from the last frame before the window; the window's end counts as a frame),
 * delivered kbit/s and packets lost; after a shaped phase, seconds until the delivered rate (over
 * 1 s) reached 80 % of the configured bitrate, or of what the first phase delivered when that was
 * less (the default pattern never fills its target).
 */
function viewerMetrics(viewer, phase, previous) {
  const from = phase.measureFrom;
  const to = phase.end;
  const shown = viewer.frames.filter((frame) => frame[2] === 1);
  const inWindow = shown.filter(([at]) => at >= from && at <= to);
  const seconds = (to - from) / 1000;
  let last = shown.filter(([at]) => at < from).at(-1)?.[0] ?? from;
  let longestGapMs = 0;
  for (const [at] of inWindow) {
    longestGapMs = Math.max(longestGapMs, at - last);
    last = at;
  }
  longestGapMs = Math.max(longestGapMs, to - last);
  const latencies = inWindow
    .map((frame) => frame[1])
    .filter((value) => value !== null)
    .sort((a, b) => a - b);
  const bytes = counterAt(viewer.stats, 'bytes', to) - counterAt(viewer.stats, 'bytes', from);
  const metrics = {
    fps: inWindow.length / seconds,
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP95Ms: percentile(latencies, 0.95),
    latencyMaxMs: latencies.at(-1) ?? NaN,
    longestGapMs,
    kbps: (bytes * 8) / seconds / 1000,
    packetsLost: counterAt(viewer.stats, 'lost', to) - counterAt(viewer.stats, 'lost', from),
    framesWithTimecode: latencies.length,
    sessionsStarted: viewer.tiles.filter((t) => t.at <= to).at(-1)?.sessionsStarted ?? null,
    resyncs: viewer.tiles.filter((t) => t.at <= to).at(-1)?.resyncs ?? null,
    latencies,
  };
  if (phase.rateKbps === undefined && previous?.rateKbps !== undefined) {
    const firstFree = viewer.stats.filter((s) => s.at <= viewer.stats[0].at + 10_000);
    const freeKbps =
      firstFree.length > 1
        ? ((firstFree.at(-1).bytes - firstFree[0].bytes) * 8) / (firstFree.at(-1).at - firstFree[0].at)
        : CONFIGURED_KBPS;
    const thresholdKbps = 0.8 * Math.min(CONFIGURED_KBPS, freeKbps);
    metrics.recoveryThresholdKbps = thresholdKbps;
    metrics.recoverySeconds = null;
    for (let t = phase.start + 1000; t <= phase.end; t += 250) {
      const kbps =
        ((counterAt(viewer.stats, 'bytes', t) - counterAt(viewer.stats, 'bytes', t - 1000)) * 8) / 1000;
      if (kbps >= thresholdKbps) {
        metrics.recoverySeconds = (t - phase.start) / 1000;
        break;
      }
    }
  }
  return metrics;
}

/**
 * The sender's side of a phase from its /stats samples: CPU cores, the camera's encoder target
 * and counters, and — for each viewer given, matched by the page's session id — its session's
 * congestion fields when the sender reports them (`link`, `tracks`; absent before issue #12's
 * wiring).
 */
function senderMetrics(recorder, phase, ...viewers) {
  const window = recorder.samples.filter((s) => s.at >= phase.measureFrom && s.at <= phase.end);
  const out = { samples: window.length, cores: NaN };
  if (window.length >= 2) {
    const rate = (key) => (window.at(-1)[key] - window[0][key]) / ((window.at(-1).at - window[0].at) / 1000);
    out.cores = rate('cpuSeconds');
    // This bench's processes (sender, signal, web, Chromium, itself) and everything else.
    out.benchCores = rate('ownCpuSeconds');
    out.othersCores = rate('machineSeconds') - out.benchCores;
  }
  const withStats = window.filter((s) => s.stats !== undefined);
  out.statsAnswered = withStats.length;
  const cameras = withStats.map((s) => s.stats.cameras?.[0]).filter((c) => c !== undefined);
  if (cameras.length > 0) {
    out.cameraTargetKbps = summary(cameras.map((c) => c.bitrateKbps));
    out.cameraFramesDropped = (cameras.at(-1).framesDropped ?? 0) - (cameras[0].framesDropped ?? 0);
    const keyframes = (c) => Object.values(c.keyframes ?? {}).reduce((a, b) => a + b, 0);
    out.cameraKeyframes = keyframes(cameras.at(-1)) - keyframes(cameras[0]);
  }
  for (const viewer of viewers) {
    const sessionIds = new Set(
      viewer.tiles.filter((t) => t.at >= phase.start && t.at <= phase.end).map((t) => t.session),
    );
    const sessions = withStats
      .map((s) => s.stats.sessions?.find((session) => sessionIds.has(session.id)))
      .filter((session) => session !== undefined);
    const link = sessions.map((s) => s.link).filter((l) => l !== undefined && l !== null);
    const tracks = sessions.map((s) => s.tracks?.[0]).filter((t) => t !== undefined);
    const entry = { sessionSamples: sessions.length };
    // Counters grow per session (the page may replace its session within the phase): summed.
    const byId = Map.groupBy(sessions, (session) => session.id);
    const growth = (read) => {
      let total = 0;
      for (const samples of byId.values()) total += (read(samples.at(-1)) ?? 0) - (read(samples[0]) ?? 0);
      return total;
    };
    if (sessions.length > 0) {
      entry.plis = growth((s) => s.plisReceived);
      entry.nacks = growth((s) => s.nacksReceived);
    }
    if (link.length > 0) {
      entry.estimateKbps = summary(link.map((l) => l.estimateKbps));
      entry.receivedKbps = summary(link.map((l) => l.receivedKbps));
      entry.lossFraction = summary(link.map((l) => l.lossFraction));
      entry.rttMs = summary(link.map((l) => l.rttMs));
      entry.pacerQueueMs = summary(link.map((l) => l.pacerQueueMs));
      entry.pacerFramesDropped = growth((s) => s.link?.pacerFramesDropped);
      entry.feedbackPackets = growth((s) => s.link?.feedbackPackets);
      entry.usage = countValues(link.map((l) => l.usage));
    }
    if (tracks.length > 0) {
      entry.temporalLayer = countValues(tracks.map((t) => t.temporalLayer));
      entry.targetLayer = countValues(tracks.map((t) => t.targetLayer));
      entry.maxLayer = tracks.at(-1).maxLayer;
      entry.framesSkipped = growth((s) => s.tracks?.[0]?.framesSkipped);
    }
    out[viewer.name] = entry;
  }
  return out;
}

/** One /stats sample as the JSON file keeps it: CPU readings, the camera's target and counters, the sessions' feedback, link and layers. */
function slimSample({ stats, ...readings }) {
  if (stats === undefined) return readings;
  const camera = stats.cameras?.[0];
  return {
    ...readings,
    camera:
      camera === undefined
        ? undefined
        : {
            bitrateKbps: camera.bitrateKbps,
            framesEncoded: camera.framesEncoded,
            framesDropped: camera.framesDropped,
            keyframes: camera.keyframes,
          },
    sessions: stats.sessions?.map((session) => ({
      id: session.id,
      connectionState: session.connectionState,
      bytesSent: session.bytesSent,
      nacksReceived: session.nacksReceived,
      plisReceived: session.plisReceived,
      rttMs: session.rttMs,
      link: session.link,
      tracks: session.tracks,
    })),
  };
}

/** min / median / max of the numbers in `values` (others ignored), or undefined. */
function summary(values) {
  const numbers = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (numbers.length === 0) return undefined;
  return { min: numbers[0], p50: percentile(numbers, 0.5), max: numbers.at(-1) };
}

function countValues(values) {
  const counts = {};
  for (const value of values) counts[String(value)] = (counts[String(value)] ?? 0) + 1;
  return counts;
}

/** Per viewer: the page's session and tile status each time they changed (maps /stats sessions). */
function pageSessions(viewers) {
  const out = {};
  for (const viewer of viewers) {
    out[viewer.name] = viewer.tiles.filter(
      (tile, i, all) => i === 0 || tile.session !== all[i - 1].session || tile.status !== all[i - 1].status,
    );
  }
  return out;
}

/** Per second and viewer: shown fps, delivered kbit/s, latency p50/max (for plots). */
function timelines(viewers) {
  const out = {};
  for (const viewer of viewers) {
    const shown = viewer.frames.filter((f) => f[2] === 1);
    if (shown.length === 0 || viewer.stats.length === 0) continue;
    const start = Math.min(shown[0][0], viewer.stats[0].at);
    const end = Math.max(shown.at(-1)[0], viewer.stats.at(-1).at);
    const rows = [];
    for (let t = start; t + 1000 <= end; t += 1000) {
      const frames = shown.filter(([at]) => at >= t && at < t + 1000);
      const latencies = frames
        .map((f) => f[1])
        .filter((v) => v !== null)
        .sort((a, b) => a - b);
      rows.push({
        at: t,
        fps: frames.length,
        kbps: Math.round(
          ((counterAt(viewer.stats, 'bytes', t + 1000) - counterAt(viewer.stats, 'bytes', t)) * 8) / 1000,
        ),
        latencyP50Ms: percentile(latencies, 0.5),
        latencyMaxMs: latencies.at(-1) ?? null,
      });
    }
    out[viewer.name] = rows;
  }
  return out;
}

// ---- targets and tables ------------------------------------------------------------------------

function singleTargets(phases, scenario) {
  const rows = [];
  for (const phase of phases) {
    const m = phase.viewer;
    if (phase.rateKbps !== undefined) {
      const fpsTarget = phase.rateKbps >= 1000 ? 25 : phase.rateKbps >= 400 ? 14 : undefined;
      if (fpsTarget !== undefined)
        rows.push(target(`${phase.name}: shown fps`, `≥ ${fpsTarget}`, m.fps, m.fps >= fpsTarget, 1));
      rows.push(
        target(
          `${phase.name}: glass-to-glass p95`,
          '≤ 200 ms',
          m.latencyP95Ms,
          m.latencyP95Ms <= 200,
          0,
          ' ms',
        ),
      );
      rows.push(
        target(`${phase.name}: longest gap`, '≤ 500 ms', m.longestGapMs, m.longestGapMs <= 500, 0, ' ms'),
      );
      rows.push(
        target(
          `${phase.name}: delivered`,
          `≥ ${0.7 * phase.rateKbps} kbit/s (70 %)`,
          m.kbps,
          m.kbps >= 0.7 * phase.rateKbps,
          0,
          ' kbit/s',
        ),
      );
    } else if (m.recoverySeconds !== undefined) {
      const note = scenario.pattern === 'busy' ? '' : ` (of ${fmt(m.recoveryThresholdKbps)} kbit/s)`;
      rows.push(
        target(
          `after release: ≥ 80 % of configured${note}`,
          '≤ 10 s',
          m.recoverySeconds,
          m.recoverySeconds !== null && m.recoverySeconds <= 10,
          1,
          ' s',
        ),
      );
    }
  }
  return rows;
}

function twoTargets(phases) {
  const rows = [];
  for (const phase of phases.filter((p) => p.rateKbps !== undefined)) {
    const { free, constrained } = phase;
    rows.push(target(`${phase.name}: free viewer fps`, '≥ 28', free.fps, free.fps >= 28, 1));
    rows.push(
      target(
        `${phase.name}: free / constrained bitrate`,
        '≥ 1.5×',
        free.kbps / constrained.kbps,
        free.kbps >= 1.5 * constrained.kbps,
        2,
        '×',
      ),
    );
    rows.push(
      target(
        `${phase.name}: constrained p95`,
        '≤ 250 ms',
        constrained.latencyP95Ms,
        constrained.latencyP95Ms <= 250,
        0,
        ' ms',
      ),
    );
  }
  return rows;
}

function cleanTargets(rows) {
  let before;
  if (compareFile !== undefined) {
    const earlier = JSON.parse(readFileSync(compareFile, 'utf8'));
    before = earlier.results.find((r) => r.kind === 'clean')?.clean;
  }
  const out = [];
  for (const row of rows) {
    const old = before?.find((r) => r.viewers === row.viewers);
    out.push(
      target(`clean, ${row.viewers} viewer(s): fps (slowest)`, '30', row.fpsMin, row.fpsMin >= 29.5, 1),
    );
    out.push(
      old === undefined
        ? target(
            `clean, ${row.viewers}: latency p50`,
            'within 5 ms of before',
            row.latencyP50Ms,
            undefined,
            0,
            ' ms',
          )
        : target(
            `clean, ${row.viewers}: latency p50 (before ${fmt(old.latencyP50Ms)})`,
            'within 5 ms of before',
            row.latencyP50Ms,
            row.latencyP50Ms <= old.latencyP50Ms + 5,
            0,
            ' ms',
          ),
    );
    out.push(
      old === undefined
        ? target(`clean, ${row.viewers}: sender CPU`, '≤ before + 0.05 cores', row.senderCores, undefined, 3)
        : target(
            `clean, ${row.viewers}: sender CPU (before ${fmt(old.senderCores, 3)})`,
            '≤ before + 0.05 cores',
            row.senderCores,
            row.senderCores <= old.senderCores + 0.05,
            3,
          ),
    );
  }
  return out;
}

function target(what, goal, value, met, digits = 0, unit = '') {
  return { what, goal, value, measured: `${fmt(value, digits)}${unit}`, met };
}

function printTargets(rows) {
  console.log('\n| target | goal | measured | met? |\n| --- | --- | ---: | --- |');
  for (const row of rows) {
    const met = row.met === undefined ? '– (needs --compare)' : row.met ? 'pass' : '**miss**';
    console.log(`| ${row.what} | ${row.goal} | ${row.measured} | ${met} |`);
  }
}

function printPhases(phases, names) {
  console.log(
    '\n| phase | viewer | fps | latency p50 / p95 / max ms | longest gap ms | kbit/s | lost | PLIs | sessions | ' +
      'sender cores | others’ cores | keyframes | camera target kbit/s | estimate kbit/s | pacer queue ms | layer |',
  );
  console.log(`|${' --- |'.repeat(2)}${' ---: |'.repeat(13)} --- |`);
  for (const phase of phases) {
    for (const name of names) {
      const m = phase[name];
      const s = phase.sender[name] ?? {};
      const target = phase.sender.cameraTargetKbps;
      console.log(
        `| ${phase.name} | ${name} | ${fmt(m.fps, 1)} | ${fmt(m.latencyP50Ms)} / ${fmt(m.latencyP95Ms)} / ${fmt(m.latencyMaxMs)} | ` +
          `${fmt(m.longestGapMs)} | ${fmt(m.kbps)} | ${fmt(m.packetsLost)} | ${s.plis ?? '–'} | ${m.sessionsStarted ?? '–'} | ` +
          `${fmt(phase.sender.cores, 3)} | ${fmt(phase.sender.othersCores, 2)} | ${phase.sender.cameraKeyframes ?? '–'} | ` +
          `${range(target)} | ${range(s.estimateKbps)} | ${range(s.pacerQueueMs)} | ` +
          `${s.temporalLayer === undefined ? '–' : JSON.stringify(s.temporalLayer)} |`,
      );
    }
  }
  for (const phase of phases) {
    const recovered = names.map((name) => phase[name].recoverySeconds).filter((value) => value !== undefined);
    if (recovered.length > 0) {
      const text = recovered.map((v) => (v === null ? 'never' : `${v} s`)).join(' / ');
      console.log(`${phase.name} after a squeeze: recovery ${text}`);
    }
  }
}

function printClean(row) {
  const { sender } = row;
  console.log(
    `clean, ${row.viewers} viewer(s): fps min ${fmt(row.fpsMin, 1)} / avg ${fmt(row.fpsAvg, 1)}, ` +
      `latency p50 ${fmt(row.latencyP50Ms)} ms, sender ${fmt(row.senderCores, 3)} cores ` +
      `(this bench in all ${fmt(sender.benchCores, 2)}, others ${fmt(row.othersCores, 2)}), ` +
      `encoder skipped ${sender.cameraFramesDropped ?? '–'} frames, ` +
      `delivered ${row.perViewer.map((m) => fmt(m.kbps)).join(' / ')} kbit/s`,
  );
}

/** `--report run.json`: the tables of a saved run again (this version's columns). */
function report(run) {
  console.log(`run of ${run.date}: node bench/congestion.mjs ${run.args.join(' ')}`);
  for (const result of run.results) {
    console.log(`\n=== ${result.label} (load average at its end ${result.loadAverage})`);
    if (result.kind === 'single') printPhases(result.phases, ['viewer']);
    else if (result.kind === 'two') printPhases(result.phases, ['free', 'constrained']);
    else result.clean.forEach(printClean);
    printTargets(result.targets);
  }
}

function range(value) {
  return value === undefined ? '–' : `${fmt(value.min)}–${fmt(value.max)} (p50 ${fmt(value.p50)})`;
}

function fmt(value, digits = 0) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function loadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
