// Tests of scripts/check-built.mjs, the libraries' `prepack` guard (node --test scripts/).
// Each library is copied without its dist/ into a temporary tree shaped like the repository, so
// `npm pack --dry-run` runs the real prepack line of the real package.json.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const libraries = readdirSync(join(root, 'libs')).filter((name) =>
  existsSync(join(root, 'libs', name, 'package.json')),
);
const tree = mkdtempSync(join(tmpdir(), 'robocam-prepack-'));
cpSync(join(root, 'scripts', 'check-built.mjs'), join(tree, 'scripts', 'check-built.mjs'));
after(() => rmSync(tree, { recursive: true, force: true }));

/** A copy of libs/<name> without dist/ (and without node_modules). */
function copyLibrary(name) {
  const to = join(tree, 'libs', name);
  cpSync(join(root, 'libs', name), to, {
    recursive: true,
    filter: (from) => !/[/\\](dist|node_modules)$/.test(from),
  });
  return to;
}

function pack(dir) {
  return spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts=false'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
}

/** Writes every dist file the manifest points at, `ageSec` seconds in the future of src. */
function fakeBuild(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const targets = new Set([manifest.main, manifest.types]);
  const walk = (value) => {
    if (typeof value === 'string') targets.add(value);
    else if (value !== null && typeof value === 'object')
      for (const [key, inner] of Object.entries(value)) if (!key.startsWith('@robocam/')) walk(inner);
  };
  walk(manifest.exports);
  const later = new Date(Date.now() + 60_000);
  for (const target of targets) {
    if (typeof target !== 'string' || !target.startsWith('./dist/')) continue;
    const path = join(dir, target);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '// built\n');
    utimesSync(path, later, later);
  }
}

describe('prepack guard (scripts/check-built.mjs)', () => {
  it('is the prepack script of every library', () => {
    assert.ok(libraries.length > 0);
    for (const name of libraries) {
      const manifest = JSON.parse(readFileSync(join(root, 'libs', name, 'package.json'), 'utf8'));
      assert.equal(
        manifest.scripts?.prepack,
        'node ../../scripts/check-built.mjs',
        `libs/${name}/package.json needs "scripts": { "prepack": "node ../../scripts/check-built.mjs" }`,
      );
    }
  });

  for (const name of libraries) {
    it(`fails npm pack of libs/${name} before a build, naming the fix`, () => {
      const result = pack(copyLibrary(name));
      assert.notEqual(result.status, 0, `npm pack succeeded without dist/: ${result.stdout}`);
      assert.match(result.stderr, /not built, .*dist\/index\.js.* missing: run npx nx run .*:build/);
    });
  }

  it('passes once built, and fails again when a source file is newer than the build', () => {
    const dir = copyLibrary(libraries[0]);
    fakeBuild(dir);
    const built = pack(dir);
    assert.equal(built.status, 0, built.stderr);
    const sources = readdirSync(join(dir, 'src'));
    const edited = join(dir, 'src', sources[0]);
    const later = new Date(Date.now() + 120_000);
    utimesSync(edited, later, later);
    const stale = pack(dir);
    assert.notEqual(stale.status, 0);
    assert.match(stale.stderr, /dist\/ is older than src\//);
  });
});
