// Device tests: run inside the v4l2vm guest against the kernel's vivid driver (nx run capture-v4l2:test-device).
import { createJestConfig } from '../../jest.preset.mjs';

export default createJestConfig(import.meta.url, {
  displayName: 'capture-v4l2:device',
  testMatch: ['<rootDir>/test/device/**/*.device.ts'],
  testTimeout: 60_000,
  maxWorkers: 1,
});
