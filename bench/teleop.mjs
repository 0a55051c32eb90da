// Teleop benchmark (issue #13): the real apps (signal, sender, web from their dist/) and the real
// viewer page in headless Chromium driving at 50 Hz (`?controlHz=50`, a key held) while the video
// plays, on a clean loopback and behind the congestion benchmark's narrow links (tbf in the
// isolated namespace, bench/lib/shaping.mjs). Measured:
// - command age at the robot: the `ageMs` of every command datagram the sender's UDP bridge
//   (CONTROL_UDP) sends to this script: arrival at the sender minus the page's send time, on the
//   sender's clock (the page stamps it with the offset it estimates over signaling);
// - round trip: the page's command → acknowledgement time (`control.commandRttMs` of the test
//   hook, sampled every 20 ms, one sample per new acknowledgement);
// - commands applied / dropped by the sender (GET /stats → control) and the video's shown fps.
//
//   npx nx run-many -t build -p signal sender web
//   node bench/teleop.mjs                               clean, 1 Mbit/s, 400 kbit/s; 20 s each
//   node bench/teleop.mjs --phases free:20,500kbit:20   other conditions
//   --pattern busy|default                              the camera (default busy: realistic video)
//   --hz 20                                             the page's command rate (default 50)
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  argument,
  isolate,
  launchChromium,
  percentile,
  requireBuilt,
  root,
  startApp,
  startStack,
  waitForHttp,
} from './lib/harness.mjs';
import { assertCanShape, clearShaping, parseRateKbps, shapeAll } from './lib/shaping.mjs';

const args = process.argv.slice(2);
isolate(import.meta.url, args);
requireBuilt();
if (!existsSync(resolve(root, 'apps/web/dist/main.js'))) {
  console.error('missing apps/web/dist/main.js: run npx nx run-many -t build -p signal sender web first');
  process.exit(1);
}
assertCanShape();

const phases = (argument(args, '--phases') ?? 'free:20,1mbit:20,400kbit:20').split(',').map((entry) => {
  const [rate, seconds] = entry.split(':');
  return {
    name: rate,
    rateKbps: rate === 'free' ? undefined : parseRateKbps(rate),
    seconds: Number(seconds),
  };
});
const pattern = argument(args, '--pattern') ?? 'busy';
const rateHz = Number(argument(args, '--hz') ?? 50);
const signalPort = 47_765;
const webPort = signalPort + 2;

const datagrams = [];
const robot = createSocket('udp4');
robot.on('message', (message) =>
  datagrams.push({ ...JSON.parse(message.toString()), at: performance.now() }),
);
await new Promise((done) => robot.bind(0, '127.0.0.1', done));

clearShaping();
const cameras = pattern === 'busy' ? 'busy:1280x720@30' : 'testpattern:1280x720@30';
const stack = await startStack({
  signalPort,
  cameras,
  senderEnv: { CONTROL_UDP: `127.0.0.1:${robot.address().port}` },
});
const web = startApp('web', {
  PORT: String(webPort),
  HOST: '127.0.0.1',
  PUBLIC_SIGNALING_URL: stack.signalingUrl,
});
const browser = await launchChromium();
const rows = [];
try {
  await waitForHttp(`http://127.0.0.1:${webPort}/healthz`);
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(`http://127.0.0.1:${webPort}/?controlHz=${rateHz}`);
  await waitForTile(
    page,
    (tile) => tile.status === 'live' && tile.framesPresented > 0 && tile.control.available,
  );
  await sleep(3000); // the page's clock offset estimate settles (pings every second)
  await page.getByRole('button', { name: /take control/i }).click();
  await waitForTile(page, (tile) => tile.control.you);
  await page.keyboard.down('ArrowUp');
  for (const phase of phases) {
    if (phase.rateKbps === undefined) clearShaping();
    else shapeAll(phase.rateKbps);
    rows.push(await measure(page, phase));
  }
  await page.keyboard.up('ArrowUp');
} finally {
  clearShaping();
  await browser.close();
  await web.stop();
  await stack.stop();
  robot.close();
}

