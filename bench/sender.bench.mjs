// Sender benchmark: CPU (cores), encode latency p50/p95 and delivered frame rate of
// @robocam/sender with 1, 4 and 16 werift viewers at 1280x720@30 VP8, and 1 viewer at 640x480,
// 1280x720 and 1920x1080 for VP8 and H.264; plus the idle cost (registered, no viewer).
//
//   npx nx run-many -t build -p sender-core signal sender    # once: the bench uses the built dist/
//   node bench/sender.bench.mjs [--quick] [--json results.json] [--only vp8-720,h264-480]
//   node bench/sender.bench.mjs --report run1.json run2.json…   # table from saved runs, see below
//
// Other options: --node-args '<flags for the sender process>', --retries N (1), --busy-cores C (0.3), --budget S (280; quick: 90).
// The machine may be shared: every window records how many cores *other* processes used during
// it (from /proc/stat). A window where they used more than --busy-cores is measured again, up to
// --retries times while the run is within --budget seconds, and the least disturbed window is
// kept. `--report` merges saved runs the same way: for each scenario the row with the least
// interference from other processes, whichever run it came from.
//
// Layout (see bench/README.md): the sender runs in its own process (bench/sender-process.mjs, a
// plain Sender from libs/sender-core/dist) so that its CPU — read from /proc/<pid>/stat over the
// measurement window, all threads — is not mixed with the viewers'. The signaling server
// (libs/signaling/dist) and the viewers run in this process. Viewers are werift peer connections that
// receive and SRTP-decrypt every packet but do not decode: they count frames by the RTP marker
// bit (plus loss, keyframes, and the longest gap between frames). Decoding 16 streams would starve
// a 2-core machine and falsify the sender's numbers.
//
// All WebRTC runs in a private network namespace: when ../shared/netns/run-isolated.sh exists
// (the project's machines), this script re-runs itself inside it, as scripts/test.sh does.
import { fork, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { argument, viewerPeerConfig } from './lib/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => argument(args, name);

// ---- settings ----------------------------------------------------------------------------------
const QUICK = flag('--quick');
const WARMUP_MS = QUICK ? 1500 : 3000;
const MEASURE_MS = QUICK ? 4000 : 10_000;
const IDLE_MS = QUICK ? 2000 : 5000;
const FPS = 30;
const ONLY = option('--only');
/** V8/Node flags for the sender process, to compare heap settings (default: this process's own). */
const SENDER_NODE_ARGS = option('--node-args')?.split(' ').filter(Boolean);
const JSON_OUT = option('--json');
/**
 * The machine is shared: when other processes used more than BUSY_CORES during a window, the
 * window is measured again (viewers stay connected), up to RETRIES times; the window with the
 * least interference is kept, and the interference is reported in every row either way.
 */
const RETRIES = Number(option('--retries') ?? 1);
const BUSY_CORES = Number(option('--busy-cores') ?? 0.3);
/** Waiting for quiet and re-measuring stop once the run has taken this long (s). */
const BUDGET_S = Number(option('--budget') ?? (QUICK ? 90 : 280));
const started = performance.now();
const withinBudget = () => (performance.now() - started) / 1000 < BUDGET_S;

/** Cores other processes (not this one, not the sender) used over the last `ms`. */
async function othersCores(senderPid, ms) {
  const before = machineBusyTicks() - processTicks(senderPid) - processTicks(process.pid);
  await sleep(ms);
  const after = machineBusyTicks() - processTicks(senderPid) - processTicks(process.pid);
  return (after - before) / CLK_TCK / (ms / 1000);
}

/** Before a window: waits (a little, within the budget) for other processes to calm down. */
async function waitQuiet(senderPid) {
  const deadline = performance.now() + (QUICK ? 5000 : 10_000);
  let others = await othersCores(senderPid, 1000);
  while (others > BUSY_CORES && performance.now() < deadline && withinBudget()) {
    others = await othersCores(senderPid, 1000);
  }
}

/** Scenario groups: one sender process each; viewer counts are measured in turn on it. */
const GROUPS = [
  { id: 'vp8-720', codec: 'vp8', width: 1280, height: 720, viewers: [0, 1, 4, 16, 0] },
  { id: 'vp8-480', codec: 'vp8', width: 640, height: 480, viewers: [1] },
  { id: 'vp8-1080', codec: 'vp8', width: 1920, height: 1080, viewers: [1] },
  { id: 'h264-480', codec: 'h264', width: 640, height: 480, viewers: [1] },
  { id: 'h264-720', codec: 'h264', width: 1280, height: 720, viewers: [1] },
  { id: 'h264-1080', codec: 'h264', width: 1920, height: 1080, viewers: [1] },
  // The same viewer scaling with camera-like content (noise on every pixel): the encoder fills its
  // 2.5 Mbit/s target, so each viewer gets ~5× the packets of the mostly static test pattern.
  { id: 'vp8-720-camera', codec: 'vp8', width: 1280, height: 720, viewers: [1, 4, 16], content: 'camera' },
].filter((group) => ONLY === undefined || ONLY.split(',').includes(group.id));
if (ONLY !== undefined && GROUPS.length !== ONLY.split(',').length) {
  console.error(
    `--only ${ONLY}: known scenario groups are vp8-720, vp8-480, vp8-1080, h264-480, h264-720, h264-1080, vp8-720-camera`,
  );
  process.exit(64);
}

// ---- /proc accounting --------------------------------------------------------------------------
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** utime + stime of a process (all its threads), in clock ticks. */
function processTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** utime + stime per thread name (libuv-worker, V8 workers, main thread…), in clock ticks. */
function threadTicks(pid) {
  const byName = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const key = Number(tid) === pid ? 'main' : name;
      byName.set(key, (byName.get(key) ?? 0) + Number(fields[11]) + Number(fields[12]));
    } catch {
      // thread ended meanwhile
    }
  }
  return byName;
}

