import { ConfigurationError } from './errors.js';
import type { CameraSpec } from './sender.js';

const MODE = /^(\d+)x(\d+)(?:@(\d+(?:\.\d+)?))?$/;

/**
 * Parses a camera list as apps take it from the environment, e.g.
 * `/dev/video0:1280x720@30,/dev/video2:640x480@15,testpattern`. Each entry is
 * `KIND[:WIDTHxHEIGHT[@FPS]]` where KIND is `testpattern` or a V4L2 device path.
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
    if (kind.startsWith('/dev/')) {
      return { type: 'v4l2', device: kind, ...size };
    }
    if (kind === 'testpattern') {
      const id = testPatterns === 0 ? 'testpattern' : `testpattern-${testPatterns}`;
      testPatterns += 1;
      return { type: 'testpattern', id, ...size };
    }
    throw new ConfigurationError(
      `camera "${entry}": unknown camera kind "${kind}"; accepted: testpattern[:WIDTHxHEIGHT[@FPS]] or /dev/videoN[:WIDTHxHEIGHT[@FPS]]`,
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