('| link | commands sent (per s) | applied | dropped (late / other) | age at robot p50 / p95 / max | round trip p50 / p95 / max | video fps (new sessions) |',
  console.log(
    '| link | commands sent (per s) | applied | dropped (late / other) | age at robot p50 / p95 / max | round trip p50 / p95 / max | video fps (new sessions) |',
  ));
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) {
  console.log(
    `| ${row.name} | ${row.sent} (${row.ratePerS}) | ${row.applied} | ${row.late} / ${row.otherDrops} | ${row.age.join(' / ')} ms | ${row.rtt.join(' / ')} ms | ${row.fps} (${row.sessions}) |`,
  );
}

async function measure(page, phase) {
  const tileBefore = await readTile(page);
  const start = performance.now();
  const rtts = [];
  let lastAcked = tileBefore.control.commandsAcked;
  // The first 2 s of a phase: the queue of the new limit fills; measured from then on.
  await sleep(2000);
  const measuredFrom = performance.now();
  const first = await readTile(page);
  const sentFrom = first.control.commandsSent;
  // Frames shown, summed over sessions: a session replaced on the narrow link starts its count anew.
  let framesShown = 0;
  let lastFrames = first.framesPresented;
  const sessionsFrom = first.sessionsStarted;
  const beforeMeasured = (await stack.stats()).control;
  while (performance.now() - start < phase.seconds * 1000) {
    const tile = await readTile(page);
    framesShown +=
      tile.framesPresented >= lastFrames ? tile.framesPresented - lastFrames : tile.framesPresented;
    lastFrames = tile.framesPresented;
    if (tile.control.commandsAcked !== lastAcked && tile.control.commandRttMs !== null) {
      rtts.push(tile.control.commandRttMs);
      lastAcked = tile.control.commandsAcked;
    }
    await sleep(20);
  }
  const tileAfter = await readTile(page);
  const after = (await stack.stats()).control;
  const elapsedS = (performance.now() - measuredFrom) / 1000;
  const ages = datagrams
    .filter((d) => d.type === 'command' && d.at >= measuredFrom)
    .map((d) => d.ageMs)
    .sort((a, b) => a - b);
  const sortedRtts = rtts.sort((a, b) => a - b);
  const summary = (sorted) =>
    sorted.length === 0
      ? ['–', '–', '–']
      : [percentile(sorted, 0.5), percentile(sorted, 0.95), sorted.at(-1)].map((value) => Math.round(value));
  return {
    name: phase.name === 'free' ? 'loopback, unshaped' : `${phase.name}/s (tbf)`,
    sent: tileAfter.control.commandsSent - sentFrom,
    applied: after.commandsApplied - beforeMeasured.commandsApplied,
    late: after.commandsLate - beforeMeasured.commandsLate,
    otherDrops:
      after.commandsOutOfOrder -
      beforeMeasured.commandsOutOfOrder +
      (after.commandsRateLimited - beforeMeasured.commandsRateLimited) +
      (after.commandsWithoutLease - beforeMeasured.commandsWithoutLease),
    age: summary(ages),
    rtt: summary(sortedRtts),
    fps: Math.round((framesShown / elapsedS) * 10) / 10,
    sessions: tileAfter.sessionsStarted - sessionsFrom,
    ratePerS: Math.round(((tileAfter.control.commandsSent - sentFrom) / elapsedS) * 10) / 10,
  };
}

async function readTile(page) {
  return page.evaluate(() => window.robocam?.tiles[0]);
}

async function waitForTile(page, predicate, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tile = await readTile(page);
    if (tile !== undefined && predicate(tile)) return tile;
    if (Date.now() > deadline) throw new Error(`tile not ready: ${JSON.stringify(tile)}`);
    await sleep(100);
  }
}
