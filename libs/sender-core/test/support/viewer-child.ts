import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export type ViewerChild = ChildProcessByStdio<null, Readable, null>;

/**
 * Starts `viewer-process.ts` (a werift viewer in its own process, so a test can SIGSTOP it) and
 * resolves once it decodes video. The caller kills it; on failure it is killed here.
 */
export async function startViewerProcess(signalingUrl: string, timeoutMs = 15_000): Promise<ViewerChild> {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./viewer-process.ts', import.meta.url)), signalingUrl],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`viewer process did not play within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`viewer process exited before playing (code ${code}, signal ${signal})`));
      });
      child.stdout.on('data', (data: Buffer) => {
        if (data.toString().includes('playing')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return child;
}
