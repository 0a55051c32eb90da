// Builds the viewer page into dist/public: the TypeScript client and its CSS bundled by esbuild
// under content-hashed names (served as immutable), index.html naming them (served as no-cache),
// and gzip + brotli variants of every text file (koa-static serves them to browsers that accept
// them, so nothing is compressed per request).
//
//   node scripts/bundle.mjs           one build (what `nx build viewer` runs after tsc)
//   node scripts/bundle.mjs --watch   rebuild on change (`nx serve web` runs it)
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import * as esbuild from 'esbuild';

const projectDir = dirname(dirname(fileURLToPath(import.meta.url)));
const clientDir = join(projectDir, 'src/client');
const publicDir = join(projectDir, 'dist/public');
const assetsDir = join(publicDir, 'assets');
const watch = process.argv.includes('--watch');

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** @type {import('esbuild').BuildOptions} */
const options = {
  entryPoints: { viewer: join(clientDir, 'main.ts'), style: join(clientDir, 'styles.css') },
  outdir: assetsDir,
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // requestVideoFrameCallback, top-level await, RTCRtpReceiver.getStats: evergreen browsers.
  target: ['chrome110', 'edge110', 'firefox115', 'safari16.4'],
  tsconfig: join(projectDir, 'tsconfig.client.json'),
  minify: !watch,
  sourcemap: 'linked',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
};

/** Writes index.html naming the hashed files of `metafile`, copies static files, precompresses. */
async function finish(metafile) {
  const outputs = Object.entries(metafile.outputs);
  const find = (entry, extension) => {
    const found = outputs.find(
      ([file, output]) =>
        output.entryPoint !== undefined && file.endsWith(extension) && basename(file).startsWith(`${entry}-`),
    );
    if (found === undefined) throw new Error(`no ${extension} output for ${entry}`);
    return `/${relative(publicDir, join(process.cwd(), found[0])).split('\\').join('/')}`;
  };
  const template = await readFile(join(clientDir, 'index.html'), 'utf8');
  const html = template.replace('{{js}}', find('viewer', '.js')).replace('{{css}}', find('style', '.css'));
  await writeFile(join(publicDir, 'index.html'), html);
  await copyFile(join(clientDir, 'favicon.svg'), join(publicDir, 'favicon.svg'));

  const files = [
    join(publicDir, 'index.html'),
    join(publicDir, 'favicon.svg'),
    ...outputs.map(([file]) => join(process.cwd(), file)),
  ];
  const rows = [];
  for (const file of files) {
    if (!/\.(html|js|css|svg|map|txt)$/.test(file)) continue;
    const data = await readFile(file);
    if (data.length < 512) {
      rows.push([file, data.length, '', '']);
      continue;
    }
    const [br, gzData] = await Promise.all([
      brotli(data, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: watch ? 5 : 11,
          [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
        },
      }),
      gz(data, { level: 9 }),
    ]);
    await Promise.all([writeFile(`${file}.br`, br), writeFile(`${file}.gz`, gzData)]);
    rows.push([file, data.length, gzData.length, br.length]);
  }
  for (const [file, size, gzSize, brSize] of rows) {
    const kib = (n) => (n === '' ? '' : `${(n / 1024).toFixed(1)} KiB`);
    console.log(
      `  ${relative(projectDir, file).padEnd(44)} ${kib(size).padStart(10)}  gz ${kib(gzSize).padStart(9)}  br ${kib(brSize).padStart(9)}`,
    );
  }
}

await rm(publicDir, { recursive: true, force: true });
await mkdir(assetsDir, { recursive: true });

if (watch) {
  const context = await esbuild.context({
    ...options,
    plugins: [
      {
        name: 'robocam-finish',
        setup(build) {
          build.onEnd(async (result) => {
            if (result.errors.length > 0 || result.metafile === undefined) return;
            // Old hashed files are left behind in watch mode; a normal build starts clean.
            await finish(result.metafile);
            console.log(`viewer rebuilt ${new Date().toLocaleTimeString()}`);
          });
        },
      },
    ],
  });
  await context.watch();
  console.log('watching src/client for changes');
} else {
  const started = performance.now();
  const result = await esbuild.build(options);
  await finish(result.metafile);
  console.log(
    `viewer bundled into ${relative(projectDir, publicDir)} in ${Math.round(performance.now() - started)} ms`,
  );
}
