import { afterEach, describe, expect, it } from '@jest/globals';
import { WeriftViewer, type ReceivedTrack } from '../../../libs/sender-core/test/support/werift-viewer.js';
import { LossyRelay, startApp, waitFor, waitForHttp, type AppProcess } from './support/processes.js';

// Chaos against the apps as users run them (separate processes), with werift viewers that decode
// what they receive. Runs inside ../shared/netns/run-isolated.sh (npm test does).

const signalPort = 20_000 + Math.floor(Math.random() * 10_000);
const healthPort = signalPort + 1;
const signalingUrl = `ws://127.0.0.1:${signalPort}`;
const cameras = 'testpattern:320x240@30';
const processes: AppProcess[] = [];
const viewers: WeriftViewer[] = [];

function start(app: 'signal' | 'sender', env: Record<string, string> = {}): AppProcess {
  const process_ =
    app === 'signal'
      ? startApp('signal', { PORT: String(signalPort), HOST: '127.0.0.1', ...env })
      : startApp('sender', {
          SIGNALING_URL: signalingUrl,
          HEALTH_PORT: String(healthPort),
          CAMERAS: cameras,
          ...env,
        });
  processes.push(process_);
  return process_;
}

async function kill9(app: AppProcess): Promise<void> {
  app.child.kill('SIGKILL');
  await app.exited;
}

async function viewer(options?: Parameters<WeriftViewer['watch']>[3]): Promise<WeriftViewer> {
  const v = await WeriftViewer.connect(signalingUrl);
  viewers.push(v);
  await v.watch(await v.senderId(10_000), ['testpattern'], 'vp8', options);
  return v;
}

/** Largest gap between decoded frames in [from, to], and the frame rate there. */
function playback(
  track: ReceivedTrack,
  from: number,
  to: number,
): { frames: number; fps: number; maxGapMs: number; freezes: number } {
  const times = track.frames.map((f) => f.receivedAtMono).filter((t) => t >= from && t <= to);
  let maxGapMs = 0;
  let freezes = 0;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    maxGapMs = Math.max(maxGapMs, gap);
    if (gap > 200) freezes += 1;
  }
  return { frames: times.length, fps: (times.length * 1000) / (to - from), maxGapMs, freezes };
}

function log(line: string): void {
  process.stdout.write(`chaos: ${line}\n`);
}

afterEach(async () => {
  await Promise.all(viewers.splice(0).map((v) => v.close()));
  for (const app of processes.splice(0)) {
    if (app.child.exitCode === null && app.child.signalCode === null) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
  }
});

describe('chaos', () => {
  it('keeps playing through a kill -9 of the signaling server; the sender re-registers', async () => {
    const signal = start('signal');
    start('sender');
    await waitForHttp(`http://127.0.0.1:${healthPort}/healthz`, 10_000);
    const v = await viewer();
    const track = v.tracks[0]!;
    await waitFor(() => track.frames.length > 10, 20_000, 'frames');

    const killedAt = performance.now();
    await kill9(signal);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    start('signal');
    const restartedAt = performance.now();
    const reRegisteredMs = await waitForHttp(`http://127.0.0.1:${healthPort}/healthz`, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const during = playback(track, killedAt, performance.now());
    const whileDown = playback(track, killedAt, restartedAt);
    log(
      `signal kill -9: sender re-registered ${Math.round(reRegisteredMs)} ms after restart; media meanwhile ${during.fps.toFixed(1)} fps, max gap ${Math.round(during.maxGapMs)} ms`,
    );
    // Media never depended on the signaling server: pictures kept coming while it was down, and
    // on after it came back (rates and gaps are printed above, not asserted).
    expect(whileDown.frames).toBeGreaterThan(0);
    expect(playback(track, restartedAt, performance.now()).frames).toBeGreaterThan(0);

    // A new viewer can join through the restarted server.
    const late = await viewer();
    await waitFor(
      () => late.tracks[0]!.frames.length > 0,
      20_000,
      'frames for a viewer joining after the restart',
    );
  });

  it('resumes after a kill -9 and restart of the sender', async () => {
    start('signal');
    const sender = start('sender');
    await waitForHttp(`http://127.0.0.1:${healthPort}/healthz`, 10_000);
    const before = await viewer();
    await waitFor(() => before.tracks[0]!.frames.length > 10, 20_000, 'frames');

    await kill9(sender);
    start('sender');
    const restartedAt = performance.now();
    // The viewer notices the new sender (sender-online) and negotiates a new session.
    const after = await viewer();
    await waitFor(() => after.tracks[0]!.frames.length > 0, 30_000, 'frames from the restarted sender');
    const resumeMs = performance.now() - restartedAt;
    log(`sender kill -9: video resumed ${Math.round(resumeMs)} ms after the sender restarted`);
    expect(after.tracks[0]!.encodedFrames[0]?.keyframe).toBe(true);
  });

  it('keeps playing over a link with 5 % loss and 50 ± 10 ms delay (NACK and PLI at work)', async () => {
    start('signal');
    start('sender');
    await waitForHttp(`http://127.0.0.1:${healthPort}/healthz`, 10_000);
    let relay: LossyRelay | undefined;
    try {
      const v = await viewer({
        rewriteAnswer: async (sdp) => {
          // Point the viewer at the relay instead of the sender's host candidate.
          const match = / (127\.0\.0\.2) (\d+) typ host/.exec(sdp);
          if (match === null) throw new Error('no host candidate in the answer');
          relay = await LossyRelay.start(
            { address: '127.0.0.2', port: Number(match[2]) },
            { loss: 0, delayMs: 0, jitterMs: 0 },
          );
          return sdp.replaceAll(` 127.0.0.2 ${match[2]} typ host`, ` 127.0.0.2 ${relay.port} typ host`);
        },
      });
      const track = v.tracks[0]!;
      await waitFor(() => track.frames.length > 0, 20_000, 'first frame through the relay');
      // werift's DTLS handshake does not survive heavy loss; impair the established stream.
      relay!.impair({ loss: 0.05, delayMs: 50, jitterMs: 10 });
      const from = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const result = playback(track, from, performance.now());
      const stats = (await (await fetch(`http://127.0.0.1:${healthPort}/stats`)).json()) as {
        cameras: { keyframes: Record<string, number>; keyframeRequestsCoalesced: number }[];
        sessions: { nacksReceived: number; plisReceived: number }[];
      };
      const session = stats.sessions[0]!;
      log(
        `5 % loss, 50±10 ms: ${result.fps.toFixed(1)} fps decoded, ${result.freezes} freezes > 200 ms, max gap ${Math.round(result.maxGapMs)} ms, ` +
          `relay dropped ${relay?.dropped ?? 0} of ${(relay?.dropped ?? 0) + (relay?.forwarded ?? 0)} datagrams, ` +
          `sender saw ${session.nacksReceived} NACKs and ${session.plisReceived} PLIs, keyframes ${JSON.stringify(stats.cameras[0]!.keyframes)}`,
      );
      expect(relay!.dropped).toBeGreaterThan(0);
      expect(session.nacksReceived).toBeGreaterThan(0);
      // Playback continues: pictures keep coming through the impaired run, to its end (rate and
      // gaps are printed above: the werift test viewer has no jitter buffer, so a frame whose
      // retransmission comes after the next frame started is dropped; its fps is a floor of what
      // a browser shows, and varies with load).
      expect(result.frames).toBeGreaterThan(0);
      expect(playback(track, from + 5000, performance.now()).frames).toBeGreaterThan(0);
    } finally {
      relay?.close();
    }
  });
});