/**
 * UDP error counters of this network namespace (/proc/net/snmp): datagrams dropped because a
 * receiver's socket buffer was full (RcvbufErrors) or a send buffer was (SndbufErrors). Inside
 * the private namespace only the bench's own traffic counts.
 */
function udpErrors() {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('Udp:'));
  const [names, values] = lines.map((line) => line.split(/\s+/).slice(1));
  const get = (name) => Number(values?.[names?.indexOf(name) ?? -1] ?? NaN);
  return { rcvbuf: get('RcvbufErrors'), sndbuf: get('SndbufErrors'), inErrors: get('InErrors') };
}

/** Busy ticks of the whole machine (all CPUs). */
function machineBusyTicks() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  // user nice system idle iowait irq softirq steal: everything but idle and iowait.
  const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  return user + nice + system + irq + softirq + steal;
}

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
}

// ---- the sender process ------------------------------------------------------------------------
class SenderProcess {
  #child;
  #waiters = [];
  pid;

  constructor() {
    this.#child = fork(resolve(here, 'sender-process.mjs'), [], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      env: { ...process.env, DEBUG: '' },
      ...(SENDER_NODE_ARGS === undefined ? {} : { execArgv: SENDER_NODE_ARGS }),
    });
    this.pid = this.#child.pid;
    // FFmpeg's libx264/libvpx chatter (version, per-session summaries) is not ours to show.
    let pending = '';
    this.#child.stderr.setEncoding('utf8');
    this.#child.stderr.on('data', (chunk) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop();
      for (const line of lines) if (!/^\[lib(x264|vpx) @ /.test(line)) process.stderr.write(`${line}\n`);
    });
    this.#child.on('message', (message) => {
      if (message.type === 'error') {
        console.error(`sender process: ${message.error}`);
      }
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) (message.type === 'error' ? waiter.reject : waiter.resolve)(message);
    });
    this.#child.on('exit', (code) => {
      for (const waiter of this.#waiters.splice(0))
        waiter.reject(new Error(`sender process exited (${code})`));
    });
  }

  request(message, timeoutMs = 15_000) {
    return new Promise((resolvePromise, rejectPromise) => {
      const timer = setTimeout(() => rejectPromise(new Error(`no reply to ${message.cmd}`)), timeoutMs);
      this.#waiters.push({
        resolve: (value) => {
          clearTimeout(timer);
          resolvePromise(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          rejectPromise(error instanceof Error ? error : new Error(error.error));
        },
      });
      this.#child.send(message);
    });
  }

  async close() {
    await this.request({ cmd: 'close' }, 10_000).catch(() => undefined);
    if (this.#child.exitCode === null) {
      await Promise.race([new Promise((r) => this.#child.once('exit', r)), sleep(2000)]);
      if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
    }
  }
}

// ---- the viewers -------------------------------------------------------------------------------
/** Whether an RTP payload starts a keyframe (VP8: RFC 7741 descriptor + P bit; H.264: IDR/SPS). */
function startsKeyframe(codec, payload) {
  if (payload.length < 2) return false;
  if (codec === 'vp8') {
    const b0 = payload[0];
    const start = (b0 & 0x10) !== 0 && (b0 & 0x07) === 0;
    if (!start) return false;
    let offset = 1;
    if (b0 & 0x80) {
      const b1 = payload[1];
      offset = 2;
      if (b1 & 0x80) offset += payload[offset] & 0x80 ? 2 : 1; // picture id
      if (b1 & 0x40) offset += 1; // TL0PICIDX
      if (b1 & 0x30) offset += 1; // TID/KEYIDX
    }
    return offset < payload.length && (payload[offset] & 0x01) === 0;
  }
  const type = payload[0] & 0x1f;
  if (type === 5 || type === 7) return true;
  if (type === 24) return (payload[3] & 0x1f) === 7 || (payload[3] & 0x1f) === 5; // STAP-A
  if (type === 28) return (payload[1] & 0x80) !== 0 && (payload[1] & 0x1f) === 5; // FU-A start
  return false;
}

/** A werift viewer that receives one camera and counts, without decoding. */
class CountingViewer {
  client;
  pc;
  session = `bench-${Math.random().toString(36).slice(2, 12)}`;
  /** performance.now() of every frame's last (marker) packet. */
  frameTimes = [];
  keyframeTimes = [];
  packets = 0;
  bytes = 0;
  lost = 0;
  #lastSeq;
  #lastKeyframeTimestamp;

  constructor(url, codec) {
    this.codec = codec;
    this.client = new SignalingClient({ url, role: 'viewer', name: 'bench viewer', heartbeatIntervalMs: 0 });
  }

  async watch(senderId, camera) {
    await this.client.connect();
    const pc = new werift.RTCPeerConnection(viewerPeerConfig(werift, this.codec));
    this.pc = pc;
    const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
    transceiver.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((packet) => this.#onRtp(packet));
    });
    const connected = new Promise((resolveConnected, reject) => {
      const timer = setTimeout(() => reject(new Error('viewer did not connect within 15 s')), 15_000);
      pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') {
          clearTimeout(timer);
          resolveConnected();
        }
      });
    });
    connected.catch(() => undefined);
    const answered = new Promise((resolveAnswer, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 15 s')), 15_000);
      this.client.on('answer', (answer) => {
        if (answer.session !== this.session) return;
        clearTimeout(timer);
        resolveAnswer(answer.sdp);
      });
      this.client.on('bye', (bye) => {
        if (bye.session === this.session) reject(new Error(`sender refused: ${bye.reason ?? ''}`));
      });
    });
    await pc.setLocalDescription(await pc.createOffer());
    this.client.send({
      type: 'offer',
      session: this.session,
      to: senderId,
      cameras: [camera],
      sdp: pc.localDescription.sdp,
    });
    await pc.setRemoteDescription({ type: 'answer', sdp: await answered });
    await connected;
  }

  #onRtp(packet) {
    const now = performance.now();
    this.packets += 1;
    this.bytes += packet.payload.length;
    const seq = packet.header.sequenceNumber;
    if (this.#lastSeq !== undefined) {
      const step = (seq - this.#lastSeq + 0x10000) & 0xffff;
      if (step > 1 && step < 0x8000) this.lost += step - 1;
    }
    if (this.#lastSeq === undefined || ((seq - this.#lastSeq + 0x10000) & 0xffff) < 0x8000)
      this.#lastSeq = seq;
    // Once per frame: an H.264 keyframe starts with SPS/PPS (STAP-A) and then the IDR (FU-A).
    if (
      packet.header.timestamp !== this.#lastKeyframeTimestamp &&
      startsKeyframe(this.codec, packet.payload)
    ) {
      this.#lastKeyframeTimestamp = packet.header.timestamp;
      this.keyframeTimes.push(now);
    }
    if (packet.header.marker) this.frameTimes.push(now);
  }

  /** Frames, fps, keyframes and the longest gap between frames within [t0, t1]. */
  window(t0, t1) {
    const times = this.frameTimes.filter((t) => t >= t0 && t <= t1);
    let maxGapMs = 0;
    for (let i = 1; i < times.length; i++) maxGapMs = Math.max(maxGapMs, times[i] - times[i - 1]);
    return {
      frames: times.length,
      fps: times.length / ((t1 - t0) / 1000),
      maxGapMs,
      keyframes: this.keyframeTimes.filter((t) => t >= t0 && t <= t1).length,
    };
  }

  async close() {
    this.client.send({ type: 'bye', session: this.session, reason: 'bench done' });
    await this.pc?.close().catch(() => undefined);
    this.client.close();
  }
}

