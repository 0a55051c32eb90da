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
