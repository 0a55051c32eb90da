// `npm ci ARGS…` for the image builds, with one narrow exception.
//
// npm ci refuses a package-lock.json that lacks entries for optional platform packages (e.g.
// @swc/core-darwin-arm64), which happens when the lock was written against a registry that did not
// serve them. Those packages are never installed on Linux anyway, so in exactly that case (every
// "Missing:" entry is an optional dependency declared by a locked package, and nothing else is wrong)
// this falls back to `npm install --no-save ARGS…`, which installs the versions package-lock.json
// pins and leaves it untouched. Any other npm ci failure fails the build.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const common = ['--no-audit', '--no-fund'];
const ci = spawnSync('npm', ['ci', ...common, ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
const stderr = ci.stderr?.toString() ?? '';
const failed = () => {
  process.stderr.write(stderr);
  process.exit(ci.status ?? 1);
};
if (ci.status === 0) {
  process.stderr.write(stderr);
  process.exit(0);
}

const outOfSync = stderr.includes('can only install packages when your package.json and package-lock.json');
const missing = [...stderr.matchAll(/Missing: (\S+?)@\S* from lock file/g)].map((match) => match[1]);
const otherProblems = /^npm error (Invalid|Unexpected):/m.test(stderr);
if (!outOfSync || missing.length === 0 || otherProblems) failed();

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const optional = new Set(
  Object.values(lock.packages ?? {}).flatMap((entry) => Object.keys(entry.optionalDependencies ?? {})),
);
const notOptional = missing.filter((name) => !optional.has(name));
if (notOptional.length > 0) failed();
process.stderr.write(
  `npm-ci: WARNING: package-lock.json lacks ${missing.length} optional platform package(s) ` +
    `(${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}); npm ci refuses it, so ` +
    'installing the locked versions with `npm install --no-save` instead. Regenerate the lock ' +
    'against the full npm registry to fix this.\n',
);
const install = spawnSync('npm', ['install', '--no-save', ...common, ...args], { stdio: 'inherit' });
process.exit(install.status ?? 1);
