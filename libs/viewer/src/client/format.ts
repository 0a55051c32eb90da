import type { SenderLinkStats } from './stats.js';

/** Formatting of the stats overlay's numbers; `–` for unknown values. */
const DASH = '–';

export function formatMs(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  return `${Math.round(value)} ms`;
}

export function formatFps(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  return `${value.toFixed(1)} fps`;
}

export function formatBitrate(kbps: number | undefined): string {
  if (kbps === undefined || !Number.isFinite(kbps)) return DASH;
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(2)} Mbit/s` : `${Math.round(kbps)} kbit/s`;
}

export function formatPercent(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} %`;
}

export function formatSize(width: number | undefined, height: number | undefined): string {
  if (width === undefined || height === undefined || width === 0) return DASH;
  return `${width}×${height}`;
}

/**
 * The overlay's line of what the sender sees, e.g.
 * `est 820 kbit/s · cam 700 kbit/s 640×360 · layer 1/1 · queue 12 ms · loss 0 %`.
 */
export function formatSenderLink(stats: SenderLinkStats | undefined): string {
  if (stats === undefined) return DASH;
  const layer =
    stats.layer === undefined || stats.maxLayer === undefined ? DASH : `${stats.layer}/${stats.maxLayer}`;
  return [
    `est ${formatBitrate(stats.estimateKbps)}`,
    `cam ${formatBitrate(stats.cameraKbps)} ${formatSize(stats.encodedWidth, stats.encodedHeight)}`,
    `layer ${layer}`,
    `queue ${formatMs(stats.queueMs)}`,
    `loss ${stats.lossPct === undefined ? DASH : `${Math.round(stats.lossPct)} %`}`,
  ].join(' · ');
}
