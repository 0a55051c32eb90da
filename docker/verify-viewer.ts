// Used by docker/verify.sh: a werift viewer (the tests' WeriftViewer) asks the first sender online
// at SIGNALING_URL for its test pattern, decodes what arrives and reads the timecode strip. Exits 0
// once MIN_FRAMES decoded frames carried a readable timecode, 1 otherwise.
// Run with plain Node (type stripping): node docker/verify-viewer.ts SIGNALING_URL [MIN_FRAMES] [TIMEOUT_MS]
import { WeriftViewer } from '../libs/sender-core/test/support/werift-viewer.ts';

const [url = 'ws://127.0.0.1:8765', minFramesArg = '20', timeoutArg = '30000'] = process.argv.slice(2);
const minFrames = Number(minFramesArg);
const deadline = performance.now() + Number(timeoutArg);

const fail = (message: string): never => {
  process.stderr.write(`viewer: FAIL: ${message}\n`);
  process.exit(1);
};
setTimeout(() => fail(`timed out after ${timeoutArg} ms`), Number(timeoutArg)).unref();

const viewer = await WeriftViewer.connect(url);
const senderId = await viewer.senderId(Math.max(1000, deadline - performance.now()));
await viewer.watch(senderId, ['testpattern'], 'vp8');
const track = viewer.tracks[0] ?? fail('no track');
const withTimecode = () => track.frames.filter((frame) => frame.timecode !== undefined);
while (withTimecode().length < minFrames && performance.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const good = withTimecode();
const first = track.frames[0];
// Same machine, same clock: capture time (in the strip) to decode time is the end-to-end latency.
const latencies = good
  .map((frame) => frame.receivedAt - (frame.timecode?.timestampMs ?? 0))
  .sort((a, b) => a - b);
const summary = {
  sender: senderId,
  packets: track.packets,
  decodedFrames: track.frames.length,
  framesWithTimecode: good.length,
  size: first === undefined ? undefined : `${first.width}x${first.height}`,
  medianLatencyMs: latencies[Math.floor(latencies.length / 2)],
};
process.stdout.write(`viewer: ${JSON.stringify(summary)}\n`);
await Promise.race([viewer.close(), new Promise((resolve) => setTimeout(resolve, 2000))]);
if (good.length < minFrames) fail(`only ${good.length} of ${minFrames} frames with a readable timecode`);
process.exit(0);