async function connectViewers(count, url, codec, senderId) {
  const viewers = [];
  // A few at a time: 16 simultaneous DTLS handshakes on 2 cores would only slow each other down.
  for (let i = 0; i < count; i += 4) {
    const batch = Array.from({ length: Math.min(4, count - i) }, () => new CountingViewer(url, codec));
    await Promise.all(batch.map((viewer) => viewer.watch(senderId, 'cam')));
    viewers.push(...batch);
  }
  return viewers;
}

// ---- statistics --------------------------------------------------------------------------------
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = (sorted.length - 1) * p;
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}
const fmt = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

// ---- one measurement window --------------------------------------------------------------------
async function measure(sender, group, viewers, durationMs) {
  const selfPid = process.pid;
  const before = {
    sender: processTicks(sender.pid),
    threads: threadTicks(sender.pid),
    bench: processTicks(selfPid),
    machine: machineBusyTicks(),
    load: loadavg()[0],
  };
  const lostBefore = viewers.map((viewer) => viewer.lost);
  const udpBefore = udpErrors();
  await sender.request({ cmd: 'begin' });
  const t0 = performance.now();
  await sleep(durationMs);
  const t1 = performance.now();
  const win = await sender.request({ cmd: 'end' });
  const udpAfter = udpErrors();
  const seconds = (t1 - t0) / 1000;
  const cores = (ticks) => ticks / CLK_TCK / seconds;
  const senderCores = cores(processTicks(sender.pid) - before.sender);
  const benchCores = cores(processTicks(selfPid) - before.bench);
  const machineCores = cores(machineBusyTicks() - before.machine);
  const threadsAfter = threadTicks(sender.pid);
  const threads = {};
  for (const [name, ticks] of threadsAfter) {
    const delta = cores(ticks - (before.threads.get(name) ?? 0));
    if (delta >= 0.005) threads[name] = +delta.toFixed(3);
  }
  const perViewer = viewers.map((viewer) => viewer.window(t0, t1));
  const encode = [...win.encodeMs].sort((a, b) => a - b);
  const c2s = [...win.captureToSentMs].sort((a, b) => a - b);
  const fpsList = perViewer.map((v) => v.fps);
  const mem = memory(sender.pid);
  return {
    scenario:
      `${group.codec.toUpperCase()} ${group.width}x${group.height}@${FPS}` +
      (group.content === 'camera' ? ' camera-like' : ''),
    group: group.id,
    codec: group.codec,
    size: `${group.width}x${group.height}`,
    viewers: viewers.length,
    seconds: +seconds.toFixed(2),
    at: new Date().toISOString(),
    senderCores: +senderCores.toFixed(3),
    senderCoresSelfReported: +(win.cpuMs / win.wallMs).toFixed(3),
    senderThreads: threads,
    senderMainThreadCores: threads.main ?? 0,
    senderEncoderThreadCores: threads['libuv-worker'] ?? 0,
    senderEventLoopUtilization: +win.eventLoopUtilization.toFixed(3),
    senderEventLoopDelayP99Ms: +win.eventLoopDelayP99Ms.toFixed(1),
    benchProcessCores: +benchCores.toFixed(3),
    otherProcessesCores: +Math.max(0, machineCores - senderCores - benchCores).toFixed(3),
    loadAvg1: [+before.load.toFixed(2), +loadavg()[0].toFixed(2)],
    encodeMs: {
      n: encode.length,
      p50: +fmt(percentile(encode, 0.5)),
      p95: +fmt(percentile(encode, 0.95)),
      max: +fmt(encode.at(-1) ?? NaN),
    },
    captureToSentMs: { p50: +fmt(percentile(c2s, 0.5)), p95: +fmt(percentile(c2s, 0.95)) },
    encodedFps: +(win.delta.framesEncoded / seconds).toFixed(2),
    capturedFps: +(win.delta.framesCaptured / seconds).toFixed(2),
    framesDropped: win.delta.framesDropped,
    framesSkipped: win.delta.framesSkipped,
    encodedKbps: Math.round((win.bytes * 8) / seconds / 1000),
    keyframesEncoded: win.keyframes,
    delivered:
      viewers.length === 0
        ? undefined
        : {
            fpsMin: +Math.min(...fpsList).toFixed(2),
            fpsAvg: +(fpsList.reduce((a, b) => a + b, 0) / fpsList.length).toFixed(2),
            maxGapMs: +Math.max(...perViewer.map((v) => v.maxGapMs)).toFixed(1),
            keyframesPerViewerMax: Math.max(...perViewer.map((v) => v.keyframes)),
            packetsLost: viewers.reduce((sum, v, i) => sum + v.lost - lostBefore[i], 0),
            udpRcvbufErrors: udpAfter.rcvbuf - udpBefore.rcvbuf,
            udpSndbufErrors: udpAfter.sndbuf - udpBefore.sndbuf,
          },
    encoderRunning: win.camera.running,
    encoder: win.camera.encoder,
    bitrateKbps: win.camera.bitrateKbps,
    keyframesByReason: win.camera.keyframes,
    nacks: win.nacks,
    plis: win.plis,
    sessions: win.sessions.length,
    rssMiB: +mem.rssMiB.toFixed(1),
    peakRssMiB: +mem.hwmMiB.toFixed(1),
    heapUsedMiB: +(win.memory.heapUsed / 2 ** 20).toFixed(1),
    externalMiB: +(win.memory.external / 2 ** 20).toFixed(1),
    arrayBuffersMiB: +(win.memory.arrayBuffers / 2 ** 20).toFixed(1),
  };
}

