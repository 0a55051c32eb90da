// One jest setup for every project: ESM mode (werift, node-av and our own packages are ESM) with
// @swc/jest compiling TypeScript, and the "@robocam/source" export condition so that tests of one
// package import sibling packages from their sources instead of a possibly stale dist/.
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** @param {string} configUrl import.meta.url of the project's jest.config.mjs */
export function createJestConfig(configUrl, overrides = {}) {
  const rootDir = dirname(fileURLToPath(configUrl));
  return {
    displayName: basename(rootDir),
    rootDir,
    testEnvironment: 'node',
    testEnvironmentOptions: { customExportConditions: ['@robocam/source', 'node', 'node-addons'] },
    extensionsToTreatAsEsm: ['.ts'],
    moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
    testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/src/**/*.spec.ts'],
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
          module: { type: 'es6' },
          sourceMaps: 'inline',
        },
      ],
    },
    // Sources import siblings as './x.js' (nodenext); jest resolves the .ts file.
    moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
    coverageDirectory: `../../coverage/${basename(dirname(rootDir))}/${basename(rootDir)}`,
    testTimeout: 30_000,
    ...overrides,
  };
}
