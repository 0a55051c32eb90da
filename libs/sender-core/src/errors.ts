/** Base of every error @robocam/sender throws; `code` is stable and machine-readable. */
export class SenderError extends Error {
  override name = 'SenderError';

  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A method was called on an object that is closed (or otherwise in the wrong state). */
export class InvalidStateError extends SenderError {
  override name = 'InvalidStateError';

  constructor(message: string) {
    super('invalid-state', message);
  }
}

/** Settings that cannot work, e.g. an unknown camera spec or a size out of range. */
export class ConfigurationError extends SenderError {
  override name = 'ConfigurationError';

  constructor(message: string) {
    super('invalid-configuration', message);
  }
}