function printRow(r, prefix = '') {
  const d = r.delivered;
  console.log(
    `  ${prefix === '' ? '' : `(${prefix}) `}${r.scenario.padEnd(34)} viewers ${String(r.viewers).padStart(2)}: sender ${fmt(r.senderCores, 3)} cores` +
      ` (main ${fmt(r.senderThreads.main ?? 0, 3)}), encode p50 ${fmt(r.encodeMs.p50)} / p95 ${fmt(r.encodeMs.p95)} ms,` +
      ` encoded ${fmt(r.encodedFps, 1)} fps, dropped ${r.framesDropped}` +
      (d
        ? `, delivered min ${fmt(d.fpsMin, 1)} / avg ${fmt(d.fpsAvg, 1)} fps, max gap ${fmt(d.maxGapMs, 0)} ms` +
          `, lost ${d.packetsLost} (rcvbuf drops ${d.udpRcvbufErrors ?? '?'})`
        : '') +
      `, RSS ${fmt(r.rssMiB, 0)} MiB, others ${fmt(r.otherProcessesCores, 2)} cores, load ${r.loadAvg1.join('→')}`,
  );
}

// ---- report mode: merge saved runs ------------------------------------------------------------
const REPORT_FILES = (() => {
  const i = args.indexOf('--report');
  return i < 0 ? undefined : args.slice(i + 1).filter((arg) => !arg.startsWith('--'));
})();
if (REPORT_FILES !== undefined) {
  const runs = REPORT_FILES.map((file) => ({
    file,
    ...JSON.parse(readFileSync(resolve(process.cwd(), file), 'utf8')),
  }));
  const best = new Map();
  for (const run of runs) {
    for (const result of run.results) {
      const key = `${result.group}|${result.viewers}|${result.phase}`;
      result.run = run.file;
      const kept = best.get(key);
      if (kept === undefined || result.otherProcessesCores < kept.otherProcessesCores) best.set(key, result);
    }
  }
  // In the order of the first run that has each row.
  const order = [
    ...new Set(runs.flatMap((run) => run.results.map((r) => `${r.group}|${r.viewers}|${r.phase}`))),
  ];
  const merged = order.map((key) => best.get(key));
  const machine = runs[0]?.machine ?? {};
  console.log(
    `${runs.length} run(s): ${runs.map((run) => `${run.file} (${run.machine?.startedAt ?? '?'}, load ${run.machine?.loadAvgAtStart?.join(' ') ?? '?'})`).join(', ')}`,
  );
  summarize(merged, machine, { withRun: runs.length > 1 });
  process.exit(0);
}

