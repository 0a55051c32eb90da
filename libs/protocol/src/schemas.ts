import * as z from 'zod';

/**
 * The wire protocol version. A `hello` that names another version is refused with
 * `unsupported-version`, so old and new peers fail loudly instead of half-working.
 */
export const PROTOCOL_VERSION = 1;

/** Limits shared by every implementation; the server enforces them, clients may pre-check. */
export const LIMITS = {
  /** Largest accepted WebSocket message, in bytes. SDP for a few video tracks is ~5–10 KiB. */
  maxMessageBytes: 64 * 1024,
  /** Longest accepted SDP text. */
  maxSdpLength: 48 * 1024,
  /** Longest accepted ICE candidate line. */
  maxCandidateLength: 1024,
  /** Most cameras one sender may announce. */
  maxCameras: 16,
  /** Longest token. */
  maxTokenLength: 512,
} as const;

const peerName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^<>"&\\\p{C}]+$/u, 'no control characters, markup or quotes');

/** Camera ids appear in URLs (WHEP) and SDP-adjacent metadata, so they are kept URL- and log-safe. */
export const cameraIdSchema = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ and -, starting with a letter or digit');

/** Session ids are chosen by the viewer (unguessable random), echoed by every message of that session. */
export const sessionIdSchema = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and -');

/** Peer ids are assigned by the server in `welcome`. */
export const peerIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);

const messageId = z.string().min(1).max(64);

export const videoCodecSchema = z.enum(['vp8', 'h264']);

export const cameraStatusSchema = z.enum(['idle', 'live', 'lost']);

export const cameraInfoSchema = z.object({
  id: cameraIdSchema,
  label: z.string().max(128),
  width: z.number().int().min(16).max(7680),
  height: z.number().int().min(16).max(4320),
  fps: z.number().positive().max(240),
  codec: videoCodecSchema,
  status: cameraStatusSchema,
  /** Human-readable detail for the status, e.g. why a camera is lost. */
  detail: z.string().max(256).optional(),
});

export const senderInfoSchema = z.object({
  id: peerIdSchema,
  name: peerName,
  cameras: z.array(cameraInfoSchema).max(LIMITS.maxCameras),
});

export const iceCandidateSchema = z.object({
  candidate: z.string().max(LIMITS.maxCandidateLength),
  sdpMid: z.string().max(32).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(255).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});

const sdp = z.string().min(1).max(LIMITS.maxSdpLength);

export const errorCodeSchema = z.enum([
  'bad-json',
  'bad-message',
  'binary-not-supported',
  'unsupported-version',
  'not-registered',
  'already-registered',
  'unauthorized',
  'unknown-peer',
  'unknown-session',
  'session-exists',
  'forbidden',
  'rate-limited',
  'too-large',
  'server-full',
  'sender-offline',
  'internal',
  'timeout',
]);

// ---- client → server -------------------------------------------------------------------------

const hello = z.object({
  type: z.literal('hello'),
  id: messageId.optional(),
  protocol: z.number().int(),
  role: z.enum(['viewer', 'sender']),
  name: peerName,
  token: z.string().max(LIMITS.maxTokenLength).optional(),
  /** Required for senders (may be empty), ignored for viewers. */
  cameras: z.array(cameraInfoSchema).max(LIMITS.maxCameras).optional(),
});

/** A viewer asks a sender for a session; `cameras` lists the camera ids in m-line order. */
const offer = z.object({
  type: z.literal('offer'),
  id: messageId.optional(),
  session: sessionIdSchema,
  to: peerIdSchema,
  cameras: z.array(cameraIdSchema).min(1).max(LIMITS.maxCameras),
  sdp,
});

const answer = z.object({
  type: z.literal('answer'),
  id: messageId.optional(),
  session: sessionIdSchema,
  sdp,
});

const candidate = z.object({
  type: z.literal('candidate'),
  id: messageId.optional(),
  session: sessionIdSchema,
  /** null means end-of-candidates. */
  candidate: iceCandidateSchema.nullable(),
});

/**
 * Why a session ended, machine-readable: the page decides whether to retry from this code (see
 * `isRetryableByeCode`), never from the human `reason` text.
 */
export const byeCodeSchema = z.enum([
  /** The other side closed it on purpose (tab hidden, viewer left, renegotiated). */
  'closed',
  /** The sender process is stopping; it will be back. */
  'shutting-down',
  /** The sender serves its maximum number of viewers. */
  'too-many-viewers',
  /** The offer names a camera the sender does not have. */
  'unknown-camera',
  /** The offer has no codec the sender can send (e.g. H.264 to a browser without it). */
  'no-common-codec',
  /** The offer could not be used (malformed SDP, no video section). */
  'bad-offer',
  /** The camera could not be started (device error, encoder unavailable). */
  'camera-failed',
  /** The peer connection did not connect in time. */
  'connect-timeout',
  /** ICE or DTLS failed, or the peer connection closed underneath. */
  'peer-failed',
  /** Nothing (no RTCP) was heard from the viewer for too long. */
  'viewer-silent',
  /** An unexpected error on the sender. */
  'internal',
]);

