import type { z } from 'zod';
import { ProtocolError } from './errors.js';
import type { ClientMessage, ServerMessage } from './messages.js';
import { clientMessageSchema, LIMITS, serverMessageSchema } from './schemas.js';

/** The outcome of parsing untrusted input: never an exception. */
export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: ProtocolError };

/** What a WebSocket can deliver: text, or binary in one of its runtime shapes. */
export type RawMessage = string | ArrayBuffer | ArrayBufferView | readonly ArrayBufferView[];

/**
 * Parses a message a client sent (what the server receives). Never throws, whatever `raw` holds:
 * hostile input becomes `{ ok: false, error }` with a code naming what was wrong.
 */
export function parseClientMessage(raw: RawMessage): ParseResult<ClientMessage> {
  return parseWith(clientMessageSchema, raw);
}

/** Parses a message the server sent (what a viewer or sender receives). Never throws. */
export function parseServerMessage(raw: RawMessage): ParseResult<ServerMessage> {
  return parseWith(serverMessageSchema, raw);
}

/** Serializes a message; the inverse of the parse functions. */
export function encodeMessage(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message);
}

function parseWith<S extends z.ZodType>(schema: S, raw: RawMessage): ParseResult<z.infer<S>> {
  if (typeof raw !== 'string') {
    return fail('binary-not-supported', 'binary messages are not part of the protocol; send JSON text');
  }
  if (raw.length > LIMITS.maxMessageBytes) {
    return fail('too-large', `message exceeds ${LIMITS.maxMessageBytes} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail('bad-json', 'message is not valid JSON');
  }
  const ref = messageIdOf(value);
  const result = schema.safeParse(value);
  if (!result.success) {
    return fail('bad-message', describeIssues(result.error), ref);
  }
  return { ok: true, message: result.data };
}

function fail(
  code: ProtocolError['code'],
  message: string,
  ref?: string,
): { ok: false; error: ProtocolError } {
  return { ok: false, error: new ProtocolError(code, message, ref) };
}

/** Echoing the offending message's id lets a client match the error to its request. */
function messageIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || !('id' in value)) return undefined;
  const id = value.id;
  return typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : undefined;
}

function describeIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(message)';
    return `${path}: ${issue.message}`;
  });
  // Issue messages quote schema facts, never the input, so hostile payloads are not reflected back.
  return `invalid message: ${issues.join('; ')}${error.issues.length > 3 ? '; …' : ''}`;
}
