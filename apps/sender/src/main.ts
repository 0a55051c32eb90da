// Each V4L2 camera holds one libuv worker thread in a blocking read; libuv's pool (default 4)
// must be sized before first use, so before the modules that use it are loaded.
const cameraCount = (process.env['CAMERAS'] ?? '')
  .split(',')
  .filter((entry) => entry.trim().startsWith('/dev/')).length;
process.env['UV_THREADPOOL_SIZE'] ??= String(4 + cameraCount);
await import('./run.js');
