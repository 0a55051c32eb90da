// Shared pieces of the long-running benchmarks (soak, long run): the apps as processes, a werift
// viewer that can decode the timecode strip, and /proc readings of the sender process.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(fileURLToPath(import.meta.url), '../../..');

/** Re-runs the calling script inside the isolated network namespace when it exists. */
export function isolate(scriptUrl, args) {
  const script = resolve(root, '../shared/netns/run-isolated.sh');
  if (process.env.ROBOCAM_BENCH_ISOLATED === '1' || !existsSync(script)) return;
  const result = spawnSync(script, [process.execPath, fileURLToPath(scriptUrl), ...args], {
    stdio: 'inherit',
    env: { ...process.env, ROBOCAM_BENCH_ISOLATED: '1' },
  });
  process.exit(result.status ?? 1);
}

export function requireBuilt() {
  for (const file of [
    'apps/signal/dist/main.js',
    'apps/sender/dist/main.js',
    'libs/sender-core/dist/index.js',
  ]) {
    if (!existsSync(resolve(root, file))) {
      console.error(`missing ${file}: run npx nx run-many -t build -p signal sender first`);
      process.exit(1);
    }
  }
}

/** Starts `apps/<app>/dist/main.js` of `appRoot` (default this checkout; bench/ttff.mjs passes a snapshot). */
export function startApp(app, env, nodeArgs = [], appRoot = root) {
  const child = spawn(process.execPath, [...nodeArgs, resolve(appRoot, `apps/${app}/dist/main.js`)], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((done) => child.once('exit', (code) => done(code)));
  return { child, exited, stop: async () => (child.kill('SIGTERM'), exited) };
}

export async function waitForHttp(url, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not healthy within ${timeoutMs} ms`);
}

/** The value after `name` on the command line (`--cycles 1000` → '1000'), or undefined. */
/**
 * Headless Chromium with the flags of apps/web/e2e/support/browser.ts (which a .mjs bench cannot
 * import): raw host addresses instead of .local names, or werift spends 10 s on an mDNS lookup.
 */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
}

export function argument(args, name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * The signaling server and the sender app (from their dist/) on loopback, `signalPort` for
 * signaling and the next port for the sender's health endpoint; resolves once the sender is
 * registered (apps of `appRoot`, default this checkout). `stats()` reads the sender's /stats, `stop()` ends both.
 */
export async function startStack({ signalPort, cameras, senderEnv = {}, appRoot = root }) {
  const healthUrl = `http://127.0.0.1:${signalPort + 1}`;
  const signalingUrl = `ws://127.0.0.1:${signalPort}`;
  const signal = startApp('signal', { PORT: String(signalPort), HOST: '127.0.0.1' }, [], appRoot);
  const sender = startApp(
    'sender',
    {
      SIGNALING_URL: signalingUrl,
      HEALTH_PORT: String(signalPort + 1),
      CAMERAS: cameras,
      ...senderEnv,
    },
    [],
    appRoot,
  );
  const stop = async () => {
    await sender.stop();
    await signal.stop();
  };
  try {
    await waitForHttp(`${healthUrl}/healthz`);
  } catch (error) {
    await stop();
    throw error;
  }
  const json = async (path) => (await fetch(`${healthUrl}${path}`)).json();
  return { signalingUrl, sender, stats: () => json('/stats'), health: () => json('/healthz'), stop };
}

/** Resident memory (MiB), open file descriptors and sockets of a process, from /proc. */
export function processReading(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fds = readdirSync(`/proc/${pid}/fd`);
  let sockets = 0;
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets += 1;
    } catch {
      // closed meanwhile
    }
  }
  const [utime, stime] = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .split(') ')[1]
    .split(' ')
    .slice(11, 13)
    .map(Number);
  return { rssMiB: rssKb / 1024, fds: fds.length, sockets, cpuSeconds: (utime + stime) / 100 };
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/**
 * werift settings for a receive-only viewer on this machine. A loopback STUN address keeps werift
 * from resolving its public default (that hangs offline); max-bundle as browsers do (max-compat
 * leaks a socket per extra m-line). `werift` is the imported module (benchmarks load it lazily,
 * after moving into the isolated network namespace).
 */
export function viewerPeerConfig(werift, codec) {
  const rtcpFeedback = [
    { type: 'nack' },
    { type: 'nack', parameter: 'pli' },
    { type: 'ccm', parameter: 'fir' },
  ];
  const video =
    codec === 'vp8'
      ? new werift.RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback })
      : new werift.RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90000,
          rtcpFeedback,
          parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        });
  return {
    iceServers: [{ urls: 'stun:127.0.0.1:9' }],
    iceStunGatherTimeout: 0.05,
    iceUseIpv6: false,
    bundlePolicy: 'max-bundle',
    codecs: { video: [video] },
  };
}

