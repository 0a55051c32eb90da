// Publishing through a media server vs direct viewers: the sender app publishes a 1280x720@30 busy
// test pattern to Janus (../shared/janus-whip: Janus 1.1.2 behind simple-whip-server) and N werift
// subscribers watch through Janus's VideoRoom (1, 4, 16); then the same N watch the sender directly
// through the signaling server. Per N: the sender's upload (what it sent, kbit/s), its CPU (cores,
// the process tree), Janus's CPU, what the subscribers received in total, and glass-to-glass
// latency of one decoding subscriber (timecode strip; same machine, one clock).
//
//   ../shared/janus-whip/setup.sh            # once, outside the namespace
//   npx nx run-many -t build -p signal sender
//   flock /tmp/robocam-heavy.lock node bench/whip.mjs [--counts 1,4,16] [--seconds 20]
//
// Runs itself inside ../shared/netns/run-isolated.sh.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import {
  argument,
  createDecoder,
  isolate,
  percentile,
  requireBuilt,
  root,
  startApp,
  startStack,
  viewerPeerConfig,
  watch,
  waitForHttp,
} from './lib/harness.mjs';
import { treeCpuSeconds } from './lib/cpu.mjs';

const args = process.argv.slice(2);
isolate(import.meta.url, args);
requireBuilt();

const counts = (argument(args, '--counts') ?? '1,4,16').split(',').map(Number);
const seconds = Number(argument(args, '--seconds') ?? 20);
const CAMERAS = 'busy:1280x720@30';
const HEALTH_PORT = 18_767;
const SIGNAL_PORT = 18_770;
const JANUS_API = 'http://127.0.0.1:8088/janus';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const werift = await import('werift');
const { decodeTimecodeFromLuma } = await import(resolve(root, 'libs/testpattern/dist/index.js'));

