import { relaunchWithNodeFlags } from '@robocam/service';

// V8 heap settings, fixed at process start, so applied by restarting in place when the command line
// lacks them (a user's own value for either flag wins; `--no-optimize-for-size` switches it off).
// werift allocates heavily per packet and per peer connection, and with V8's defaults on a large
// machine the young generation grew to 128 MiB and the old generation was collected late, so
// viewers coming and going raised the sender's memory by ~90 % over 1,000 sessions. With these it
// rises once by ~16 % (V8 warming up; −5 % on jemalloc, as in the Docker image) and then stays
// flat, for ~0.02–0.04 more cores at 16 viewers (bench/README.md, "Soak").
// `nx serve sender` runs `node --watch`, which this restart would cut off from its child (see
// relaunchWithNodeFlags), so its command line in package.json repeats both flags.
relaunchWithNodeFlags(['--max-semi-space-size=16', '--optimize-for-size']);

// Each V4L2 camera holds one libuv worker thread in a blocking read; libuv's pool (default 4)
// must be sized before first use, so before the modules that use it are loaded.
const cameraCount = (process.env['CAMERAS'] ?? '')
  .split(',')
  .filter((entry) => entry.includes('/dev/')).length; // `/dev/…` or `ID=/dev/…`
process.env['UV_THREADPOOL_SIZE'] ??= String(4 + cameraCount);
await import('./run.js');
