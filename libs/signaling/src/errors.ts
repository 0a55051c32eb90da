import { RobocamError } from '@robocam/types';

/** The `code` of a {@link WhepError}, one per HTTP status the WHEP bridge answers with. */
export type WhepErrorCode =
  | 'bad-request'
  | 'unauthorized'
  | 'not-found'
  | 'method-not-allowed'
  | 'precondition-failed'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'precondition-required'
  | 'internal'
  | 'unavailable'
  | 'timeout';

const CODES: Record<number, WhepErrorCode> = {
  400: 'bad-request',
  401: 'unauthorized',
  404: 'not-found',
  405: 'method-not-allowed',
  412: 'precondition-failed',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  428: 'precondition-required',
  500: 'internal',
  503: 'unavailable',
  504: 'timeout',
};

/**
 * A WHEP request that failed: the HTTP `status` it is answered with, a message (the response
 * body) and extra response headers (e.g. `retry-after`, `www-authenticate`). `code` follows the
 * status (`404` → `not-found`, `503` → `unavailable`, `504` → `timeout`).
 */
export class WhepError extends RobocamError {
  declare readonly code: WhepErrorCode;

  constructor(
    /** HTTP status code, e.g. 404. */
    readonly status: number,
    message: string,
    /** Extra response headers, lower-case names. */
    readonly headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(CODES[status] ?? 'internal', message, options);
  }
}
