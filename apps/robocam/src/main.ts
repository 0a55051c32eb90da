import { relaunchWithNodeFlags } from '@robocam/service';

// The sender's V8 heap settings (apps/sender/src/main.ts says why, with the figures): the sender is
// the part of this process that allocates per packet and per viewer.
relaunchWithNodeFlags(['--max-semi-space-size=16', '--optimize-for-size']);

// Each V4L2 camera holds one libuv worker thread in a blocking read; libuv's pool (default 4)
// must be sized before first use, so before the modules that use it are loaded.
const cameraCount = (process.env['CAMERAS'] ?? '')
  .split(',')
  .filter((entry) => entry.includes('/dev/')).length; // `/dev/…` or `ID=/dev/…`
process.env['UV_THREADPOOL_SIZE'] ??= String(4 + cameraCount);
await import('./run.js');
