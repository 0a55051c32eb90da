// End-to-end tests: real signal, sender and web processes and a real Chromium, run one file at a
// time (they start processes on fixed ports and share two CPU cores). Run inside
// ../shared/netns/run-isolated.sh: `npx nx run web:e2e`.
import { createJestConfig } from '../../jest.preset.mjs';

export default createJestConfig(import.meta.url, {
  displayName: 'web-e2e',
  testMatch: ['<rootDir>/e2e/**/*.e2e.ts'],
  maxWorkers: 1,
  testTimeout: 60_000,
  slowTestThreshold: 30,
});
