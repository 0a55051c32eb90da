import type { CameraStatus as SharedCameraStatus, VideoCodec as SharedVideoCodec } from '@robocam/types';
import type { z } from 'zod';
import type {
  byeCodeSchema,
  cameraInfoSchema,
  cameraStatusSchema,
  clientMessageSchema,
  errorCodeSchema,
  iceCandidateSchema,
  linkCameraStatsSchema,
  senderInfoSchema,
  serverMessageSchema,
  videoCodecSchema,
} from './schemas.js';

/** A message a client (viewer or sender) sends to the signaling server. */
export type ClientMessage = z.infer<typeof clientMessageSchema>;
/** A message the signaling server sends to a client. */
export type ServerMessage = z.infer<typeof serverMessageSchema>;
/** Any protocol message. */
export type Message = ClientMessage | ServerMessage;

/** The client message whose `type` is `T`. */
export type ClientMessageOf<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }>;
/** The server message whose `type` is `T`. */
export type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export type CameraInfo = z.infer<typeof cameraInfoSchema>;
export type { CameraStatus, VideoCodec } from '@robocam/types';
export type SenderInfo = z.infer<typeof senderInfoSchema>;
export type IceCandidate = z.infer<typeof iceCandidateSchema>;
/** One camera's entry in a `link-stats` message. */
export type LinkCameraStats = z.infer<typeof linkCameraStatsSchema>;
/** Why a session ended, carried by `bye`; decide retries with {@link isRetryableByeCode}. */
export type ByeCode = z.infer<typeof byeCodeSchema>;
/** Machine-readable reason carried by `error` messages and {@link ProtocolError}. */
export type ErrorCode = z.infer<typeof errorCodeSchema>;
export type Role = ClientMessageOf<'hello'>['role'];

// The wire schemas and @robocam/types must name the same values: a codec or status added on one
// side only fails typecheck here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type SchemasMatchTypes = [
  Same<z.infer<typeof videoCodecSchema>, SharedVideoCodec>,
  Same<z.infer<typeof cameraStatusSchema>, SharedCameraStatus>,
] extends [true, true]
  ? true
  : never;
/** Not part of the public API: only here so that a mismatch fails `tsc`. */
export const schemasMatchTypes: SchemasMatchTypes = true;

/**
 * Whether a session that ended with `code` is worth opening again at once. Refusals that will
 * not change by retrying (the camera does not exist, no common codec, a bad offer) are not;
 * everything else (network failures, a sender restarting, a camera recovering, an unknown code
 * from a newer peer) is, with backoff. `too-many-viewers` is retryable: a seat may free up.
 */
export function isRetryableByeCode(code: ByeCode | undefined): boolean {
  return code !== 'unknown-camera' && code !== 'no-common-codec' && code !== 'bad-offer';
}
