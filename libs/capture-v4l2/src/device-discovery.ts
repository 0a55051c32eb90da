/**
 * Finds V4L2 capture devices and what they offer.
 *
 * Which nodes capture: node-av's `Device.list()` asks every `/dev/video*` for VIDIOC_QUERYCAP and
 * keeps those whose `device_caps` (the node's own capabilities, not the whole device's) include
 * VIDEO_CAPTURE — so UVC/vivid metadata nodes are left out. sysfs alone cannot tell. Formats come
 * from `v4l2-ctl --list-formats-ext` when v4l-utils is installed (exact FourCCs, every frame rate),
 * else from node-av's `Device.modes()` (VIDIOC_ENUM_FMT/FRAMESIZES/FRAMEINTERVALS, but MJPEG and
 * formats it does not map come back unnamed, and only a min–max rate per size).
 */
import { constants as fsConstants } from 'node:fs';
import { open, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { errorMessage, silentLogger, type Logger } from '@robocam/types';
import { nodeErrorCode, openError } from './error-mapping.js';
import { NotACaptureDeviceError } from './errors.js';
import { formatForNodeAvName } from './pixel-formats.js';
import type { DiscoveryMethod, V4l2Bus, V4l2DeviceInfo, V4l2FormatInfo, V4l2FrameSize } from './types.js';
import {
  isVideoCaptureNode,
  parseV4l2CtlFormats,
  parseV4l2CtlInfo,
  runV4l2Ctl,
  v4l2CtlAvailable,
} from './v4l2-ctl.js';

export interface DiscoverySettings {
  /**
   * Where formats come from: `v4l2-ctl` (needs v4l-utils; complete), `node-av` (no extra package;
   * MJPEG shows as `unknown`), or `auto` = v4l2-ctl when installed, else node-av. Default `auto`.
   */
  discovery?: DiscoveryMethod;
  /** Where skipped and inaccessible nodes are logged (at debug level). Default `silentLogger`. */
  logger?: Logger;
}

/**
 * The video capture devices present, each with its formats, sizes and frame rates, in node order.
 * Nodes the process may not open are skipped (they are logged to `logger`, at debug level).
 */
export async function listDevices({
  discovery = 'auto',
  logger = silentLogger,
}: DiscoverySettings = {}): Promise<V4l2DeviceInfo[]> {
  const method = await resolveMethod(discovery);
  const nodes = await captureNodes();
  await logInaccessibleNodes(
    nodes.map((node) => node.path),
    logger,
  );
  const devices: V4l2DeviceInfo[] = [];
  for (const node of nodes) {
    try {
      devices.push(await describe(node.path, node.path, method, node.card));
    } catch (error) {
      logger.debug({ device: node.path, err: errorMessage(error) }, 'skipping video node');
    }
  }
  return devices;
}

/**
 * What one device offers. `device` may be a symlink such as `/dev/v4l/by-id/…`; `path` in the
 * result is what was given. Throws {@link DeviceNotFoundError}, {@link PermissionDeniedError} or
 * {@link NotACaptureDeviceError}.
 */
export async function getDeviceInfo(
  device: string,
  { discovery = 'auto' }: DiscoverySettings = {},
): Promise<V4l2DeviceInfo> {
  const method = await resolveMethod(discovery);
  const real = await preflight(device);
  return describe(device, real, method, undefined);
}

async function resolveMethod(discovery: DiscoveryMethod): Promise<'node-av' | 'v4l2-ctl'> {
  if (discovery !== 'auto') return discovery;
  return (await v4l2CtlAvailable()) ? 'v4l2-ctl' : 'node-av';
}

interface CaptureNode {
  path: string;
  card: string;
}

/** Nodes whose device_caps include video capture (node-av's Device.list), in node order. */
async function captureNodes(): Promise<CaptureNode[]> {
  const { Device } = await import('node-av/lib');
  const devices = await Device.list();
  return devices
    .filter((device) => device.type === 'video' && device.name.startsWith('/dev/video'))
    .map((device) => ({ path: device.name, card: device.description }))
    .sort((a, b) => byNodeNumber(a.path, b.path));
}

async function captureNodePaths(): Promise<string[]> {
  return (await captureNodes()).map((node) => node.path);
}

function byNodeNumber(a: string, b: string): number {
  const number = (path: string): number => Number(/(\d+)$/.exec(path)?.[1] ?? Number.MAX_SAFE_INTEGER);
  return number(a) - number(b);
}

async function logInaccessibleNodes(capturePaths: readonly string[], logger: Logger): Promise<void> {
  // Probing opens every other video node: only worth it when someone reads the log.
  if (logger === silentLogger) return;
  for (const node of await videoNodeNames()) {
    const path = `/dev/${node}`;
    if (capturePaths.includes(path)) continue;
    try {
      const handle = await open(path, fsConstants.O_RDWR | fsConstants.O_NONBLOCK);
      await handle.close();
    } catch (error) {
      logger.debug(
        { device: path, errno: nodeErrorCode(error) ?? errorMessage(error) },
        'video node not listed: cannot open it',
      );
    }
  }
}

async function videoNodeNames(): Promise<string[]> {
  try {
    return (await readdir('/dev'))
      .filter((name) => /^video\d+$/.test(name))
      .sort((a, b) => byNodeNumber(a, b));
  } catch {
    return [];
  }
}

/** `/dev/videoN (name)` for every video4linux node in sysfs: cheap, opens nothing. */
export async function describeVideoNodes(): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir('/sys/class/video4linux')).filter((name) => name.startsWith('video'));
  } catch {
    return [];
  }
  names.sort((a, b) => byNodeNumber(a, b));
  return Promise.all(
    names.map(async (name) => {
      const label = await readFile(`/sys/class/video4linux/${name}/name`, 'utf8').then(
        (text) => text.trim(),
        () => '',
      );
      return label === '' ? `/dev/${name}` : `/dev/${name} (${label})`;
    }),
  );
}

