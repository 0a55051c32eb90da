import * as z from 'zod';
import { ProtocolError } from './errors.js';
import type { RawMessage } from './parse.js';

// The teleop protocol: what a viewer and a sender say over the two WebRTC data channels of a
// session, beside the video. The viewer opens both channels in its offer; the sender never
// creates channels of its own.

/** Data channel labels. */
export const TELEOP_CHANNELS = {
  /**
   * Viewer → robot commands, unordered and never retransmitted (`maxRetransmits: 0`): a late
   * command is worse than a lost one, and the next one (50 ms later at 20 Hz) supersedes it. The
   * sender acknowledges each applied command on the same channel (`ack`).
   */
  control: 'robocam-control',
  /** Both ways, ordered and reliable: the lease, telemetry, stops, errors, viewer events. */
  events: 'robocam-events',
} as const;

/** Limits both ends enforce; a message beyond them is rejected and counted, never applied. */
export const TELEOP_LIMITS = {
  /** Largest control-channel message (one command), bytes of JSON text. */
  maxCommandBytes: 1024,
  /** Largest events-channel message (telemetry, viewer events), bytes of JSON text. */
  maxEventBytes: 16 * 1024,
  /** Commands a session may send per second (sustained), and at once. 50 Hz is the highest expected. */
  commandsPerSecond: 100,
  commandBurst: 20,
  /** Events-channel messages a session may send per second, and at once. */
  eventsPerSecond: 20,
  eventBurst: 20,
  /** Longest viewer name shown as the lease holder. */
  maxNameLength: 64,
  /** Longest control token. */
  maxTokenLength: 512,
} as const;

/** A JSON object: a command's or telemetry's payload; its fields belong to the robot. */
export type JsonObject = { [key: string]: unknown };

const jsonObject = z.record(z.string(), z.unknown()) as z.ZodType<JsonObject>;
const clientId = z
  .string()
  .min(16)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and -');