/** Janus + simple-whip-server; resolves with the cam1 endpoint URL, the rig's pid and stop(). */
async function startJanus() {
  const child = spawn(resolve(root, '../shared/janus-whip/start.sh'), ['cam1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  let output = '';
  const url = await new Promise((resolveUrl, reject) => {
    const onData = (data) => {
      output += data.toString();
      const match = /janus-whip: endpoint cam1: (\S+)/.exec(output);
      if (match !== null) resolveUrl(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`janus-whip exited:\n${output}`)));
  });
  return { url, pid: child.pid, stop: async () => (child.kill('SIGTERM'), exited) };
}

async function janus(path, body) {
  const response = await fetch(`${JANUS_API}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, transaction: Math.random().toString(36).slice(2) }),
  });
  const reply = await response.json();
  if (reply.janus === 'error') throw new Error(`janus: ${reply.error?.reason}`);
  return reply;
}

/** A VideoRoom subscriber (werift); counts bytes, decodes when `onLatency` is given. */
async function subscribe({ onLatency } = {}) {
  const session = (await janus('', { janus: 'create' })).data.id;
  const handle = (await janus(`/${session}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' })).data.id;
  const path = `/${session}/${handle}`;
  const listed = await janus(path, { janus: 'message', body: { request: 'listparticipants', room: 1234 } });
  const feed = listed.plugindata.data.participants.find((p) => p.publisher)?.id;
  if (feed === undefined) throw new Error('no publisher');
  await janus(path, { janus: 'message', body: { request: 'join', ptype: 'subscriber', room: 1234, feed } });
  let offer;
  while (offer === undefined) {
    const event = await (await fetch(`${JANUS_API}/${session}?maxev=1`)).json();
    if (event.jsep?.type === 'offer') offer = event.jsep.sdp;
  }
  const pc = new werift.RTCPeerConnection(viewerPeerConfig(werift, 'vp8'));
  const state = { bytes: 0 };
  const decoder = onLatency === undefined ? undefined : await createDecoder();
  pc.onTrack.subscribe((track) => {
    let pending = [];
    track.onReceiveRtp.subscribe((rtp) => {
      state.bytes += rtp.payload.length;
      if (decoder === undefined) return;
      if (pending.length > 0 && pending[0].header.timestamp !== rtp.header.timestamp) pending = [];
      pending.push(rtp);
      if (!rtp.header.marker) return;
      const frame = werift.dePacketizeRtpPackets(
        'vp8',
        pending.sort((a, b) => a.header.sequenceNumber - b.header.sequenceNumber),
      );
      pending = [];
      const receivedAt = Date.now();
      void decoder.decode(frame.data, frame.isKeyframe).then((pictures) => {
        for (const picture of pictures) {
          const timecode = decodeTimecodeFromLuma(picture.luma, picture.width, picture.height);
          if (timecode !== null) onLatency(receivedAt - timecode.timestampMs);
        }
      });
    });
  });
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  await pc.setLocalDescription(await pc.createAnswer());
  const connected = new Promise((r) => pc.connectionStateChange.subscribe((s) => s === 'connected' && r()));
  await janus(path, {
    janus: 'message',
    body: { request: 'start', room: 1234 },
    jsep: { type: 'answer', sdp: pc.localDescription.sdp },
  });
  await connected;
  const poll = new AbortController();
  void (async () => {
    while (!poll.signal.aborted) {
      try {
        await (await fetch(`${JANUS_API}/${session}?maxev=1`, { signal: poll.signal })).text();
      } catch {
        await sleep(200);
      }
    }
  })();
  return {
    state,
    async close() {
      poll.abort();
      await janus(`/${session}`, { janus: 'destroy' }).catch(() => undefined);
      await pc.close();
      await decoder?.close();
    },
  };
}

/** Sender CPU (cores), its upload (kbit/s) from `sentBytes()`, other CPU, over `seconds`. */
async function measure({ senderPid, janusPid, sentBytes, receivedBytes }) {
  const cpu0 = treeCpuSeconds(senderPid);
  const janus0 = janusPid === undefined ? 0 : treeCpuSeconds(janusPid);
  const sent0 = await sentBytes();
  const received0 = receivedBytes();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const elapsed = (performance.now() - t0) / 1000;
  return {
    senderCores: (treeCpuSeconds(senderPid) - cpu0) / elapsed,
    janusCores: janusPid === undefined ? undefined : (treeCpuSeconds(janusPid) - janus0) / elapsed,
    uploadKbps: (((await sentBytes()) - sent0) * 8) / elapsed / 1000,
    receivedKbps: ((receivedBytes() - received0) * 8) / elapsed / 1000,
  };
}

const results = [];

// Through Janus.
{
  const rig = await startJanus();
  const sender = startApp('sender', {
    SIGNALING_URL: 'ws://127.0.0.1:9',
    HEALTH_PORT: String(HEALTH_PORT),
    CAMERAS,
    PUBLISH_WHIP: rig.url,
  });
  const stats = async () => (await fetch(`http://127.0.0.1:${HEALTH_PORT}/stats`)).json();
  try {
    await waitForHttp(`http://127.0.0.1:${HEALTH_PORT}/stats`);
    while ((await stats()).publications[0]?.state !== 'connected') await sleep(200);
    const latencies = [];
    const subscribers = [await subscribe({ onLatency: (ms) => latencies.push(ms) })];
    for (const count of counts) {
      while (subscribers.length < count) subscribers.push(await subscribe());
      await sleep(5000);
      latencies.length = 0;
      const reading = await measure({
        senderPid: sender.child.pid,
        janusPid: rig.pid,
        sentBytes: async () => (await stats()).publications[0]?.bytesSent ?? 0,
        receivedBytes: () => subscribers.reduce((sum, s) => sum + s.state.bytes, 0),
      });
      const sorted = [...latencies].sort((a, b) => a - b);
      results.push({
        mode: 'janus',
        count,
        ...reading,
        p50: percentile(sorted, 0.5),
        p95: percentile(sorted, 0.95),
      });
      console.error(JSON.stringify(results.at(-1)));
    }
    for (const subscriber of subscribers) await subscriber.close();
  } finally {
    await sender.stop();
    await rig.stop();
  }
}

// Direct, through the signaling server.
{
  const stack = await startStack({ signalPort: SIGNAL_PORT, cameras: CAMERAS });
  try {
    const latencies = [];
    const viewers = [
      await watch(stack.signalingUrl, {
        camera: 'busy',
        decode: true,
        onLatency: (ms) => latencies.push(ms),
      }),
    ];
    const sessionBytes = async () =>
      (await stack.stats()).sessions.reduce((sum, session) => sum + session.bytesSent, 0);
    for (const count of counts) {
      while (viewers.length < count) viewers.push(await watch(stack.signalingUrl, { camera: 'busy' }));
      await sleep(5000);
      latencies.length = 0;
      const reading = await measure({
        senderPid: stack.sender.child.pid,
        janusPid: undefined,
        sentBytes: sessionBytes,
        receivedBytes: () => 0,
      });
      reading.receivedKbps = undefined;
      const sorted = [...latencies].sort((a, b) => a - b);
      results.push({
        mode: 'direct',
        count,
        ...reading,
        p50: percentile(sorted, 0.5),
        p95: percentile(sorted, 0.95),
      });
      console.error(JSON.stringify(results.at(-1)));
    }
    for (const viewer of viewers) await viewer.close();
  } finally {
    await stack.stop();
  }
}

const f = (value, digits = 0) => (value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits));
console.log(
  '| path | viewers | sender upload kbit/s | sender CPU (cores) | Janus CPU (cores) | received by all, kbit/s | glass-to-glass p50 / p95 ms |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of results) {
  console.log(
    `| ${r.mode} | ${r.count} | ${f(r.uploadKbps)} | ${f(r.senderCores, 2)} | ${f(r.janusCores, 2)} | ${f(r.receivedKbps)} | ${f(r.p50)} / ${f(r.p95)} |`,
  );
}
process.exit(0);
