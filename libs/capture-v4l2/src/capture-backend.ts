/**
 * The seam between {@link V4l2Camera} and the system: discovery plus an open capture stream. The
 * default implementation is node-av (FFmpeg's v4l2 demuxer); tests substitute fakes.
 */
import type { PlannedMode } from './mode-negotiation.js';
import type { V4l2DeviceInfo } from './types.js';

/** A frame read from the device, not converted yet. Holds a driver buffer until released. */
export interface CapturedPacket {
  /** The driver's timestamp in microseconds, undefined when the packet has none. */
  readonly timestampUs: number | undefined;
}

/** What the driver delivers after opening (it may adjust what was asked). */
export interface OpenedMode {
  /** `mjpeg` or the FFmpeg name of the raw pixel format. */
  readonly pixelFormat: string;
  readonly width: number;
  readonly height: number;
  /** Frame rate the driver confirmed. */
  readonly fps: number;
}

/** An open, streaming device. */
export interface CaptureStream {
  readonly opened: OpenedMode;
  /**
   * The next packet, as soon as the driver has it. Rejects with a {@link DeviceLostError} when the
   * stream fails or ends (a live device that ends was unplugged).
   */
  read(): Promise<CapturedPacket>;
  /**
   * Decodes/converts `packet` to I420 of `width`x`height` into `target`
   * (`width * height * 3 / 2` bytes). Rejects when the packet is corrupt.
   */
  convert(packet: CapturedPacket, target: Uint8Array, width: number, height: number): Promise<void>;
  /** Gives the packet's buffer back to the driver. */
  release(packet: CapturedPacket): void;
  /** Stops streaming and closes the device; waits for a read in progress. Idempotent. */
  close(): Promise<void>;
}

/** Discovery and opening, as {@link V4l2Camera} uses them. */
export interface CaptureBackend {
  /** What the device offers; rejects with the typed errors of {@link getDeviceInfo}. */
  describe(device: string): Promise<V4l2DeviceInfo>;
  /**
   * Opens `device` streaming in `mode`. Rejects with typed errors; a mode the driver refuses gives
   * a {@link CaptureFailedError} with errno `EINVAL`.
   */
  open(device: string, mode: PlannedMode): Promise<CaptureStream>;
}
