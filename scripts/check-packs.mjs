// Checks what `npm pack` would publish for every library: compiled JS, declarations, README, and
// that every path named in the exports map exists in the tarball; for @robocam/viewer also the
// built page (index.html naming hashed, precompressed assets).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const libraries = [
  'libs/types',
  'libs/protocol',
  'libs/testpattern',
  'libs/capture-v4l2',
  'libs/sender-core',
  'libs/service',
  'libs/viewer',
  'libs/signaling',
];

/** What a library ships beyond its code, as checks on the packed file list. */
const extraChecks = {
  'libs/viewer': (files) => {
    const problems = [];
    for (const required of ['dist/public/index.html', 'dist/public/favicon.svg']) {
      if (!files.has(required)) problems.push(`missing ${required} (the built page)`);
    }
    for (const pattern of [
      /^dist\/public\/assets\/viewer-[A-Z0-9]+\.js$/,
      /^dist\/public\/assets\/viewer-[A-Z0-9]+\.js\.br$/,
      /^dist\/public\/assets\/style-[A-Z0-9]+\.css$/,
    ]) {
      if (![...files].some((file) => pattern.test(file))) problems.push(`no file matches ${pattern}`);
    }
    return problems;
  },
};
let failed = false;
for (const dir of libraries) {
  const manifest = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
  const [report] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: dir, encoding: 'utf8' }),
  );
  const files = new Set(report.files.map((file) => file.path));
  const problems = [];
  for (const required of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']) {
    if (!files.has(required)) problems.push(`missing ${required}`);
  }
  const exported = manifest.exports['.'];
  for (const [condition, target] of Object.entries(exported)) {
    if (condition.startsWith('@robocam/')) continue; // workspace-only source condition
    if (!files.has(target.replace(/^\.\//, '')))
      problems.push(`exports["."].${condition} → ${target} not packed`);
  }
  if (
    [...files].some(
      (file) => file.endsWith('.tsbuildinfo') || file.startsWith('src/') || file.startsWith('test/'),
    )
  ) {
    problems.push('packs build or source leftovers');
  }
  problems.push(...(extraChecks[dir]?.(files) ?? []));
  if (manifest.publishConfig?.access !== 'public') problems.push('publishConfig.access is not public');
  console.log(
    `${problems.length === 0 ? 'ok  ' : 'FAIL'} ${manifest.name}: ${report.files.length} files, ${report.size} bytes`,
  );
  for (const problem of problems) console.log(`     ${problem}`);
  failed ||= problems.length > 0;
}
process.exit(failed ? 1 : 0);
