import type { TileSnapshot } from './tile.js';

/**
 * `window.robocam`: a read-only view of the page's state for end-to-end tests and curious people
 * (`robocam.tiles` in the devtools console). It controls nothing.
 */
export interface RobocamHook {
  /** Version of this object's shape. */
  readonly version: 1;
  /** The signaling URL the page uses. */
  readonly signalingUrl: string | null;
  /** Signaling connection state: idle, connecting, open, reconnecting, closed. */
  readonly signaling: string;
  /** A fatal page error (e.g. signaling refused), or null. */
  readonly error: string | null;
  /** One entry per camera tile, in page order; fresh copies on every read. */
  readonly tiles: TileSnapshot[];
}

declare global {
  interface Window {
    robocam?: RobocamHook;
  }
}

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