// ---- isolation ---------------------------------------------------------------------------------
const isolate = resolve(root, '../shared/netns/run-isolated.sh');
if (process.env.ROBOCAM_BENCH_ISOLATED !== '1' && existsSync(isolate)) {
  const result = spawnSync(isolate, [process.execPath, fileURLToPath(import.meta.url), ...args], {
    stdio: 'inherit',
    env: { ...process.env, ROBOCAM_BENCH_ISOLATED: '1' },
  });
  process.exit(result.status ?? 1);
}

for (const built of [
  'libs/sender-core/dist/index.js',
  'libs/protocol/dist/index.js',
  'libs/testpattern/dist/index.js',
  'libs/signaling/dist/index.js',
]) {
  if (!existsSync(resolve(root, built))) {
    console.error(
      `${built} is missing: build first (npx nx run-many -t build -p sender-core signaling sender)`,
    );
    process.exit(2);
  }
}
const { createSignalingServer } = await import('@robocam/signaling');
const { SignalingClient } = await import('@robocam/protocol');
const werift = await import('werift');

// ---- main --------------------------------------------------------------------------------------
const machine = {
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model?.trim() ?? '?',
  memGiB: +(totalmem() / 2 ** 30).toFixed(1),
  loadAvgAtStart: loadavg().map((x) => +x.toFixed(2)),
  isolated: process.env.ROBOCAM_BENCH_ISOLATED === '1',
  warmupMs: WARMUP_MS,
  measureMs: MEASURE_MS,
  startedAt: new Date().toISOString(),
};
console.log(
  `sender bench: node ${machine.node}, ${machine.cpus} CPUs (${machine.cpuModel}), load ${machine.loadAvgAtStart.join(' ')}` +
    `${machine.isolated ? ', private netns' : ', NOT isolated'}; warm-up ${WARMUP_MS / 1000} s, measure ${MEASURE_MS / 1000} s`,
);
if (machine.loadAvgAtStart[0] > 0.5 * machine.cpus) {
  console.log(
    `  note: the machine is already busy (load ${machine.loadAvgAtStart[0]}); numbers may be pessimistic`,
  );
}

