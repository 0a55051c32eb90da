// Proves @robocam/sender works as a real npm package outside the workspace: packs it and the
// libraries it depends on, installs the tarballs into a scratch project in the temp folder, and
// uses the public API from there (a test pattern encoded to VP8).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'robocam-scratch-'));
try {
  const tarballs = ['libs/protocol', 'libs/testpattern', 'libs/capture-v4l2', 'libs/sender-core'].map(
    (dir) => {
      const [report] = JSON.parse(
        execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], {
          cwd: join(root, dir),
          encoding: 'utf8',
        }),
      );
      return join(scratch, report.filename);
    },
  );
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs], {
    cwd: scratch,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, SKIP_FFMPEG: 'true' },
  });
  writeFileSync(
    join(scratch, 'use.mjs'),
    `import { Sender, TestPatternSource, VideoEncoder, parseCameraList } from '@robocam/sender';
const source = new TestPatternSource({ width: 320, height: 240, fps: 30 });
const encoder = await VideoEncoder.create({ codec: 'vp8', width: 320, height: 240, fps: 30 });
const frame = await new Promise((resolve) => { source.once('frame', resolve); void source.start(); });
await source.stop();
const [encoded] = await encoder.encode(frame);
await encoder.close();
if (!encoded?.keyframe || encoded.data.length < 100) throw new Error('no keyframe from the packed package');
const sender = new Sender({ cameras: parseCameraList('testpattern:320x240@15'), signalingUrl: 'ws://127.0.0.1:9' });
if (!sender.cameras.has('testpattern')) throw new Error('camera missing');
await sender.close();
console.log('scratch project: @robocam/sender imported, encoded a ' + encoded.data.length + '-byte VP8 keyframe');
`,
  );
  execFileSync('node', ['use.mjs'], { cwd: scratch, stdio: 'inherit' });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
