/**
 * @robocam/protocol — robocam's signaling protocol: message schemas (zod) and the types inferred
 * from them, a parser that never throws on hostile input, and a reconnecting client for Node and
 * browsers.
 */
export {
  PROTOCOL_VERSION,
  LIMITS,
  clientMessageSchema,
  serverMessageSchema,
  cameraInfoSchema,
  cameraIdSchema,
  sessionIdSchema,
  peerIdSchema,
  errorCodeSchema,
  byeCodeSchema,
  linkCameraStatsSchema,
} from './schemas.js';
export { isRetryableByeCode } from './messages.js';
export type {
  ByeCode,
  CameraInfo,
  CameraStatus,
  ClientMessage,
  ClientMessageOf,
  ErrorCode,
  IceCandidate,
  LinkCameraStats,
  Message,
  Role,
  SenderInfo,
  ServerMessage,
  ServerMessageOf,
  VideoCodec,
} from './messages.js';
export { parseClientMessage, parseServerMessage, encodeMessage } from './parse.js';
export type { ParseResult, RawMessage } from './parse.js';
export { ProtocolError } from './errors.js';
export { ClockOffsetEstimator, estimateClock } from './clock.js';
export type { ClockEstimate, ClockSample } from './clock.js';
export { SignalingClient } from './signaling-client.js';
export type {
  SignalingClientEvents,
  SignalingClientSettings,
  SignalingState,
  WebSocketConstructor,
  WebSocketLike,
} from './signaling-client.js';
export {
  TELEOP_CHANNELS,
  TELEOP_LIMITS,
  commandSchema,
  commandAckSchema,
  viewerEventSchema,
  senderEventSchema,
  leaseHolderSchema,
  leaseDeniedCodeSchema,
  stopReasonSchema,
  parseCommand,
  parseCommandAck,
  parseViewerEvent,
  parseSenderEvent,
} from './teleop.js';
export type {
  JsonObject,
  LeaseDeniedCode,
  LeaseHolder,
  SenderEvent,
  StopReason,
  TeleopCommand,
  TeleopCommandAck,
  TeleopParseResult,
  TeleopRejection,
  ViewerEvent,
} from './teleop.js';