const name = z
  .string()
  .min(1)
  .max(TELEOP_LIMITS.maxNameLength)
  .regex(/^[^<>"&\\\p{C}]+$/u, 'no control characters, markup or quotes');

/**
 * One command, viewer → robot on the control channel. `seq` grows by one per command for as long
 * as the page lives (across its sessions); `sentAt` is the send time on the **sender's** clock (ms
 * since the epoch: the page's clock plus the offset it estimates over signaling), so the robot
 * knows the command's age on arrival.
 */
export const commandSchema = z.object({
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  sentAt: z.number().min(0),
  data: jsonObject,
});
export type TeleopCommand = z.infer<typeof commandSchema>;

/** The sender's acknowledgement of an applied command (control channel), for the page's round trip. */
export const commandAckSchema = z.object({
  ack: z.number().int().min(1),
  /** Commands of this session dropped so far (late, out of order, without the lease, invalid). */
  dropped: z.number().int().min(0),
});
export type TeleopCommandAck = z.infer<typeof commandAckSchema>;

/** Why the sender refused a lease request. */
export const leaseDeniedCodeSchema = z.enum([
  /** Another viewer drives. */
  'held',
  /** The sender requires a control token (`CONTROL_TOKEN`) and this one is missing or wrong. */
  'unauthorized',
  /** No `hello` on the events channel yet. */
  'no-hello',
  /** The sender does not accept control (embedder disabled it). */
  'disabled',
]);
export type LeaseDeniedCode = z.infer<typeof leaseDeniedCodeSchema>;

/** Why a stop was raised: the robot must halt. */
export const stopReasonSchema = z.enum([
  /** No command for the deadman interval while driving (tab gone, browser killed, link cut). */
  'deadman',
  /** The driver released the lease. */
  'released',
  /** The driver's last session ended. */
  'disconnected',
  /** The lease ran out without commands. */
  'expired',
  /** The sender is shutting down. */
  'shutdown',
]);
export type StopReason = z.infer<typeof stopReasonSchema>;

/** Viewer → sender, events channel. */
export const viewerEventSchema = z.discriminatedUnion('type', [
  /**
   * First message of every session's events channel: `client` is random per page (tab) and names
   * it across its sessions (a tile replaces its session without losing the lease); `name` is shown
   * to the others as the driver.
   */
  z.object({ type: z.literal('hello'), client: clientId, name: name.optional() }),
  /** Asks for the control lease (`token`: the sender's `CONTROL_TOKEN`, when it has one). */
  z.object({
    type: z.literal('lease-request'),
    token: z.string().max(TELEOP_LIMITS.maxTokenLength).optional(),
  }),
  /** Gives the lease back; the robot gets a stop if it was moving. */
  z.object({ type: z.literal('lease-release') }),
  /** A free-form event for robot code (a setting, a button): forwarded as is. */
  z.object({ type: z.literal('event'), data: jsonObject }),
]);
export type ViewerEvent = z.infer<typeof viewerEventSchema>;

/** Who drives, as every viewer of the sender sees it. */
export const leaseHolderSchema = z.object({
  /** The holder's name (its `hello`), or its viewer id. */
  name: z.string().max(TELEOP_LIMITS.maxNameLength),
  /** Its peer id at the signaling server. */
  viewer: z.string().max(64),
  /** True on the holder's own page. */
  you: z.boolean(),
  /** When the lease was granted, ms since the epoch on the sender's clock. */
  since: z.number(),
});
export type LeaseHolder = z.infer<typeof leaseHolderSchema>;

/** Sender → viewer, events channel. */
export const senderEventSchema = z.discriminatedUnion('type', [
  /** The lease now (sent on every change, and on hello); `holder` null: free. */
  z.object({
    type: z.literal('lease'),
    holder: leaseHolderSchema.nullable(),
    /** Whether taking the lease needs a token. */
    tokenRequired: z.boolean(),
  }),
  z.object({ type: z.literal('lease-denied'), code: leaseDeniedCodeSchema, message: z.string().max(256) }),
  /** The robot was told to stop (sent to the driver's sessions). */
  z.object({ type: z.literal('stop'), reason: stopReasonSchema }),
  /** Robot telemetry: `at` is the sender's clock when sent. */
  z.object({ type: z.literal('telemetry'), at: z.number(), data: jsonObject }),
  /** A message of this viewer was rejected (malformed, too large, too many); the session goes on. */
  z.object({ type: z.literal('error'), code: z.string().max(64), message: z.string().max(256) }),
]);
export type SenderEvent = z.infer<typeof senderEventSchema>;

/** Kebab-case codes of a rejected data-channel message. */
export type TeleopRejection = 'binary-not-supported' | 'too-large' | 'bad-json' | 'bad-message';

export type TeleopParseResult<T> = { ok: true; message: T } | { ok: false; error: ProtocolError };

/** Parses a control-channel command. Never throws. */
export function parseCommand(raw: RawMessage): TeleopParseResult<TeleopCommand> {
  return parseJson(commandSchema, raw, TELEOP_LIMITS.maxCommandBytes);
}

/** Parses a control-channel acknowledgement (what the page receives). Never throws. */
export function parseCommandAck(raw: RawMessage): TeleopParseResult<TeleopCommandAck> {
  return parseJson(commandAckSchema, raw, TELEOP_LIMITS.maxCommandBytes);
}

/** Parses a viewer's events-channel message. Never throws. */
export function parseViewerEvent(raw: RawMessage): TeleopParseResult<ViewerEvent> {
  return parseJson(viewerEventSchema, raw, TELEOP_LIMITS.maxEventBytes);
}

/** Parses a sender's events-channel message (what the page receives). Never throws. */
export function parseSenderEvent(raw: RawMessage): TeleopParseResult<SenderEvent> {
  return parseJson(senderEventSchema, raw, TELEOP_LIMITS.maxEventBytes);
}

function parseJson<S extends z.ZodType>(
  schema: S,
  raw: RawMessage,
  maxBytes: number,
): TeleopParseResult<z.infer<S>> {
  if (typeof raw !== 'string') {
    return fail(
      'binary-not-supported',
      'binary messages are not part of the teleop protocol; send JSON text',
    );
  }
  // Length in UTF-16 units ≤ bytes in UTF-8 only for ASCII; measure bytes when it could matter.
  const bytes = raw.length * 3 <= maxBytes ? raw.length : new TextEncoder().encode(raw).length;
  if (bytes > maxBytes) return fail('too-large', `message exceeds ${maxBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail('bad-json', 'message is not valid JSON');
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 3).map((issue) => {
      const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(message)';
      return `${path}: ${issue.message}`;
    });
    return fail('bad-message', `invalid message: ${issues.join('; ')}`);
  }
  return { ok: true, message: result.data };
}

function fail(code: TeleopRejection, message: string): { ok: false; error: ProtocolError } {
  return { ok: false, error: new ProtocolError(code, message) };
}
