import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { WeriftViewer } from '../../../libs/sender-core/test/support/werift-viewer.js';
import { startApp, waitFor, waitForHttp, type AppProcess } from './support/processes.js';

// The fast version of bench/soak.mjs (1,000 cycles, `npx nx run sender:soak`): viewers come and
// go against the sender app run as users run it, and nothing may be left behind. Memory is only
// reported here: 60 cycles are still the warm-up (see bench/README.md, "Soak").

const signalPort = 20_000 + Math.floor(Math.random() * 10_000);
const healthPort = signalPort + 1;
const signalingUrl = `ws://127.0.0.1:${signalPort}`;
const CYCLES = 60;
const CONCURRENCY = 2;

let signal: AppProcess;
let sender: AppProcess;

interface SenderStatsBody {
  sessions: unknown[];
  cameras: { id: string; running: boolean; encoderStarts: number }[];
}
const stats = async (): Promise<SenderStatsBody> =>
  (await (await fetch(`http://127.0.0.1:${healthPort}/stats`)).json()) as SenderStatsBody;

function processReading(pid: number): { rssMiB: number; sockets: number; commandLine: string[] } {
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets += 1;
    } catch {
      // closed meanwhile
    }
  }
  const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  return { rssMiB: rssKb / 1024, sockets, commandLine };
}

beforeAll(async () => {
  signal = startApp('signal', { PORT: String(signalPort), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
  sender = startApp('sender', {
    SIGNALING_URL: signalingUrl,
    HEALTH_PORT: String(healthPort),
    CAMERAS: 'testpattern:320x240@30',
    LOG_LEVEL: 'warn',
  });
  await waitForHttp(`http://127.0.0.1:${healthPort}/healthz`, 15_000);
}, 20_000);

afterAll(async () => {
  for (const app of [sender, signal]) {
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  }
});

describe('soak (fast)', () => {
  it('runs the sender with its V8 heap flags, restarted in place under the same PID', () => {
    const { commandLine } = processReading(sender.child.pid!);
    expect(commandLine).toEqual(expect.arrayContaining(['--max-semi-space-size=16', '--optimize-for-size']));
    expect(commandLine.at(-1)).toMatch(/apps\/sender\/dist\/main\.js$/);
  });

  it(`leaves no session, socket or running encoder after ${CYCLES} viewer cycles`, async () => {
    const pid = sender.child.pid!;
    const before = processReading(pid);
    const startsBefore = (await stats()).cameras[0]!.encoderStarts;
    let next = 0;
    const failures: string[] = [];
    const worker = async (): Promise<void> => {
      while (next < CYCLES) {
        const cycle = ++next;
        const viewer = await WeriftViewer.connect(signalingUrl);
        try {
          await viewer.watch(await viewer.senderId(10_000), ['testpattern'], 'vp8');
          const track = viewer.tracks[0]!;
          const deadline = performance.now() + 5000;
          while (track.frames.length === 0 && performance.now() < deadline)
            await new Promise((resolve) => setTimeout(resolve, 10));
          if (track.frames.length === 0) failures.push(`cycle ${cycle}: no frame`);
        } catch (error) {
          failures.push(`cycle ${cycle}: ${error instanceof Error ? error.message : String(error)}`);
        } finally {
          await viewer.close();
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(failures).toEqual([]);

    await waitFor(async () => (await stats()).sessions.length === 0, 5000, 'sessions to end');
    await waitFor(async () => !(await stats()).cameras[0]!.running, 5000, 'the encoder to stop');
    const final = await stats();
    // The encoder runs only while someone watches: it started at least once, and never more often
    // than there were viewers.
    const starts = final.cameras[0]!.encoderStarts - startsBefore;
    expect(starts).toBeGreaterThanOrEqual(1);
    expect(starts).toBeLessThanOrEqual(CYCLES);
    await waitFor(
      () => processReading(pid).sockets <= before.sockets,
      5000,
      `sender sockets back to ${before.sockets}`,
    );
    const after = processReading(pid);
    process.stdout.write(
      `soak (fast): ${CYCLES} cycles, encoder started ${starts} times, sockets ${before.sockets} → ${after.sockets}, ` +
        `sender RSS ${before.rssMiB.toFixed(0)} → ${after.rssMiB.toFixed(0)} MiB (reported only: warm-up)\n`,
    );
  }, 120_000);
});
