// Proves @robocam/sender works as a real npm package outside the workspace: packs it and the
// libraries it depends on, installs the tarballs into a scratch project in the temp folder, and
// uses the public API from there (a test pattern frame, node-av's native binary loaded, a Sender
// built from a camera list), and checks that the internals stay internal.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'robocam-scratch-'));
try {
  const tarballs = [
    'libs/types',
    'libs/protocol',
    'libs/service',
    'libs/testpattern',
    'libs/capture-v4l2',
    'libs/sender-core',
  ].map((dir) => {
    const [report] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], {
        cwd: join(root, dir),
        encoding: 'utf8',
      }),
    );
    return join(scratch, report.filename);
  });
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
    `import * as sender from '@robocam/sender';
const { Sender, TestPatternSource, parseCameraList, setFfmpegLogLevel } = sender;
for (const internal of ['CameraPipeline', 'ViewerSession', 'VideoEncoder', 'KeyframeScheduler', 'RtpPacketizer']) {
  if (internal in sender) throw new Error(internal + ' is exported: it is internal');
}
setFfmpegLogLevel('error'); // loads node-av's native FFmpeg binary
const source = new TestPatternSource({ width: 320, height: 240, fps: 30 });
const frame = await new Promise((resolve) => { source.once('frame', resolve); void source.start(); });
await source.stop();
if (frame.data.length !== 320 * 240 * 1.5 || !(frame.monotonicMs > 0)) throw new Error('no test pattern frame');
const robot = new Sender({ cameras: parseCameraList('testpattern:320x240@15'), signalingUrl: 'ws://127.0.0.1:9' });
if (!robot.cameras.has('testpattern')) throw new Error('camera missing');
await robot.close();
console.log('scratch project: @robocam/sender imported, node-av loaded, a ' + frame.width + 'x' + frame.height + ' test pattern frame made');
`,
  );
  execFileSync('node', ['use.mjs'], { cwd: scratch, stdio: 'inherit' });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
