// Time to first frame: how long a browser viewer waits from asking for the video to seeing it.
// Signal + sender apps (test pattern 1280x720@30 VP8) and headless Chromium on loopback; per run a
// fresh peer connection, measured in the page on its own clock from the request (WHEP: the POST;
// page: the offer sent over the signaling WebSocket, as apps/web does, trickling its candidates
// after the answer) to: answer received, ICE connected, connected (ICE + DTLS), first frame's
// last packet received (requestVideoFrameCallback's receiveTime) and first frame rendered
// (requestVideoFrameCallback). "cold": nobody watched before the run (the encoder is stopped and
// each run waits until it is); "warm": another viewer (werift, in this process) keeps it running.
//
//   npx nx run-many -t build -p signal sender
//   node bench/ttff.mjs [--runs 10] [--only whep,page] [--modes cold,warm] [--json out.json]
//   node bench/ttff.mjs --sender-log debug      the sender's per-session timeline on stdout
//   node bench/ttff.mjs --snapshot /tmp/before  freeze the current build (dist/) as a baseline …
//   node bench/ttff.mjs --baseline /tmp/before  … and measure it beside this build, runs alternating
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  argument,
  isolate,
  launchChromium,
  percentile,
  requireBuilt,
  root,
  startStack,
  watch,
} from './lib/harness.mjs';

const args = process.argv.slice(2);
const snapshotDir = argument(args, '--snapshot');
if (snapshotDir !== undefined) {
  snapshot(resolve(snapshotDir));
  process.exit(0);
}
isolate(import.meta.url, args);
requireBuilt();
const runs = Number(argument(args, '--runs') ?? 10);
const paths = (argument(args, '--only') ?? 'whep,page').split(',');
const modes = (argument(args, '--modes') ?? 'cold,warm').split(',');
const jsonOut = argument(args, '--json');
const senderLog = argument(args, '--sender-log');
const baseline = argument(args, '--baseline');
const PHASES = ['answer', 'iceConnected', 'connected', 'firstFrameReceived', 'firstFrame'];

const browser = await launchChromium();
// With --baseline, a snapshot's stack runs beside this checkout's and runs alternate between the
// two (baseline, this build, baseline, …), so both see the same machine load.
const variants = [
  ...(baseline === undefined ? [] : [{ name: 'baseline', appRoot: resolve(baseline) }]),
  { name: 'this build', appRoot: root },
];
const results = [];
try {
  let signalPort = 32_785;
  for (const variant of variants) {
    variant.signalPort = signalPort;
    variant.stack = await startStack({
      signalPort,
      cameras: 'testpattern:1280x720@30',
      senderEnv: senderLog === undefined ? {} : { LOG_LEVEL: senderLog },
      appRoot: variant.appRoot,
    });
    signalPort += 2;
    variant.page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await variant.page.goto(`http://127.0.0.1:${variant.signalPort + 1}/healthz`);
    await variant.page.evaluate(installClient, { signalingUrl: variant.stack.signalingUrl });
    await variant.page.evaluate(`window.newViewer = ${newViewer.toString()}`);
  }
  for (const mode of modes) {
    const warmViewers =
      mode === 'warm' ? await Promise.all(variants.map((v) => watch(v.stack.signalingUrl))) : [];
    for (const path of paths) {
      const samples = new Map(variants.map((v) => [v, []]));
      for (let run = 0; run < runs + 1; run++) {
        for (const variant of variants) {
          if (mode === 'cold') await waitForEncoderStopped(variant.stack.stats);
          else await sleep(300);
          const marks = await variant.page.evaluate(
            path === 'whep' ? whepRun : pageRun,
            path === 'whep' ? `http://127.0.0.1:${variant.signalPort}/whep` : undefined,
          );
          // The first run of each group warms up V8 and Chromium (JIT, codec load): not counted.
          if (run > 0) samples.get(variant).push(marks);
          else variant.firstRuns = [...(variant.firstRuns ?? []), { mode, path, marks }];
          if (senderLog !== undefined) {
            console.log(`--- ${variant.name} ${mode} ${path} run ${run}: ${JSON.stringify(marks)}`);
          }
        }
      }
      for (const variant of variants) {
        results.push({ variant: variant.name, mode, path, samples: samples.get(variant) });
        printGroup(`${variant.name}, ${mode}, ${path}`, samples.get(variant));
      }
    }
    await Promise.all(warmViewers.map((viewer) => viewer.close()));
  }
  for (const variant of variants) {
    for (const { mode, path, marks } of variant.firstRuns ?? []) {
      const cells = PHASES.map((phase) => `${phase} ${marks[phase]?.toFixed(0)}`);
      console.log(`${variant.name}, ${mode}, ${path}, warm-up run (not counted): ${cells.join(', ')}`);
    }
  }
} finally {
  await browser.close();
  for (const variant of variants) await variant.stack?.stop();
}
if (jsonOut !== undefined) writeFileSync(jsonOut, JSON.stringify(results, null, 2));

