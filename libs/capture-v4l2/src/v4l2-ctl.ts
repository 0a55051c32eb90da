/**
 * Optional discovery through `v4l2-ctl` (Debian/Ubuntu package `v4l-utils`): complete frame-rate
 * lists and exact FourCCs, which node-av's mode list lacks. Parsers are pure; `runV4l2Ctl` spawns.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { formatForFourcc } from './pixel-formats.js';
import type { V4l2FormatInfo, V4l2FrameSize, V4l2SizeRange } from './types.js';

const execFileAsync = promisify(execFile);

/** What `v4l2-ctl --info` says about a node. */
export interface V4l2CtlInfo {
  driver: string;
  card: string;
  busInfo: string;
  /** Capabilities of this node (`Device Caps`), e.g. `Video Capture`, `Metadata Capture`. */
  deviceCaps: string[];
}

/** Parses `v4l2-ctl -d DEV --info` output. */
export function parseV4l2CtlInfo(text: string): V4l2CtlInfo {
  const field = (label: string): string => {
    const match = new RegExp(`^\\s*${label}\\s*:\\s*(.*)$`, 'm').exec(text);
    return match?.[1]?.trim() ?? '';
  };
  const deviceCaps: string[] = [];
  const lines = text.split('\n');
  const start = lines.findIndex((line) => /^\s*Device Caps\s*:/.test(line));
  if (start !== -1) {
    const indent = /^(\s*)/.exec(lines[start] ?? '')?.[1]?.length ?? 0;
    for (const line of lines.slice(start + 1)) {
      const lineIndent = /^(\s*)/.exec(line)?.[1]?.length ?? 0;
      if (line.trim() === '' || lineIndent <= indent) break;
      deviceCaps.push(line.trim());
    }
  }
  return { driver: field('Driver name'), card: field('Card type'), busInfo: field('Bus info'), deviceCaps };
}

/** Whether `Device Caps` include single-planar video capture (what FFmpeg's v4l2 demuxer reads). */
export function isVideoCaptureNode(info: V4l2CtlInfo): boolean {
  return info.deviceCaps.includes('Video Capture');
}

interface FormatBuilder {
  fourcc: string;
  description: string;
  compressed: boolean;
  sizes: { width: number; height: number; fps: number[] }[];
  sizeRange?: V4l2SizeRange;
}

/** Parses `v4l2-ctl -d DEV --list-formats-ext` output (the Video Capture section). */
export function parseV4l2CtlFormats(text: string): V4l2FormatInfo[] {
  const formats: FormatBuilder[] = [];
  let current: FormatBuilder | undefined;
  let currentSize: { fps: number[] } | undefined;
  let inCapture = true;
  for (const line of text.split('\n')) {
    const type = /^\s*Type:\s*(.*)$/.exec(line);
    if (type) {
      inCapture = type[1]?.trim() === 'Video Capture';
      current = undefined;
      currentSize = undefined;
      continue;
    }
    if (!inCapture) continue;
    const format = /^\s*\[\d+\]:\s*'([^']*)'\s*\((.*)\)\s*$/.exec(line);
    if (format) {
      const flags = (format[2] ?? '').split(',').map((part) => part.trim());
      current = {
        fourcc: (format[1] ?? '').trim(),
        description: flags[0] ?? '',
        compressed: flags.includes('compressed'),
        sizes: [],
      };
      formats.push(current);
      currentSize = undefined;
      continue;
    }
    if (current === undefined) continue;
    const discrete = /^\s*Size:\s*Discrete\s+(\d+)x(\d+)/.exec(line);
    if (discrete) {
      const size = { width: Number(discrete[1]), height: Number(discrete[2]), fps: [] as number[] };
      current.sizes.push(size);
      currentSize = size;
      continue;
    }
    const range =
      /^\s*Size:\s*(Stepwise|Continuous)\s+(\d+)x(\d+)\s*-\s*(\d+)x(\d+)(?:\s+with step\s+(\d+)\/(\d+))?/.exec(
        line,
      );
    if (range) {
      const sizeRange = {
        minWidth: Number(range[2]),
        minHeight: Number(range[3]),
        maxWidth: Number(range[4]),
        maxHeight: Number(range[5]),
        stepWidth: range[6] === undefined ? 1 : Number(range[6]),
        stepHeight: range[7] === undefined ? 1 : Number(range[7]),
        fps: [] as number[],
      };
      current.sizeRange = sizeRange;
      currentSize = sizeRange;
      continue;
    }
    const interval =
      /^\s*Interval:\s*(Discrete|Stepwise|Continuous)\s.*\(([\d.]+)(?:-([\d.]+))?\s*fps\)/.exec(line);
    if (interval && currentSize) {
      const rates = [Number(interval[2]), ...(interval[3] === undefined ? [] : [Number(interval[3])])];
      for (const rate of rates) if (Number.isFinite(rate) && rate > 0) currentSize.fps.push(rate);
    }
  }
  return formats.map((builder) => toFormatInfo(builder));
}

function toFormatInfo(builder: FormatBuilder): V4l2FormatInfo {
  const known = formatForFourcc(builder.fourcc);
  const sortRates = (fps: number[]): number[] => [...new Set(fps)].sort((a, b) => b - a);
  const sizes: V4l2FrameSize[] = builder.sizes
    .map((size) => ({ width: size.width, height: size.height, fps: sortRates(size.fps) }))
    .sort((a, b) => b.width * b.height - a.width * a.height);
  return {
    pixelFormat: known?.name ?? 'unknown',
    fourcc: builder.fourcc,
    description: builder.description,
    compressed: known?.compressed ?? builder.compressed,
    capturable: known?.capturable ?? false,
    sizes,
    ...(builder.sizeRange === undefined
      ? {}
      : { sizeRange: { ...builder.sizeRange, fps: sortRates([...builder.sizeRange.fps]) } }),
  };
}

/** Runs v4l2-ctl with `args`; resolves with stdout, rejects when it is missing or fails. */
export async function runV4l2Ctl(args: readonly string[], timeoutMs = 5000): Promise<string> {
  const { stdout } = await execFileAsync('v4l2-ctl', [...args], {
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

let available: Promise<boolean> | undefined;

/** Whether `v4l2-ctl` runs here (checked once per process). */
export function v4l2CtlAvailable(): Promise<boolean> {
  available ??= runV4l2Ctl(['--version'], 2000).then(
    () => true,
    () => false,
  );
  return available;
}
