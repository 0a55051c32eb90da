// WHIP tests against Janus (../shared/janus-whip): nx run sender:test-whip, inside
// ../shared/netns/run-isolated.sh after ../shared/janus-whip/setup.sh (scripts/test.sh does both).
import { createJestConfig } from '../../jest.preset.mjs';

export default createJestConfig(import.meta.url, {
  displayName: 'sender:whip',
  testMatch: ['<rootDir>/test/whip/**/*.whip.ts'],
  // Janus starts in seconds; a restart and a reconnect with backoff take tens of seconds on a
  // loaded machine. A generous wait, not a speed bound.
  testTimeout: 180_000,
  maxWorkers: 1,
});
