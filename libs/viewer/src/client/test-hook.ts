import type { RobocamHook, TileSnapshot } from '../page-hook.js';

declare global {
  interface Window {
    robocam?: RobocamHook;
  }
}

/** Installs `window.robocam` (see {@link RobocamHook}), reading `source` on every access. */
export function installTestHook(source: {
  signalingUrl: string | null;
  snapshot: () => { signaling: string; error: string | null; tiles: TileSnapshot[] };
}): void {
  const hook: RobocamHook = {
    version: 1,
    signalingUrl: source.signalingUrl,
    get signaling() {
      return source.snapshot().signaling;
    },
    get error() {
      return source.snapshot().error;
    },
    get tiles() {
      return source.snapshot().tiles;
    },
  };
  Object.defineProperty(window, 'robocam', {
    value: Object.freeze(hook),
    configurable: false,
    writable: false,
  });
}