/**
 * A werift viewer over the robocam signaling protocol. `decode: true` decodes frames with node-av
 * and reads the timecode strip (capture time → glass-to-glass latency on one clock).
 */
export async function watch(signalingUrl, { camera = 'testpattern', decode = false, onLatency } = {}) {
  const { SignalingClient } = await import(resolve(root, 'libs/protocol/dist/index.js'));
  const { decodeTimecodeFromLuma } = await import(resolve(root, 'libs/testpattern/dist/index.js'));
  const werift = await import('werift');
  const client = new SignalingClient({
    url: signalingUrl,
    role: 'viewer',
    name: 'bench',
    heartbeatIntervalMs: 0,
  });
  await client.connect();
  const deadline = Date.now() + 10_000;
  while (client.senders.size === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const senderId = [...client.senders.keys()][0];
  if (senderId === undefined) throw new Error('no sender online');
  const pc = new werift.RTCPeerConnection(viewerPeerConfig(werift, 'vp8'));
  const session = `bench-${Math.random().toString(36).slice(2, 14)}`;
  const state = { frames: 0, keyframes: 0, decoded: 0 };
  let decoder;
  if (decode) decoder = await createDecoder();
  const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
  let firstKeyframe;
  const gotKeyframe = new Promise((r) => (firstKeyframe = r));
  transceiver.onTrack.subscribe((track) => {
    let pending = [];
    track.onReceiveRtp.subscribe((rtp) => {
      if (pending.length > 0 && pending[0].header.timestamp !== rtp.header.timestamp) pending = [];
      pending.push(rtp);
      if (!rtp.header.marker) return;
      const frame = werift.dePacketizeRtpPackets(
        'vp8',
        pending.sort((a, b) => a.header.sequenceNumber - b.header.sequenceNumber),
      );
      pending = [];
      state.frames += 1;
      if (frame.isKeyframe) {
        state.keyframes += 1;
        firstKeyframe();
      }
      if (decoder !== undefined) {
        const receivedAt = Date.now();
        void decoder.decode(frame.data, frame.isKeyframe).then((pictures) => {
          for (const picture of pictures) {
            state.decoded += 1;
            const timecode = decodeTimecodeFromLuma(picture.luma, picture.width, picture.height);
            if (timecode !== null) onLatency?.(receivedAt - timecode.timestampMs);
          }
        });
      }
    });
  });
  const answered = new Promise((resolveAnswer, reject) => {
    client.on('answer', (m) => m.session === session && resolveAnswer(m.sdp));
    client.on('bye', (m) => m.session === session && reject(new Error(`refused: ${m.reason}`)));
    setTimeout(() => reject(new Error('no answer')), 10_000);
  });
  await pc.setLocalDescription(await pc.createOffer());
  client.send({ type: 'offer', session, to: senderId, cameras: [camera], sdp: pc.localDescription.sdp });
  await pc.setRemoteDescription({ type: 'answer', sdp: await answered });
  await Promise.race([
    gotKeyframe,
    new Promise((_, reject) => setTimeout(() => reject(new Error('no keyframe')), 10_000)),
  ]);
  return {
    state,
    async close() {
      client.send({ type: 'bye', session, reason: 'bench done' });
      await pc.close();
      client.close();
      await decoder?.close();
    },
  };
}

/** A VP8 decoder (node-av) returning each picture's luma plane, one frame at a time. */
export async function createDecoder() {
  const { Codec, CodecContext, Frame, Packet } = await import('node-av/lib');
  const { AV_CODEC_ID_VP8 } = await import('node-av/constants');
  const codec = Codec.findDecoder(AV_CODEC_ID_VP8);
  const context = new CodecContext();
  context.allocContext3(codec);
  context.threadCount = 1;
  const packet = new Packet();
  packet.alloc();
  const frame = new Frame();
  frame.alloc();
  await context.open2(codec, null);
  let chain = Promise.resolve();
  let sawKeyframe = false;
  let closed = false;
  return {
    decode(data, keyframe) {
      const run = async () => {
        if (closed || (!sawKeyframe && !keyframe)) return [];
        sawKeyframe = true;
        packet.data = data;
        const sent = await context.sendPacket(packet);
        packet.unref();
        if (sent < 0) return [];
        const out = [];
        while ((await context.receiveFrame(frame)) >= 0) {
          const buffer = frame.toBuffer();
          out.push({
            width: frame.width,
            height: frame.height,
            luma: buffer.subarray(0, frame.width * frame.height),
          });
          frame.unref();
        }
        return out;
      };
      const result = chain.then(run, run);
      chain = result.catch(() => undefined);
      return result;
    },
    async close() {
      closed = true;
      await chain;
      context.freeContext();
      packet.free();
      frame.free();
    },
  };
}
