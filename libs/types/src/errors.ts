/**
 * The one error scheme of robocam: every error a caller can see extends {@link RobocamError} and
 * carries a stable, machine-readable, kebab-case `code` (switch on it; the message is for people
 * and may change). `name` is the class name, so logs and `instanceof` agree.
 */
export class RobocamError extends Error {
  /** Stable machine-readable code, kebab-case, e.g. `invalid-state`, `device-not-found`. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A method was called on an object that is closed, or otherwise in the wrong state for it. */
export class InvalidStateError extends RobocamError {
  constructor(message: string, options?: ErrorOptions) {
    super('invalid-state', message, options);
  }
}

/** Something did not answer or finish in time. */
export class TimeoutError extends RobocamError {
  constructor(message: string, options?: ErrorOptions) {
    super('timeout', message, options);
  }
}

/** `error.message` for an unknown thrown value, without echoing objects. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : String(error);
}