const server = await createSignalingServer({ port: 0, host: '127.0.0.1' });
const results = [];
try {
  for (const group of GROUPS) {
    const sender = new SenderProcess();
    let viewers = [];
    try {
      await sender.request({
        cmd: 'start',
        signalingUrl: server.url,
        codec: group.codec,
        width: group.width,
        height: group.height,
        fps: FPS,
        content: group.content ?? 'testpattern',
      });
      const probe = new SignalingClient({ url: server.url, role: 'viewer', heartbeatIntervalMs: 0 });
      await probe.connect();
      while (probe.senders.size === 0) await sleep(20);
      const senderId = [...probe.senders.keys()][0];
      probe.close();
      for (const [step, count] of group.viewers.entries()) {
        if (count > viewers.length) {
          viewers.push(...(await connectViewers(count - viewers.length, server.url, group.codec, senderId)));
          await sleep(WARMUP_MS);
        } else if (count < viewers.length) {
          await Promise.all(viewers.splice(count).map((viewer) => viewer.close()));
          await sleep(1000); // the encoder stops when the last session closes
        } else {
          await sleep(step === 0 ? 1000 : WARMUP_MS);
        }
        const duration = count === 0 ? IDLE_MS : MEASURE_MS;
        await waitQuiet(sender.pid);
        let result = await measure(sender, group, viewers, duration);
        result.attempts = 1;
        for (
          let retry = 1;
          retry <= RETRIES && result.otherProcessesCores > BUSY_CORES && withinBudget();
          retry++
        ) {
          printRow(result, `others used ${fmt(result.otherProcessesCores)} cores, measuring again`);
          await waitQuiet(sender.pid);
          const again = await measure(sender, group, viewers, duration);
          again.attempts = retry + 1;
          if (again.otherProcessesCores < result.otherProcessesCores) result = again;
          else
            printRow(again, `others used ${fmt(again.otherProcessesCores)} cores, keeping the first window`);
        }
        result.phase =
          count === 0 ? (step === 0 ? 'idle (before any viewer)' : 'idle (after viewers left)') : 'streaming';
        results.push(result);
        printRow(result);
      }
    } finally {
      await Promise.all(viewers.map((viewer) => viewer.close()));
      await sender.close();
    }
  }
} finally {
  await server.close();
}

