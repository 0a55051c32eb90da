import { readFileSync } from 'node:fs';
import { parseV4l2CtlFormats } from '../src/v4l2-ctl.js';
import type { V4l2Bus, V4l2DeviceInfo } from '../src/types.js';

export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

/** A device as v4l2-ctl discovery would describe it, from a fixture. */
export function deviceFromFixture(name: string, bus: V4l2Bus, path = '/dev/video0'): V4l2DeviceInfo {
  return {
    path,
    name: name.split('-')[0] ?? name,
    driver: 'test',
    bus,
    busInfo: `${bus}:test`,
    formats: parseV4l2CtlFormats(fixture(name)),
    discoveredWith: 'v4l2-ctl',
  };
}
