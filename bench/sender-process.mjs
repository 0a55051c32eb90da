// The sender side of bench/sender.bench.mjs, in its own process so that its CPU can be measured
// apart from the viewers'. Started with child_process.fork(); driven over IPC:
//
//   → { cmd: 'start', signalingUrl, codec, width, height, fps }   ← { type: 'started', pid, peerId }
//   → { cmd: 'begin' }   starts a measurement window              ← { type: 'begun' }
//   → { cmd: 'end' }     ends it                                   ← { type: 'window', … }
//   → { cmd: 'close' }   closes the sender and exits               ← { type: 'closed' }
//
// It is a plain @robocam/sender Sender (the library as built in libs/sender-core/dist, the same
// code apps/sender runs) with one test-pattern camera. The only addition is a listener on the
// camera pipeline's `encoded` event, which records every frame's encodeMs (per-frame samples for
// p50/p95; the sender's own stats only keep avg/max) and capture→sent time (the frame's capture
// timestamp to the moment its packets were handed to every viewer's peer connection).
//
// Content: `testpattern` is the sender's built-in camera (color bars, a moving box, clock and
// timecode strip: mostly static, so the encoders spend far less than the target bitrate on it).
// `camera` is a VideoSource defined below with camera-like content (moving gradient, moving
// square, sensor noise on every pixel) that makes the encoder work and fill its target bitrate,
// like the "camera-like content" measurements in ../shared/README.md.
import { EventEmitter } from 'node:events';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { cameraLikeFrame } from './lib/camera-frames.mjs';

const senderModule = await import('@robocam/sender');
const { Sender } = senderModule;
// As apps/sender does: FFmpeg's own stderr chatter (encoder banners) only for errors.
senderModule.setFfmpegLogLevel?.('error');

let sender;
let pipeline;
let recording = false;
let encodeMs = [];
let captureToSentMs = [];
let keyframes = 0;
let bytes = 0;
let windowStart;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });

function reply(message) {
  process.send?.(message);
}

/**
 * A VideoSource replaying 30 precomputed camera-like frames (1 s, looped), paced like the test
 * pattern: a monotonic clock, missed slots skipped rather than queued.
 */
class CameraLikeSource extends EventEmitter {
  kind = 'bench-camera';
  status = 'idle';
  framesSkipped = 0;
  #frames;
  #timer;
  #next = 0;
  #sequence = 0;

  constructor(width, height, fps) {
    super();
    this.width = width;
    this.height = height;
    this.fps = fps;
    this.#frames = Array.from({ length: 30 }, (_, i) => cameraLikeFrame(width, height, i));
  }

  start() {
    if (this.#timer === undefined) {
      this.#next = performance.now();
      this.#setStatus('live');
      this.#schedule();
    }
    return Promise.resolve();
  }

  stop() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#setStatus('idle');
    return Promise.resolve();
  }

  #schedule() {
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, this.#next - performance.now()));
  }

  #tick() {
    const interval = 1000 / this.fps;
    const late = performance.now() - this.#next;
    if (late >= interval) {
      const missed = Math.floor(late / interval);
      this.framesSkipped += missed;
      this.#next += missed * interval;
    }
    this.#next += interval;
    const data = this.#frames[this.#sequence % this.#frames.length];
    const sequence = this.#sequence++;
    this.emit('frame', {
      data,
      width: this.width,
      height: this.height,
      timestampMs: Date.now(),
      monotonicMs: performance.now(),
      sequence,
    });
    if (this.#timer !== undefined) this.#schedule();
  }

  #setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.emit('status', status);
  }
}

async function start({ signalingUrl, codec, width, height, fps, content = 'testpattern' }) {
  const camera =
    content === 'camera'
      ? { type: 'source', id: 'cam', label: 'Camera-like', source: new CameraLikeSource(width, height, fps) }
      : { type: 'testpattern', id: 'cam', width, height, fps };
  sender = new Sender({
    signalingUrl,
    name: 'bench-sender',
    codec,
    // Software encoders, as measured in ../shared/README.md (and what 'auto' picks here anyway).
    encoder: 'software',
    cameras: [camera],
  });
  pipeline = sender.cameras.get('cam');
  pipeline.on('encoded', (frame) => {
    if (!recording) return;
    encodeMs.push(frame.encodeMs);
    captureToSentMs.push(Date.now() - frame.timestampMs);
    bytes += frame.data.length;
    if (frame.keyframe) keyframes += 1;
  });
  await sender.start();
  reply({ type: 'started', pid: process.pid, peerId: sender.peerId });
}

async function begin() {
  const sessionsBefore = new Map((await sender.stats()).sessions.map((session) => [session.id, session]));
  encodeMs = [];
  captureToSentMs = [];
  keyframes = 0;
  bytes = 0;
  recording = true;
  loopDelay.reset();
  loopDelay.enable();
  windowStart = {
    sessionsBefore,
    cpu: process.cpuUsage(),
    elu: performance.eventLoopUtilization(),
    at: performance.now(),
    camera: pipeline.stats(),
    framesSkipped: pipeline.source.framesSkipped ?? 0,
  };
  reply({ type: 'begun' });
}

async function end() {
  recording = false;
  loopDelay.disable();
  const wallMs = performance.now() - windowStart.at;
  const cpu = process.cpuUsage(windowStart.cpu);
  const elu = performance.eventLoopUtilization(windowStart.elu);
  const stats = await sender.stats();
  const camera = stats.cameras[0];
  const before = windowStart.camera;
  reply({
    type: 'window',
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    eventLoopUtilization: elu.utilization,
    eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    eventLoopDelayMaxMs: loopDelay.max / 1e6,
    encodeMs,
    captureToSentMs,
    keyframes,
    bytes,
    memory: process.memoryUsage(),
    camera,
    delta: {
      framesCaptured: camera.framesCaptured - before.framesCaptured,
      framesEncoded: camera.framesEncoded - before.framesEncoded,
      framesDropped: camera.framesDropped - before.framesDropped,
      // Frame slots the test pattern skipped because its timer fired a whole interval late.
      framesSkipped: (pipeline.source.framesSkipped ?? 0) - windowStart.framesSkipped,
      packetsSent: camera.packetsSent - before.packetsSent,
    },
    sessions: stats.sessions,
    // NACKs and PLIs the viewers sent during the window (all sessions).
    nacks: sumDelta(stats.sessions, windowStart.sessionsBefore, 'nacksReceived'),
    plis: sumDelta(stats.sessions, windowStart.sessionsBefore, 'plisReceived'),
  });
}

function sumDelta(sessions, before, key) {
  return sessions.reduce((sum, session) => sum + session[key] - (before.get(session.id)?.[key] ?? 0), 0);
}

async function close() {
  await sender?.close();
  reply({ type: 'closed' });
  process.disconnect?.();
  setTimeout(() => process.exit(0), 100).unref();
}

process.on('message', (message) => {
  const handlers = { start: () => start(message), begin, end, close };
  const handler = handlers[message.cmd];
  if (handler === undefined) {
    reply({ type: 'error', error: `unknown command ${String(message.cmd)}` });
    return;
  }
  handler().catch((error) => {
    reply({ type: 'error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});
process.on('disconnect', () => {
  // The bench went away: do not linger.
  void (sender?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
