/**
 * The sender app publishing to a WHIP server we did not write: Janus (VideoRoom) behind
 * simple-whip-server (../shared/janus-whip). Pictures are proven through Janus itself: a werift
 * subscriber joins the room over Janus's HTTP API and decodes the test pattern's timecode strip.
 * Runs inside ../shared/netns/run-isolated.sh (`nx run sender:test-whip`).
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import type { PublicationStats, SenderStats } from '@robocam/sender';
import { startApp, waitFor, type AppProcess } from '../support/processes.js';
import { JanusSubscriber, startJanus, type JanusRig } from '../support/janus.js';

/** A port of this test's own (the namespace is private): the app's /stats. */
const HEALTH_PORT = 18_766;
/** Nothing listens there: publishing does not need the signaling server. */
const NO_SIGNALING = 'ws://127.0.0.1:9';

let rig: JanusRig | undefined;
let app: AppProcess | undefined;
const subscribers: JanusSubscriber[] = [];

async function publication(): Promise<PublicationStats | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${HEALTH_PORT}/stats`);
    const stats = (await response.json()) as SenderStats;
    return stats.publications[0];
  } catch {
    return undefined;
  }
}

function startSender(url: string, env: Record<string, string> = {}): AppProcess {
  return startApp('sender', {
    SIGNALING_URL: NO_SIGNALING,
    CAMERAS: 'testpattern:640x360@30',
    HEALTH_PORT: String(HEALTH_PORT),
    PUBLISH_WHIP: url,
    ...env,
  });
}

async function stopSender(): Promise<number | null> {
  const running = app;
  app = undefined;
  if (running === undefined) return null;
  running.child.kill('SIGTERM');
  return running.exited;
}

/** Subscribes through Janus and waits for decoded pictures whose timecodes advance. */
async function expectPicturesThroughJanus(): Promise<void> {
  const subscriber = await JanusSubscriber.watch('vp8');
  subscribers.push(subscriber);
  await waitFor(
    () => subscriber.frames.filter((frame) => frame.timecode !== undefined).length >= 10,
    30_000,
    'ten decoded pictures with a timecode through Janus',
  );
  const timed = subscriber.frames.flatMap((frame) => (frame.timecode === undefined ? [] : [frame]));
  expect(timed[0]).toMatchObject({ width: 640, height: 360 });
  const counters = timed.map((frame) => frame.timecode?.counter ?? 0);
  // The counter is the pattern's frame number: pictures, in order, not one picture repeated.
  expect(counters.at(-1)).toBeGreaterThan(counters[0] ?? 0);
  for (let index = 1; index < counters.length; index++) {
    expect(counters[index]).toBeGreaterThan(counters[index - 1] ?? 0);
  }
}

afterEach(async () => {
  for (const subscriber of subscribers.splice(0)) await subscriber.close();
});

afterAll(async () => {
  await stopSender();
  await rig?.stop();
});

describe('publishing to Janus over WHIP', () => {
  it('publishes the test pattern: a Janus subscriber decodes its pictures', async () => {
    rig = await startJanus(['cam1']);
    app = startSender(rig.urls.get('cam1') ?? '');
    await waitFor(
      async () => (await publication())?.state === 'connected',
      30_000,
      'the publication to connect',
    );
    await expectPicturesThroughJanus();
    await waitFor(
      async () => {
        const stats = await publication();
        return (stats?.bitrateKbps ?? 0) > 0 && stats?.rttMs !== undefined;
      },
      10_000,
      'the publication to report its bitrate and RTT',
    );
    const stats = await publication();
    // Janus sends transport-wide feedback: congestion control runs on this leg as on a viewer's.
    expect(stats?.link?.feedbackPackets).toBeGreaterThan(0);
    // The logs show the publication's bitrate and RTT.
    expect(app.output.join('')).toMatch(/"bitrateKbps":\d+.*"msg":"whip publication stats"/);
  });

  it('republishes by itself after Janus is killed and restarted', async () => {
    if (rig === undefined || app === undefined) throw new Error('needs the previous test');
    await rig.stop();
    await waitFor(
      async () => (await publication())?.state === 'reconnecting',
      30_000,
      'the publication to notice that Janus is gone',
    );
    rig = await startJanus(['cam1']);
    await waitFor(
      async () => {
        const stats = await publication();
        return stats?.state === 'connected' && stats.sessionsConnected === 2;
      },
      60_000,
      'the publication to reconnect',
    );
    await expectPicturesThroughJanus();
  });

  it('keeps retrying a 404 once it has published: the endpoint is re-created after a restart', async () => {
    if (rig === undefined || app === undefined) throw new Error('needs the previous test');
    const url = rig.urls.get('cam1') ?? '';
    await rig.stop();
    // The server comes back without the endpoint (simple-whip-server creates endpoints through its
    // API after start-up): POSTs get 404 until it exists again.
    rig = await startJanus(['cam2']);
    // Both at once: the 404 a POST got during the previous restart (the server answers before its
    // endpoints exist) is still the last error while the old session has not noticed Janus is gone.
    await waitFor(
      async () => {
        const stats = await publication();
        return stats?.state === 'reconnecting' && stats.lastError?.message.includes('HTTP 404') === true;
      },
      60_000,
      'a 404 from the restarted server',
    );
    const created = await fetch('http://127.0.0.1:7080/whip/create', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'cam1', room: 1234, label: 'cam1' }),
    });
    expect(created.ok).toBe(true);
    rig.urls.set('cam1', url);
    await waitFor(
      async () => {
        const stats = await publication();
        return stats?.state === 'connected' && stats.sessionsConnected === 3;
      },
      60_000,
      'the publication to reconnect to the re-created endpoint',
    );
    await expectPicturesThroughJanus();
  });

  it('DELETEs its session on SIGTERM: the endpoint takes a new publisher at once', async () => {
    if (rig === undefined || app === undefined) throw new Error('needs the previous test');
    const output = app.output;
    expect(await stopSender()).toBe(0);
    expect(output.join('')).toMatch(/whip session deleted/);
    // simple-whip-server answers 403 to a second publisher while a session lives on the endpoint.
    const posts = rig.postsTo('cam1');
    app = startSender(rig.urls.get('cam1') ?? '');
    await waitFor(
      async () => (await publication())?.state === 'connected',
      30_000,
      'the new publisher to connect',
    );
    expect(rig.postsTo('cam1')).toBe(posts + 1);
    await expectPicturesThroughJanus();
    expect(await stopSender()).toBe(0);
  });

  it('a wrong token fails clearly and is not retried', async () => {
    await rig?.stop();
    rig = await startJanus(['cam1'], { JANUS_WHIP_TOKEN: 'right-token' });
    app = startSender(rig.urls.get('cam1') ?? '', { PUBLISH_WHIP_TOKEN: 'wrong-token' });
    await waitFor(async () => (await publication())?.state === 'failed', 30_000, 'the publication to fail');
    const stats = await publication();
    expect(stats?.lastError?.code).toBe('whip-unauthorized');
    expect(stats?.lastError?.message).toMatch(/HTTP 403.*check the token/);
    expect(app.output.join('')).toMatch(/whip publication failed: not retrying/);
    // Longer than the first backoff delays (1 s, 2 s): a retrying publisher would have POSTed again.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(rig.postsTo('cam1')).toBe(1);
    expect((await publication())?.attempts).toBe(1);
    expect(app.output.join('')).not.toContain('wrong-token');
    expect(await stopSender()).toBe(0);
  });

  it('publishes H.264 when the sender encodes H.264: Janus receives it', async () => {
    await rig?.stop();
    rig = await startJanus(['cam1']);
    app = startSender(rig.urls.get('cam1') ?? '', { CODEC: 'h264', ENCODER: 'software' });
    await waitFor(
      async () => (await publication())?.state === 'connected',
      30_000,
      'the publication to connect',
    );
    expect((await publication())?.codec).toBe('h264');
    const checked = await rig.check('cam1');
    expect(checked.output).toMatch(/publisher cam1: video H264, \d+ packets/);
    expect(checked.ok).toBe(true);
    // The answer's profile-level-id is logged; Janus echoes the encoder's.
    expect(app.output.join('')).toMatch(
      /"profileLevelId":"42[0-9a-f]{4}".*"msg":"the server accepted H.264"/,
    );
    expect(await stopSender()).toBe(0);
  });
});