/**
 * Copies the built apps and libraries (dist/ and package.json) to `dir`, with a node_modules of
 * links to this checkout's packages, except the workspace's own (@robocam/*), which point into the
 * copy: a frozen "before" to compare against with --baseline.
 */
function snapshot(dir) {
  for (const group of ['apps', 'libs']) {
    for (const name of readdirSync(join(root, group))) {
      const from = join(root, group, name);
      if (!existsSync(join(from, 'dist'))) continue;
      cpSync(join(from, 'dist'), join(dir, group, name, 'dist'), { recursive: true });
      cpSync(join(from, 'package.json'), join(dir, group, name, 'package.json'));
    }
  }
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  mkdirSync(join(dir, 'node_modules', '@robocam'), { recursive: true });
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry === '@robocam') continue;
    symlinkSync(join(root, 'node_modules', entry), join(dir, 'node_modules', entry));
  }
  for (const entry of readdirSync(join(root, 'node_modules', '@robocam'))) {
    // Relative links (../../libs/x): they resolve inside the snapshot.
    const target = readlinkSync(join(root, 'node_modules', '@robocam', entry));
    symlinkSync(target, join(dir, 'node_modules', '@robocam', entry));
  }
  console.log(`snapshot of the current build in ${dir}: compare with --baseline ${dir}`);
}

function printGroup(label, samples) {
  const cells = PHASES.map((phase) => {
    const values = samples
      .map((s) => s[phase])
      .filter((v) => v !== undefined)
      .sort((a, b) => a - b);
    return `${phase} ${percentile(values, 0.5).toFixed(0)} / ${percentile(values, 0.95).toFixed(0)}`;
  });
  console.log(`${label} (${samples.length} runs, p50 / p95 ms): ${cells.join(', ')}`);
}

async function waitForEncoderStopped(readStats) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { cameras, sessions } = await readStats();
    if (sessions.length === 0 && cameras.every((camera) => !camera.running)) {
      await sleep(200);
      return;
    }
    await sleep(50);
  }
  throw new Error('the encoder did not stop');
}

// ---- in the page ---------------------------------------------------------------------------

/** A long-lived signaling connection in the page, as the viewer page keeps one. */
async function installClient({ signalingUrl: url }) {
  const ws = new WebSocket(url);
  const handlers = new Set();
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'ping' && message.session === undefined) {
      ws.send(JSON.stringify({ type: 'pong', t0: message.t0, t1: Date.now() }));
    }
    for (const handler of handlers) handler(message);
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const welcome = await new Promise((resolve) => {
    const handler = (message) => {
      if (message.type !== 'welcome') return;
      handlers.delete(handler);
      resolve(message);
    };
    handlers.add(handler);
    ws.send(JSON.stringify({ type: 'hello', protocol: 1, role: 'viewer', name: 'ttff bench' }));
  });
  const sender = welcome.senders[0];
  if (sender === undefined) throw new Error('no sender online');
  window.ttff = { ws, handlers, senderId: sender.id, camera: sender.cameras[0].id };
}

