import { ConfigurationError } from './errors.js';
import type { CameraSpec } from './sender.js';

const MODE = /^(\d+)x(\d+)(?:@(\d+(?:\.\d+)?))?$/;

/**
 * Parses a camera list as apps take it from the environment, e.g.
 * `testpattern:1280x720@30,testpattern:640x480`. Each entry is `KIND[:WIDTHxHEIGHT[@FPS]]`.
 * Throws a {@link ConfigurationError} naming the bad entry and the accepted forms.
 */
export function parseCameraList(list: string): CameraSpec[] {
  const entries = list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) throw new ConfigurationError('camera list is empty');
  let testPatterns = 0;
  return entries.map((entry) => {
    const separator = entry.indexOf(':');
    const kind = separator === -1 ? entry : entry.slice(0, separator);
    const mode = separator === -1 ? undefined : entry.slice(separator + 1);
    const size = mode === undefined ? {} : parseMode(entry, mode);
    if (kind === 'testpattern') {
      const id = testPatterns === 0 ? 'testpattern' : `testpattern-${testPatterns}`;
      testPatterns += 1;
      return { type: 'testpattern', id, ...size };
    }
    throw new ConfigurationError(
      `camera "${entry}": unknown camera kind "${kind}"; accepted: testpattern[:WIDTHxHEIGHT[@FPS]]`,
    );
  });
}

function parseMode(entry: string, mode: string): { width: number; height: number; fps?: number } {
  const match = MODE.exec(mode);
  if (match === null) {
    throw new ConfigurationError(
      `camera "${entry}": mode "${mode}" is not WIDTHxHEIGHT[@FPS], e.g. 1280x720@30`,
    );
  }
  const [, width, height, fps] = match;
  return { width: Number(width), height: Number(height), ...(fps === undefined ? {} : { fps: Number(fps) }) };
}
