import type { z } from 'zod';
import type {
  cameraInfoSchema,
  cameraStatusSchema,
  clientMessageSchema,
  errorCodeSchema,
  iceCandidateSchema,
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
export type CameraStatus = z.infer<typeof cameraStatusSchema>;
export type SenderInfo = z.infer<typeof senderInfoSchema>;
export type IceCandidate = z.infer<typeof iceCandidateSchema>;
export type VideoCodec = z.infer<typeof videoCodecSchema>;
/** Machine-readable reason carried by `error` messages and {@link ProtocolError}. */
export type ErrorCode = z.infer<typeof errorCodeSchema>;
export type Role = ClientMessageOf<'hello'>['role'];
