/**
 * The default {@link CaptureBackend}: discovery via node-av/v4l2-ctl, capture via node-av.
 */
import type { CaptureBackend, CaptureStream } from './capture-backend.js';
import { getDeviceInfo } from './device-discovery.js';
import type { PlannedMode } from './mode-negotiation.js';
import { NodeAvCaptureStream } from './node-av-capture-stream.js';
import type { DiscoveryMethod, V4l2DeviceInfo } from './types.js';

export class NodeAvBackend implements CaptureBackend {
  readonly #discovery: DiscoveryMethod;

  constructor({ discovery = 'auto' }: { discovery?: DiscoveryMethod } = {}) {
    this.#discovery = discovery;
  }

  describe(device: string): Promise<V4l2DeviceInfo> {
    return getDeviceInfo(device, { discovery: this.#discovery });
  }

  open(device: string, mode: PlannedMode): Promise<CaptureStream> {
    return NodeAvCaptureStream.open(device, mode);
  }
}
