// Libraries never depend on apps. ESLint's @nx/enforce-module-boundaries refuses an import across
// that line; this checks what lint cannot see: every project carries its tag (`type:lib` under
// libs/, `type:app` under apps/) in its package.json `nx` block, and no library names an app in
// any of its package.json dependency lists (dev ones included: a library's tests must not need an
// app either).
import { readdirSync, readFileSync } from 'node:fs';

const kinds = { libs: 'type:lib', apps: 'type:app' };
const projects = [];
for (const [folder, tag] of Object.entries(kinds)) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = `${folder}/${entry.name}`;
    const manifest = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
    projects.push({ dir, tag, manifest });
  }
}
const apps = new Set(projects.filter((p) => p.tag === 'type:app').map((p) => p.manifest.name));

const problems = [];
for (const { dir, tag, manifest } of projects) {
  const tags = manifest.nx?.tags ?? [];
  if (!tags.includes(tag)) problems.push(`${dir}/package.json: nx.tags must include "${tag}"`);
  if (tag !== 'type:lib') continue;
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const name of Object.keys(manifest[field] ?? {})) {
      if (apps.has(name)) problems.push(`${dir}/package.json: ${field} names the app ${name}`);
    }
  }
}
for (const problem of problems) console.error(`FAIL ${problem}`);
if (problems.length > 0) {
  console.error('libraries (libs/*) may depend only on libraries; move what they need into a library');
  process.exit(1);
}
console.log(`ok   ${projects.length} projects tagged; no library depends on an app`);
