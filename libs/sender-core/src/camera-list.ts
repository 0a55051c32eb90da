import { createHash } from 'node:crypto';
import { cameraIdSchema } from '@robocam/protocol';
import { ConfigurationError } from './errors.js';
import type { TestPatternKind } from '@robocam/testpattern';
import type { CameraSpec } from './sender.js';

const MODE = /^(\d+)x(\d+)(?:@(\d+(?:\.\d+)?))?$/;
/** What a mode attempt is made of; a by-path name's own colon-separated parts have letters or `-`. */
const MODE_LIKE = /^[\dx@.]+$/i;
const ID_MAX = 32;
const ACCEPTED =
  'accepted: [ID=]SOURCE[:WIDTHxHEIGHT[@FPS]] with SOURCE testpattern (colour bars), busy (camera-like ' +
  'test pattern) or /dev/PATH, e.g. front=/dev/v4l/by-id/usb-Foo_Camera_123-video-index0:1280x720@30';
/** CAMERAS sources that are built-in test patterns, and which pattern each draws. */
const TEST_PATTERN_SOURCES: Readonly<Record<string, TestPatternKind>> = { testpattern: 'bars', busy: 'busy' };

/**
 * Parses a camera list as apps take it from the environment, e.g.
 * `/dev/video0:1280x720@30,rear=/dev/v4l/by-path/pci-0000:00:14.0-usb-0:1:1.0-video-index0,testpattern`.
 * Each entry is `[ID=]SOURCE[:WIDTHxHEIGHT[@FPS]]` where SOURCE is `testpattern` (colour bars),
 * `busy` (the camera-like test pattern: `{ type: 'testpattern', pattern: 'busy' }`) or a V4L2 device
 * path. Device paths may hold colons themselves (`/dev/v4l/by-path/…`): only a trailing
 * `:WIDTHxHEIGHT[@FPS]` is read as the mode. Without `ID=` the camera's id is derived later by
 * {@link nameCameras}, as for specs given in code. Throws a {@link ConfigurationError} naming the
 * bad entry and the accepted forms.
 */
export function parseCameraList(list: string): CameraSpec[] {
  const entries = list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) throw new ConfigurationError('camera list is empty');
  const specs = entries.map(parseEntry);
  const ids = new Set<string>();
  const devices = new Set<string>();
  for (const spec of specs) {
    if (spec.id !== undefined) {
      if (ids.has(spec.id)) throw new ConfigurationError(`camera id "${spec.id}" is used twice`);
      ids.add(spec.id);
    }
    if (spec.type === 'v4l2') {
      if (devices.has(spec.device))
        throw new ConfigurationError(`camera "${spec.device}" is listed twice (one reader per device)`);
      devices.add(spec.device);
    }
  }
  return specs;
}

function parseEntry(entry: string): CameraSpec {
  const equals = /^([^=/:]*)=(.*)$/.exec(entry);
  const id = equals?.[1]?.trim();
  const rest = (equals?.[2] ?? entry).trim();
  if (id !== undefined && !cameraIdSchema.safeParse(id).success) {
    throw new ConfigurationError(
      `camera "${entry}": camera id "${id}" must be 1–${ID_MAX} lowercase letters, digits, _ and -, starting with a letter or digit`,
    );
  }
  const withId = id === undefined ? {} : { id };
  const colon = rest.indexOf(':');
  const source = colon === -1 ? rest : rest.slice(0, colon);
  const pattern = Object.hasOwn(TEST_PATTERN_SOURCES, source) ? TEST_PATTERN_SOURCES[source] : undefined;
  if (pattern !== undefined) {
    return {
      type: 'testpattern',
      ...withId,
      ...(pattern === 'bars' ? {} : { pattern }),
      ...(colon === -1 ? {} : parseMode(entry, rest.slice(colon + 1))),
    };
  }
  if (rest.startsWith('/dev/') && !/\s/.test(rest)) {
    const colon = rest.lastIndexOf(':');
    const tail = colon === -1 ? '' : rest.slice(colon + 1);
    if (colon !== -1 && MODE_LIKE.test(tail)) {
      return { type: 'v4l2', ...withId, device: rest.slice(0, colon), ...parseMode(entry, tail) };
    }
    return { type: 'v4l2', ...withId, device: rest };
  }
  throw new ConfigurationError(`camera "${entry}": unknown camera "${rest}"; ${ACCEPTED}`);
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

/** A camera spec with its id and label settled by {@link nameCameras}. */
export type NamedCameraSpec = CameraSpec & { id: string; label: string };

/**
 * `specs` with each camera's id and label filled in: the one naming used whether the cameras come
 * from a camera list ({@link parseCameraList}) or from code.
 *
 * Explicit ids and labels are kept. Otherwise: `testpattern` / "Test pattern" (the busy pattern:
 * `busy` / "Busy test pattern"); a V4L2 device's id
 * is its name (`/dev/video0` → `video0`; a stable link `/dev/v4l/by-id/usb-Foo_Camera_123-video-index0`
 * → `foo_camera_123`; `/dev/v4l/by-path/pci-0000:00:14.0-usb-0:1:1.0-video-index0` →
 * `pci-0000-00-14-0-usb-0-1-1-0`), cut to 32 characters with a hash of the path when longer, and
 * its label the device path. A derived id already taken gets `-2`, `-3`, …, and a test pattern's
 * label the same number ("Test pattern 2", "Busy test pattern 2").
 */
export function nameCameras(specs: readonly CameraSpec[]): NamedCameraSpec[] {
  const taken = new Set(specs.flatMap((spec) => (spec.id === undefined ? [] : [spec.id])));
  return specs.map((spec) => {
    if (spec.id !== undefined) return { ...spec, id: spec.id, label: spec.label ?? defaultLabel(spec, 1) };
    const base =
      spec.type === 'v4l2'
        ? deviceCameraId(spec.device)
        : spec.type === 'testpattern' && spec.pattern === 'busy'
          ? 'busy'
          : 'testpattern';
    let id = base;
    let n = 1;
    while (taken.has(id)) {
      n += 1;
      id = `${base.slice(0, ID_MAX - String(n).length - 1).replace(/[-_]+$/, '')}-${String(n)}`;
    }
    taken.add(id);
    return { ...spec, id, label: spec.label ?? defaultLabel(spec, n) };
  });
}

function defaultLabel(spec: CameraSpec, n: number): string {
  if (spec.type === 'testpattern') {
    const name = spec.pattern === 'busy' ? 'Busy test pattern' : 'Test pattern';
    return n === 1 ? name : `${name} ${String(n)}`;
  }
  if (spec.type === 'v4l2') return spec.device;
  return spec.id;
}

/** A valid camera id (lowercase, `[a-z0-9_-]`, ≤ 32 characters) naming a V4L2 device path. */
function deviceCameraId(device: string): string {
  const path = device.replace(/^\/dev\//, '');
  const name = path.split('/').at(-1) ?? path;
  const picked = path.startsWith('v4l/by-id/')
    ? name.replace(/^usb-/, '')
    : path.startsWith('v4l/by-path/')
      ? name
      : path;
  const slug = picked
    .replace(/-video-index0$/, '')
    .replace(/-video-index(\d+)$/, '-$1')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  if (slug.length === 0) return 'camera';
  if (slug.length <= ID_MAX) return slug;
  // Long names (vendor, model and serial; deep by-path chains): keep the start readable and the
  // id distinct per device with a hash of the whole path.
  const hash = createHash('sha256').update(device).digest('hex').slice(0, 8);
  return `${slug.slice(0, ID_MAX - hash.length - 1).replace(/[-_]+$/, '')}-${hash}`;
}
