import { RobocamError } from '@robocam/types';

export { InvalidStateError } from '@robocam/types';

/** Settings that cannot work, e.g. an unknown camera spec or a size out of range (`invalid-configuration`). */
export class ConfigurationError extends RobocamError {
  constructor(message: string, options?: ErrorOptions) {
    super('invalid-configuration', message, options);
  }
}

/**
 * Why a viewer's offer could not be answered. The codes are the protocol's bye codes the sender
 * then sends: `bad-offer` (the offer does not fit the request), `no-common-codec` (the viewer does
 * not accept the sender's codec), `camera-failed` (a camera could not start; `cause` says why),
 * `internal` (the peer connection produced no answer).
 */
export type NegotiationErrorCode = 'bad-offer' | 'no-common-codec' | 'camera-failed' | 'internal';

/** An offer could not be answered; `code` is the bye code the viewer is sent. */
export class NegotiationError extends RobocamError {
  declare readonly code: NegotiationErrorCode;

  /** `cause`: the error behind it, e.g. the encoder's for `camera-failed`. */
  constructor(code: NegotiationErrorCode, message: string, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause });
  }
}
