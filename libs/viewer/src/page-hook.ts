// The page's test hook, `window.robocam`, as types: what end-to-end tests (and the devtools
// console) can read from a running viewer page. Types only, so that Node code (tests driving a
// browser) can import them without the page's DOM code.
import type { DoctorReport } from './doctor.js';

/** What a camera tile is doing, as shown on its status line and in the test hook. */
export type TileStatus =
  'connecting' | 'live' | 'reconnecting' | 'no-sender' | 'camera-lost' | 'paused' | 'error';

/** Teleop as a tile shows it: the lease of its sender, this page's commands, the robot's telemetry. */
export interface ControlSnapshot {
  /** A session's events channel is open: the lease can be asked for. */
  available: boolean;
  /** Who drives this sender (its name), or null. */
  holder: string | null;
  /** This page drives. */
  you: boolean;
  /** The sender needs a control token to hand out the lease. */
  tokenRequired: boolean;
  /** Why the last lease request was refused, or null. */
  denied: string | null;
  /** Commands this page sent to the sender, and acknowledgements back. */
  commandsSent: number;
  commandsAcked: number;
  /** Commands of this page the sender dropped (late, out of order, over the rate). */
  commandsDropped: number;
  /** Round trip of the last acknowledged command, ms. */
  commandRttMs: number | null;
  /** The robot's latest telemetry, and when it was sent (sender clock, ms since the epoch). */
  telemetry: Record<string, unknown> | null;
  telemetryAt: number | null;
  /** The last stop the sender raised for this page's lease (`deadman`, `released`, …), or null. */
  lastStop: string | null;
  /** The sender's last complaint about this page's messages, or null. */
  error: string | null;
}

/** A tile's state as the test hook (`window.robocam`) shows it. */
export interface TileSnapshot {
  key: string;
  sender: string;
  senderId: string | null;
  camera: string;
  label: string;
  status: TileStatus;
  statusText: string;
  session: string | null;
  /** Sessions this tile opened so far (a re-offer opens a new one). */
  sessionsStarted: number;
  framesPresented: number;
  framesDecoded: number;
  fps: number | null;
  decodedFps: number | null;
  /** Glass-to-glass latency shown, ms, and how it was measured (see `latencyMethod`). */
  latencyMs: number | null;
  /** `capture-time`: from the capture time in RTP (any camera); `timecode`: the test pattern's strip. */
  latencyMethod: 'capture-time' | 'timecode' | null;
  /** Each method's own latency, ms (both on the test pattern in Chromium). */
  captureTimeLatencyMs: number | null;
  timecodeLatencyMs: number | null;
  receiveToDisplayMs: number | null;
  clockOffsetMs: number | null;
  videoWidth: number;
  videoHeight: number;
  bitrateKbps: number | null;
  packetLossPct: number | null;
  rttMs: number | null;
  jitterBufferMs: number | null;
  codec: string | null;
  // What the sender reports of this tile's stream (its `link-stats` messages, about once a second);
  // null before the first report, or when the sender or signaling server predates them.
  /** The sender's bandwidth estimate of this viewer's link, kbit/s (all cameras of the session). */
  senderEstimateKbps: number | null;
  /** The camera encoder's target now, kbit/s: its configured rate, lowered for its slowest viewers. */
  senderCameraKbps: number | null;
  /** The size the sender encodes this camera at now (a smaller tier on a narrow link). */
  senderEncodedWidth: number | null;
  senderEncodedHeight: number | null;
  /** The temporal layer this viewer gets (0: base only), and the highest the encoder makes. */
  senderLayer: number | null;
  senderMaxLayer: number | null;
  /** Media waiting in the sender's pacer for this viewer, ms. */
  senderQueueMs: number | null;
  /** Loss the sender's estimator saw on this link, percent. */
  senderLossPct: number | null;
  /** Round-trip time the sender measured, ms. */
  senderRttMs: number | null;
  /** Sessions replaced because the jitter buffer grew. */
  resyncs: number;
  /** Teleop of the tile's sender (shared by the sender's tiles). */
  control: ControlSnapshot;
  /** performance.now() of the first frame this tile ever showed (ms since navigation start). */
  firstFrameAt: number | null;
  lastFrameAt: number | null;
  /** The connectivity doctor's verdict on the latest session, with its facts; null before one. */
  doctor: DoctorReport | null;
  /** When the current session sent its offer, got the answer, connected, showed its first frame. */
  timeline: {
    offer: number;
    answer: number | null;
    connected: number | null;
    firstFrame: number | null;
  } | null;
}

/**
 * `window.robocam`: a read-only view of the page's state for end-to-end tests and curious people
 * (`robocam.tiles` in the devtools console). It controls nothing.
 */
export interface RobocamHook {
  /** Version of this object's shape. */
  readonly version: 1;
  /** The signaling URL the page uses. */
  readonly signalingUrl: string | null;
  /** Signaling connection state: idle, connecting, open, reconnecting, closed. */
  readonly signaling: string;
  /** A fatal page error (e.g. signaling refused), or null. */
  readonly error: string | null;
  /** One entry per camera tile, in page order; fresh copies on every read. */
  readonly tiles: TileSnapshot[];
}
