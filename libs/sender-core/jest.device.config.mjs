// Device tests: run inside the v4l2vm guest against the kernel's vivid driver (nx run sender-core:test-device).
import { createJestConfig } from '../../jest.preset.mjs';

export default createJestConfig(import.meta.url, {
  displayName: 'sender-core:device',
  testMatch: ['<rootDir>/test/device/**/*.device.ts'],
  testTimeout: 300_000, // under TCG (software emulation) a test can take minutes
  maxWorkers: 1,
});
