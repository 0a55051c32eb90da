import { RobocamError } from '@robocam/types';

import type { ErrorCode } from './messages.js';

/**
 * A protocol-level failure with a machine-readable `code`: what `parseClientMessage` returns for bad
 * input, and what `SignalingClient` rejects with when the server answers `error`.
 */
export class ProtocolError extends RobocamError {
  declare readonly code: ErrorCode;

  constructor(
    code: ErrorCode,
    message: string,
    /** The `id` of the message this error is about, when known. */
    readonly ref?: string,
  ) {
    super(code, message);
  }
}
