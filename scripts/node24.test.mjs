// The README's two commands on a machine whose Node is older than 24: `npm start` goes through
// scripts/node24.sh and `npm test` through scripts/test.sh, both of which source
// scripts/use-node24.sh; the Debian packages come from scripts/install-system-deps.sh.
// Run: node --test scripts/node24.test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const systemNode = '/usr/bin/node';
const systemMajor = Number(
  /^v(\d+)\./.exec(spawnSync(systemNode, ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? NaN,
);

function run(command, args, env, options = {}) {
  return spawnSync(command, args, { cwd: root, encoding: 'utf8', env, timeout: 300_000, ...options });
}

test(
  'with only an older Node on PATH, the launcher runs the command on Node 24',
  { skip: !(systemMajor < 24) && `${systemNode} is not older than 24 here` },
  () => {
    // Only the system's directories: `node` is the distribution's (20 on these machines). Node 24
    // comes from ~/.cache/robocam-tools (fetched from the npm registry the first time: .ci/run has
    // done it before the tests run).
    const env = { HOME: process.env.HOME, PATH: '/usr/bin:/bin' };
    assert.match(run('node', ['--version'], env).stdout, new RegExp(`^v${systemMajor}\\.`));
    const result = run(
      'sh',
      [
        'scripts/node24.sh',
        'node',
        '-e',
        'console.log(JSON.stringify([process.version, ...process.argv.slice(1)]))',
        'one arg',
        '--two',
      ],
      env,
    );
    assert.equal(result.status, 0, result.stderr);
    const [version, ...args] = JSON.parse(result.stdout);
    assert.match(version, /^v24\./);
    assert.deepEqual(args, ['one arg', '--two']);
    // Its children (npx, nx, the apps) find the same Node first on PATH.
    const child = run('sh', ['scripts/node24.sh', 'sh', '-c', 'node --version'], env);
    assert.match(child.stdout, /^v24\./);
  },
);

test('a Node >= 24 already on PATH is used as it is, nothing fetched', () => {
  const env = {
    HOME: process.env.HOME,
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    // A cache that cannot be created: any attempt to install would fail the command.
    ROBOCAM_TOOLS: '/dev/null/robocam-tools',
  };
  const result = run('sh', ['scripts/node24.sh', 'node', '-p', 'process.execPath'], env);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), process.execPath);
  assert.equal(result.stderr, '');
});

const isRoot = process.getuid?.() === 0;
const hasDpkg = run('sh', ['-c', 'command -v dpkg-query'], process.env).status === 0;
test(
  'missing Debian packages: not root, it prints the one apt-get line and stops',
  { skip: !hasDpkg && 'not a Debian system' },
  () => {
    // As root (CI) it would install them: drop to an unprivileged user to see the other branch.
    const [command, args] = isRoot
      ? [
          'setpriv',
          ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', 'scripts/install-system-deps.sh'],
        ]
      : ['bash', ['scripts/install-system-deps.sh']];
    const result = run(command, [...args, 'bash', 'robocam-no-such-package'], { PATH: '/usr/bin:/bin' });
    assert.equal(result.status, 1, result.stderr);
    assert.match(
      result.stderr,
      /^ {2}sudo apt-get install -y --no-install-recommends robocam-no-such-package$/m,
    );
    assert.equal(result.stdout, '');
  },
);