// ---- summary -----------------------------------------------------------------------------------
/** Prints the results table and the verdicts on the targets; returns the verdicts. */
function summarize(results, machine, { withRun = false } = {}) {
  const find = (group, viewers, phase = 'streaming') =>
    results.find((r) => r.group === group && r.viewers === viewers && r.phase.startsWith(phase));
  const table = [
    '| scenario | viewers | sender cores | main thread / encoder thread | encode p50 / p95 ms | capture→sent p50 / p95 ms | encoded fps | delivered fps min / avg | max frame gap ms | dropped / skipped | kbit/s | RTP lost (NACKs) | sender RSS MiB | others’ cores | load 1 min |' +
      (withRun ? ' run |' : ''),
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |' +
      (withRun ? ' --- |' : ''),
    ...results.map((r) => {
      const d = r.delivered;
      const label = r.viewers === 0 ? `${r.scenario}, ${r.phase}` : r.scenario;
      return (
        `| ${label} | ${r.viewers} | ${fmt(r.senderCores, 3)} |` +
        ` ${fmt(r.senderMainThreadCores, 3)} / ${fmt(r.senderEncoderThreadCores, 3)} |` +
        ` ${r.viewers === 0 ? '–' : `${fmt(r.encodeMs.p50)} / ${fmt(r.encodeMs.p95)}`} |` +
        ` ${r.viewers === 0 ? '–' : `${fmt(r.captureToSentMs.p50, 1)} / ${fmt(r.captureToSentMs.p95, 1)}`} |` +
        ` ${fmt(r.encodedFps, 1)} |` +
        ` ${d ? `${fmt(d.fpsMin, 1)} / ${fmt(d.fpsAvg, 1)}` : '–'} | ${d ? fmt(d.maxGapMs, 0) : '–'} |` +
        ` ${r.framesDropped} / ${r.framesSkipped} | ${r.encodedKbps} |` +
        ` ${d ? `${d.packetsLost} (${r.nacks})` : '–'} | ${fmt(r.rssMiB, 0)} |` +
        ` ${fmt(r.otherProcessesCores, 2)} | ${r.loadAvg1.join(' → ')} |` +
        (withRun ? ` ${r.run ?? ''} |` : '')
      );
    }),
  ];
  console.log(`\n${table.join('\n')}\n`);

  const verdicts = [];
  const idle = find('vp8-720', 0, 'idle (before');
  const idleAfter = find('vp8-720', 0, 'idle (after');
  for (const [groupId, what] of [
    ['vp8-720', 'test pattern'],
    ['vp8-720-camera', 'camera-like content'],
  ]) {
    const one = find(groupId, 1);
    const four = find(groupId, 4);
    const sixteen = find(groupId, 16);
    if (one === undefined || sixteen === undefined) continue;
    const marginal = (sixteen.senderCores - one.senderCores) / 15;
    // CPU that other processes took shows up as frames the sender could not encode in time: such a
    // window says little about the sender's capacity.
    const disturbed = [one, sixteen].filter((r) => r.otherProcessesCores > BUSY_CORES);
    const caveat =
      disturbed.length === 0
        ? ''
        : ` [INCONCLUSIVE: other processes used ${disturbed.map((r) => `${fmt(r.otherProcessesCores)} cores with ${r.viewers}`).join(', ')} viewer(s)]`;
    // The 1-viewer cost minus the idle cost: source + encoder + one viewer's share.
    const pipelineCost = one.senderCores - (idle?.senderCores ?? 0);
    verdicts.push(
      `VP8 720p30, ${what}: marginal cost per extra viewer (cores(16) − cores(1)) / 15 = ` +
        `(${fmt(sixteen.senderCores, 3)} − ${fmt(one.senderCores, 3)}) / 15 = ${fmt(marginal, 4)} cores ` +
        `= ${fmt((100 * marginal) / pipelineCost, 1)} % of the 1-viewer pipeline (${fmt(pipelineCost, 3)} cores); ` +
        `target ≈ 0.01–0.02: ${marginal <= 0.02 ? 'MET' : 'NOT MET'}` +
        (four
          ? ` (1 → 4 viewers: ${fmt((four.senderCores - one.senderCores) / 3, 4)} cores per viewer)`
          : '') +
        `; main thread alone (packet fan-out, SRTP, sockets): ` +
        `${fmt((sixteen.senderMainThreadCores - one.senderMainThreadCores) / 15, 4)} cores per viewer${caveat}`,
    );
    // "Holds 30 fps": every viewer got at least 97 % of the frames (29.1 fps) in the window.
    const holds = sixteen.delivered.fpsMin >= 0.97 * FPS;
    verdicts.push(
      `VP8 720p30, ${what}, 16 viewers: delivered min ${fmt(sixteen.delivered.fpsMin, 1)} fps, ` +
        `${sixteen.framesDropped} dropped, sender ${fmt(sixteen.senderCores, 3)} cores on ${machine.cpus ?? '?'} CPUs; ` +
        `target 30 fps on 2 cores (every viewer ≥ 29.1 fps): ${holds ? 'MET' : 'NOT MET'}` +
        (sixteen.otherProcessesCores > BUSY_CORES ? caveat : ''),
    );
  }
  if (idle) {
    verdicts.push(
      `idle (registered, no viewer): ${fmt(idle.senderCores, 3)} cores, encoder ${idle.encoderRunning ? 'RUNNING' : 'stopped'}` +
        (idleAfter
          ? `; after all viewers left: ${fmt(idleAfter.senderCores, 3)} cores, encoder ${idleAfter.encoderRunning ? 'RUNNING' : 'stopped'}`
          : ''),
    );
  }
  for (const line of verdicts) console.log(line);
  return verdicts;
}

const verdicts = summarize(results, machine);
console.log(
  `\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s; load at end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
machine.loadAvgAtEnd = loadavg().map((x) => +x.toFixed(2));

if (JSON_OUT !== undefined) {
  writeFileSync(
    resolve(process.cwd(), JSON_OUT),
    `${JSON.stringify({ machine, results, verdicts }, null, 2)}\n`,
  );
  console.log(`raw results written to ${JSON_OUT}`);
}
// werift keeps a few timers and sockets alive after close(); nothing else is pending here.
process.exit(0);
