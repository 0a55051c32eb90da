/**
 * The default {@link CaptureBackend}: discovery via node-av/v4l2-ctl, capture via node-av.
 */
import { silentLogger, type Logger } from '@robocam/types';
import type { CaptureBackend, CaptureStream } from './capture-backend.js';
import { getDeviceInfo } from './device-discovery.js';
import type { PlannedMode } from './mode-negotiation.js';
import { NodeAvCaptureStream } from './node-av-capture-stream.js';
import type { DiscoveryMethod, V4l2DeviceInfo } from './types.js';

export class NodeAvBackend implements CaptureBackend {
  readonly #discovery: DiscoveryMethod;
  readonly #logger: Logger;

  constructor({
    discovery = 'auto',
    logger = silentLogger,
  }: { discovery?: DiscoveryMethod; logger?: Logger } = {}) {
    this.#discovery = discovery;
    this.#logger = logger;
  }

  describe(device: string): Promise<V4l2DeviceInfo> {
    return getDeviceInfo(device, { discovery: this.#discovery, logger: this.#logger });
  }

  open(device: string, mode: PlannedMode): Promise<CaptureStream> {
    return NodeAvCaptureStream.open(device, mode, this.#logger);
  }
}