/** Resolves symlinks and checks the node opens read-write; throws the typed error when not. */
export async function preflight(device: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(device);
  } catch (error) {
    throw openError(device, nodeErrorCode(error) ?? 'ENOENT', { videoNodes: await describeVideoNodes() });
  }
  try {
    const handle = await open(real, fsConstants.O_RDWR | fsConstants.O_NONBLOCK);
    await handle.close();
  } catch (error) {
    const errno = nodeErrorCode(error) ?? 'EIO';
    throw openError(device, errno, { videoNodes: await describeVideoNodes(), group: await groupOf(real) });
  }
  return real;
}

/** Name of the group owning `path` (from /etc/group), or its number. */
async function groupOf(path: string): Promise<string> {
  let gid: number;
  try {
    gid = (await stat(path)).gid;
  } catch {
    return 'video';
  }
  try {
    const groups = await readFile('/etc/group', 'utf8');
    for (const line of groups.split('\n')) {
      const [name, , id] = line.split(':');
      if (name !== undefined && Number(id) === gid) return name;
    }
  } catch {
    // no /etc/group (minimal container): fall through to the number
  }
  return String(gid);
}

interface SysfsInfo {
  driver: string;
  bus: V4l2Bus;
  busInfo: string;
  name: string;
}

async function sysfsInfo(real: string): Promise<SysfsInfo> {
  const base = `/sys/class/video4linux/${basename(real)}`;
  const name = await readFile(`${base}/name`, 'utf8').then(
    (text) => text.trim(),
    () => basename(real),
  );
  let devicePath: string;
  try {
    devicePath = await realpath(`${base}/device`);
  } catch {
    return { driver: 'unknown', bus: 'virtual', busInfo: 'virtual', name };
  }
  const link = async (path: string): Promise<string | undefined> =>
    readlink(path).then(basename, () => undefined);
  const subsystem = await link(`${devicePath}/subsystem`);
  const driver = (await link(`${devicePath}/driver`)) ?? 'unknown';
  const bus: V4l2Bus =
    subsystem === 'usb' || subsystem === 'platform' || subsystem === 'pci' ? subsystem : 'other';
  return { driver, bus, busInfo: devicePath, name };
}

async function describe(
  path: string,
  real: string,
  method: 'node-av' | 'v4l2-ctl',
  listedCard: string | undefined,
): Promise<V4l2DeviceInfo> {
  const sysfs = await sysfsInfo(real);
  if (method === 'v4l2-ctl') {
    const text = await runV4l2Ctl(['-d', real, '--info', '--list-formats-ext']);
    const info = parseV4l2CtlInfo(text);
    if (!isVideoCaptureNode(info)) throw new NotACaptureDeviceError(path, await captureNodePaths());
    return {
      path,
      name: info.card === '' ? sysfs.name : info.card,
      driver: info.driver === '' ? sysfs.driver : info.driver,
      bus: sysfs.bus,
      busInfo: info.busInfo === '' ? sysfs.busInfo : info.busInfo,
      formats: parseV4l2CtlFormats(text),
      discoveredWith: 'v4l2-ctl',
    };
  }
  const { Device, avGetPixFmtName } = await import('node-av/lib');
  const modes = await Device.modes(real);
  let card = listedCard;
  if (card === undefined) {
    const listed = (await Device.list()).find((device) => device.name === real);
    if (listed === undefined) throw new NotACaptureDeviceError(path, await captureNodePaths());
    card = listed.description;
  }
  const byFormat = new Map<string, V4l2FrameSize[]>();
  for (const mode of modes) {
    const name =
      (mode.pixelFormat as number) < 0 ? 'unknown' : (avGetPixFmtName(mode.pixelFormat) ?? 'unknown');
    const rates = [...new Set([mode.maxFrameRate, mode.minFrameRate])].filter((rate) => rate > 0);
    const sizes = byFormat.get(name) ?? [];
    sizes.push({ width: mode.width, height: mode.height, fps: rates.sort((a, b) => b - a) });
    byFormat.set(name, sizes);
  }
  const formats: V4l2FormatInfo[] = [...byFormat.entries()].map(([name, sizes]) => {
    const known = formatForNodeAvName(name);
    return {
      pixelFormat: name,
      // node-av leaves MJPEG, H.264 and formats it does not map unnamed; capture tries MJPEG for them.
      compressed: name === 'unknown' ? true : known.compressed,
      capturable: name === 'unknown' ? true : known.capturable,
      sizes: sizes.sort((a, b) => b.width * b.height - a.width * a.height),
    };
  });
  return {
    path,
    name: card,
    driver: sysfs.driver,
    bus: sysfs.bus,
    busInfo: sysfs.busInfo,
    formats,
    discoveredWith: 'node-av',
  };
}
