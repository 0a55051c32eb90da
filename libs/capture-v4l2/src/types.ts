/**
 * Public data types of @robocam/capture-v4l2: what discovery reports, what a camera negotiated and
 * what it emits.
 */

/** How a camera is connected, from sysfs (`/sys/class/video4linux/videoN/device/subsystem`). */
export type V4l2Bus = 'usb' | 'platform' | 'pci' | 'virtual' | 'other';

/** Where discovery reads formats from. See {@link DiscoverySettings.discovery}. */
export type DiscoveryMethod = 'auto' | 'node-av' | 'v4l2-ctl';

/** One frame size a format offers, with the frame rates offered at that size. */
export interface V4l2FrameSize {
  readonly width: number;
  readonly height: number;
  /**
   * Frame rates (frames per second) offered at this size, highest first. Complete when formats
   * come from `v4l2-ctl`; only the lowest and highest rate when they come from node-av (its mode
   * list keeps a range). For a continuous or stepwise interval range, its two ends.
   */
  readonly fps: readonly number[];
}

/** A range of sizes offered by drivers that report stepwise or continuous frame sizes. */
export interface V4l2SizeRange {
  readonly minWidth: number;
  readonly maxWidth: number;
  readonly stepWidth: number;
  readonly minHeight: number;
  readonly maxHeight: number;
  readonly stepHeight: number;
  /** Frame rates offered across the range (its ends when the driver gives a range). */
  readonly fps: readonly number[];
}

/** One pixel format a device offers. */
export interface V4l2FormatInfo {
  /**
   * FFmpeg's name for the format (the value of the v4l2 demuxer's `input_format` option), e.g.
   * `mjpeg`, `yuyv422`, `nv12`, `yuv420p`; `unknown` when discovery could not identify it (node-av
   * without v4l2-ctl reports MJPEG, H.264 and formats FFmpeg lacks all as "no pixel format").
   */
  readonly pixelFormat: string;
  /** The V4L2 FourCC, e.g. `MJPG`, `YUYV`, when discovery saw it (v4l2-ctl). */
  readonly fourcc?: string;
  /** The driver's description, e.g. "Motion-JPEG", when discovery saw it (v4l2-ctl). */
  readonly description?: string;
  /** Compressed (MJPEG, H.264) rather than raw pixels. */
  readonly compressed: boolean;
  /** Whether this library can capture this format (decode or convert it to I420). */
  readonly capturable: boolean;
  /** Discrete frame sizes, largest first. */
  readonly sizes: readonly V4l2FrameSize[];
  /** Set when the driver offers a stepwise/continuous size range instead of (or besides) sizes. */
  readonly sizeRange?: V4l2SizeRange;
}

/** A V4L2 video capture device as {@link listDevices} reports it. */
export interface V4l2DeviceInfo {
  /** The device node, e.g. `/dev/video0`. */
  readonly path: string;
  /** The driver's card name, e.g. "HD Pro Webcam C920" or "vivid". */
  readonly name: string;
  /** Kernel driver, e.g. `uvcvideo`, `vivid`, `bcm2835-v4l2`, `v4l2 loopback`. */
  readonly driver: string;
  readonly bus: V4l2Bus;
  /** Bus location: V4L2 `bus_info` (e.g. `usb-0000:00:14.0-1`) or the sysfs device path. */
  readonly busInfo: string;
  /** Pixel formats with their sizes and rates, in the driver's order. */
  readonly formats: readonly V4l2FormatInfo[];
  /** Which method produced {@link formats}. */
  readonly discoveredWith: Exclude<DiscoveryMethod, 'auto'>;
}

/**
 * Requested capture format. `auto` lets the camera choose (MJPEG for sizes above
 * {@link V4l2CameraSettings.mjpegAbovePixels} on USB cameras, raw otherwise); the other values
 * are FFmpeg pixel format names or their common V4L2 aliases (`yuyv` = `yuyv422`, `i420` = `yu12` =
 * `yuv420p`, `uyvy` = `uyvy422`, `grey` = `gray`).
 */
export type CaptureFormat =
  | 'auto'
  | 'mjpeg'
  | 'yuyv'
  | 'yuyv422'
  | 'uyvy'
  | 'uyvy422'
  | 'nv12'
  | 'i420'
  | 'yu12'
  | 'yuv420p'
  | 'yuv422p'
  | 'rgb24'
  | 'bgr24'
  | 'gray'
  | 'grey';

/** What a camera negotiated with its device. */
export interface CaptureMode {
  /** FFmpeg format name captured from the device, e.g. `yuyv422` or `mjpeg`. */
  readonly pixelFormat: string;
  /** Size the device delivers. */
  readonly captureWidth: number;
  readonly captureHeight: number;
  /** Frame rate the driver confirmed (FFmpeg's stream rate after opening). */
  readonly fps: number;
  /** Size of the emitted I420 frames. */
  readonly outputWidth: number;
  readonly outputHeight: number;
  /** MJPEG frames are decoded. */
  readonly decodes: boolean;
  /** Frames are scaled (capture size differs from output size). */
  readonly scales: boolean;
}

/** Counters of a camera since it was created. */
export interface V4l2CameraStats {
  /** Frames read from the device. */
  readonly framesCaptured: number;
  /** Frames emitted. */
  readonly framesEmitted: number;
  /** Frames dropped because a newer one arrived while the previous was still being converted. */
  readonly framesDropped: number;
  /** Frames that failed to decode or convert (corrupt MJPEG), skipped. */
  readonly framesFailed: number;
  /** Times the device was lost. */
  readonly losses: number;
  /** Times capture resumed after a loss. */
  readonly recoveries: number;
  /** Reopen attempts that failed. */
  readonly failedReopens: number;
  /**
   * Which clock the driver's timestamps were on: `monotonic` (usual), `realtime`, or `arrival`
   * (timestamps unusable; read time used instead). Undefined before the first frame.
   */
  readonly timestampClock: 'monotonic' | 'realtime' | 'arrival' | undefined;
}