const bye = z.object({
  type: z.literal('bye'),
  id: messageId.optional(),
  session: sessionIdSchema,
  /** Machine-readable cause; absent from peers older than this field (treat as retryable). */
  code: byeCodeSchema.optional(),
  /** Human-readable detail, for logs and the page's status line. */
  reason: z.string().max(256).optional(),
});

/** Without `session` the server answers; with it, the other party of that session answers. */
const ping = z.object({
  type: z.literal('ping'),
  id: messageId.optional(),
  session: sessionIdSchema.optional(),
  /** Sender's clock (ms since epoch) when sent. */
  t0: z.number(),
});

/** A sender's answer to a routed ping, or the server's own. */
const pong = z.object({
  type: z.literal('pong'),
  id: messageId.optional(),
  session: sessionIdSchema.optional(),
  t0: z.number(),
  /** Responder's clock (ms since epoch) when it answered. */
  t1: z.number(),
});

/** A sender re-announces its cameras (a camera lost or back, a setting changed). */
const cameras = z.object({
  type: z.literal('cameras'),
  id: messageId.optional(),
  cameras: z.array(cameraInfoSchema).max(LIMITS.maxCameras),
});

const kbps = z.number().int().min(0).max(10_000_000);
const durationMs = z.number().int().min(0).max(600_000);
const temporalLayer = z.number().int().min(0).max(7);

/** One camera of a `link-stats` message: what its shared encoder makes and what this viewer gets. */
export const linkCameraStatsSchema = z.object({
  camera: cameraIdSchema,
  /** The camera encoder's target now, kbit/s: its configured rate, lowered for its slowest viewers. */
  targetKbps: kbps.optional(),
  /** The camera's configured rate, kbit/s (the most its encoder is given). */
  maxKbps: kbps.optional(),
  /** The size frames are encoded at now: the camera's, or smaller on a narrow link. */
  encodedWidth: z.number().int().min(1).max(7680).optional(),
  encodedHeight: z.number().int().min(1).max(4320).optional(),
  /** The temporal layer this viewer gets (0: base layer only); absent before its first frame. */
  temporalLayer: temporalLayer.optional(),
  /** The highest temporal layer the encoder makes (0: one layer). */
  maxTemporalLayer: temporalLayer,
});

/**
 * The sender's view of one session's link, about once a second: what congestion control estimates
 * and decided. Informational only (the page shows it); a field is absent while the sender does not
 * know it. Added within protocol version 1: a page that predates it drops it as an unknown message.
 */
const linkStats = z.object({
  type: z.literal('link-stats'),
  id: messageId.optional(),
  session: sessionIdSchema,
  /** The sender's bandwidth estimate of this viewer's link, kbit/s (all its cameras). */
  estimateKbps: kbps.optional(),
  /** What the viewer acknowledged receiving over the last ~0.5 s, kbit/s. */
  receivedKbps: kbps.optional(),
  /** Packets lost in the last judged window, percent (0–100). */
  lossPct: z.number().int().min(0).max(100).optional(),
  /** Round-trip time from RTCP receiver reports, ms. */
  rttMs: durationMs.optional(),
  /** Media waiting in the sender's pacer for this viewer, ms at the current estimate. */
  pacerQueueMs: durationMs.optional(),
  /** One entry per camera of the session, in offer order. */
  cameras: z.array(linkCameraStatsSchema).max(LIMITS.maxCameras),
});

export const clientMessageSchema = z.discriminatedUnion('type', [
  hello,
  offer,
  answer,
  candidate,
  bye,
  ping,
  pong,
  cameras,
  linkStats,
]);

// ---- server → client -------------------------------------------------------------------------

const welcome = z.object({
  type: z.literal('welcome'),
  /** The `id` of the hello this answers. */
  ref: messageId.optional(),
  protocol: z.number().int(),
  peerId: peerIdSchema,
  role: z.enum(['viewer', 'sender']),
  /** Online senders (sent to viewers; empty for senders). */
  senders: z.array(senderInfoSchema),
  /** The server pings this often; a client that hears nothing for ~2 intervals may reconnect. */
  heartbeatMs: z.number().int().positive(),
  serverTime: z.number(),
});

const senderOnline = z.object({
  type: z.literal('sender-online'),
  sender: senderInfoSchema,
});

const senderOffline = z.object({
  type: z.literal('sender-offline'),
  senderId: peerIdSchema,
});

const routedOffer = offer.omit({ to: true }).extend({ from: peerIdSchema });
const routedAnswer = answer.extend({ from: peerIdSchema });
const routedCandidate = candidate.extend({ from: peerIdSchema });
const routedBye = bye.extend({ from: peerIdSchema });
const routedPing = ping.extend({ from: peerIdSchema });
const routedPong = pong.extend({ from: peerIdSchema.optional() });
const routedLinkStats = linkStats.extend({ from: peerIdSchema });

const error = z.object({
  type: z.literal('error'),
  code: errorCodeSchema,
  message: z.string().max(1024),
  /** The `id` of the offending message, when it had one. */
  ref: messageId.optional(),
  session: sessionIdSchema.optional(),
});

export const serverMessageSchema = z.discriminatedUnion('type', [
  welcome,
  senderOnline,
  senderOffline,
  routedOffer,
  routedAnswer,
  routedCandidate,
  routedBye,
  routedPing,
  routedPong,
  routedLinkStats,
  error,
]);
