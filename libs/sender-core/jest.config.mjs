import { createJestConfig } from '../../jest.preset.mjs';

// WebRTC tests on a loaded 2-core machine: several viewers handshaking took over 30 s (the
// preset's default) while a V4L2 VM ran beside them. A generous wait, not a speed bound.
export default createJestConfig(import.meta.url, { testTimeout: 60_000 });
