import type { ErrorCode } from './messages.js';

/**
 * A protocol-level failure with a machine-readable `code`: what `parseClientMessage` returns for bad
 * input, and what `SignalingClient` rejects with when the server answers `error`.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The `id` of the message this error is about, when known. */
    readonly ref?: string,
  ) {
    super(message);
  }
}

/** Thrown when a method is called on a closed object. */
export class InvalidStateError extends Error {
  override readonly name = 'InvalidStateError';
}

/** A request got no answer in time. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}