/** One viewer peer connection with timing marks (ms after `t0`) and a video element. */
function newViewer() {
  const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
  const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
  transceiver.receiver.jitterBufferTarget = 0; // as the viewer page does (pinToLiveEdge)
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  document.body.append(video);
  const marks = {};
  const state = { t0: undefined };
  const mark = (name, at = performance.now()) => {
    if (state.t0 !== undefined && marks[name] === undefined) marks[name] = at - state.t0;
  };
  pc.oniceconnectionstatechange = () => {
    if (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') mark('iceConnected');
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'connected') mark('connected');
  };
  pc.ontrack = (event) => {
    video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
  };
  const firstFrame = new Promise((resolve, reject) => {
    video.requestVideoFrameCallback((_now, metadata) => {
      mark('firstFrame');
      if (metadata.receiveTime !== undefined) mark('firstFrameReceived', metadata.receiveTime);
      resolve();
    });
    setTimeout(() => reject(new Error(`no frame within 10 s: ${JSON.stringify(marks)}`)), 10_000);
  });
  const close = () => {
    pc.close();
    video.remove();
  };
  return { pc, marks, state, mark, firstFrame, close };
}

/** WHEP: offer with all candidates (non-trickle client), POST, answer, wait for the first frame. */
async function whepRun(url) {
  const viewer = newViewer();
  const { pc } = viewer;
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise((resolve) => {
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
    });
  }
  viewer.state.t0 = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp' },
    body: pc.localDescription.sdp,
  });
  if (response.status !== 201) throw new Error(`POST ${response.status}: ${await response.text()}`);
  const sdp = await response.text();
  viewer.mark('answer');
  await pc.setRemoteDescription({ type: 'answer', sdp });
  try {
    await viewer.firstFrame;
  } finally {
    await fetch(new URL(response.headers.get('location'), url), { method: 'DELETE' });
    viewer.close();
  }
  return viewer.marks;
}

/** The page's way: offer at once over signaling, trickle local candidates after the answer. */
async function pageRun() {
  const { ws, handlers, senderId, camera } = window.ttff;
  const viewer = newViewer();
  const { pc } = viewer;
  const session = `ttff-${crypto.randomUUID()}`;
  const send = (message) => ws.send(JSON.stringify(message));
  let pending = [];
  pc.onicecandidate = ({ candidate }) => {
    const json = candidate === null ? null : candidate.toJSON();
    if (pending === undefined) send({ type: 'candidate', session, candidate: json });
    else pending.push(json);
  };
  const answered = new Promise((resolve, reject) => {
    const handler = (message) => {
      if (message.session !== session) return;
      if (message.type === 'answer') resolve(message.sdp);
      else if (message.type === 'candidate' && message.candidate !== null)
        void pc.addIceCandidate(message.candidate);
      else if (message.type === 'bye') reject(new Error(`bye: ${message.reason}`));
    };
    handlers.add(handler);
    viewer.handler = handler;
  });
  await pc.setLocalDescription(await pc.createOffer());
  viewer.state.t0 = performance.now();
  send({ type: 'offer', session, to: senderId, cameras: [camera], sdp: pc.localDescription.sdp });
  const sdp = await answered;
  viewer.mark('answer');
  await pc.setRemoteDescription({ type: 'answer', sdp });
  for (const candidate of pending) send({ type: 'candidate', session, candidate });
  pending = undefined;
  try {
    await viewer.firstFrame;
  } finally {
    send({ type: 'bye', session, code: 'closed', reason: 'bench run done' });
    handlers.delete(viewer.handler);
    viewer.close();
  }
  return viewer.marks;
}
