// A library's `prepack` guard: `npm pack` / `npm publish` in a library folder must not pack a
// package without its build. Without it, npm exits 0 with a package of package.json and README
// only, since `files` names `dist`, which is absent before a build.
//
// Run from a library's package.json: "scripts": { "prepack": "node ../../scripts/check-built.mjs" }
// (npm runs it in the package folder). Fails, naming the fix, when a file the manifest points at
// (`main`, `types`, every `exports` target but the workspace-only `@robocam/source` condition) is
// missing, or when a file under src/ is newer than everything under dist/ (built before the last
// edit). Generic: a new library needs only that one line.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.cwd();
const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const project = manifest.nx?.name ?? manifest.name;
const build = `npx nx run ${project}:build (or npx nx run-many -t build)`;

/** Every relative file path an exports map (nested conditions, subpaths) points at. */
function exportTargets(value) {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key.startsWith('@robocam/') ? [] : exportTargets(inner),
  );
}

const targets = [manifest.main, manifest.types, ...exportTargets(manifest.exports)]
  .filter((target) => typeof target === 'string' && target.startsWith('./dist/'))
  .map((target) => target.replace(/^\.\//, ''));
const missing = [...new Set(targets)].filter((target) => !existsSync(join(dir, target)));
if (missing.length > 0) {
  console.error(
    `${manifest.name}: not built, ${missing.join(', ')} missing: run ${build} before npm pack or publish`,
  );
  process.exit(1);
}

/** Newest modification time of the files under `folder` (0 when there are none). */
function newest(folder) {
  if (!existsSync(folder)) return { mtimeMs: 0, path: undefined };
  let found = { mtimeMs: 0, path: undefined };
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const { mtimeMs } = statSync(path);
    if (mtimeMs > found.mtimeMs) found = { mtimeMs, path };
  }
  return found;
}

const source = newest(join(dir, 'src'));
const built = newest(join(dir, 'dist'));
if (source.mtimeMs > built.mtimeMs) {
  console.error(
    `${manifest.name}: dist/ is older than ${source.path.slice(dir.length + 1)}: run ${build} before npm pack or publish`,
  );
  process.exit(1);
}
