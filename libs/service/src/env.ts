import { RobocamError } from '@robocam/types';
import { z } from 'zod';

/** pino's levels, accepted by `LOG_LEVEL`: `fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`. */
export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** A level of {@link logLevelSchema}, ready for `pino({ level })`. */
export type LogLevel = z.infer<typeof logLevelSchema>;

/** A TCP/UDP port from an environment string: an integer 0–65535 (0 lets the OS choose). */
export const portSchema = z.coerce.number().int().min(0).max(65535);

/**
 * A comma-separated list from an environment string: items trimmed, empty items dropped
 * (`' a, b,,c '` → `['a', 'b', 'c']`).
 */
export const listSchema = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

/**
 * Thrown for invalid environment (code `invalid-configuration`); the message names each bad
 * variable and what it accepts. {@link exitOnConfigError} turns it into exit code 2.
 */
export class ConfigError extends RobocamError {
  declare readonly code: 'invalid-configuration';

  constructor(message: string, options?: ErrorOptions) {
    super('invalid-configuration', message, options);
  }
}

/**
 * Parses environment variables with a zod object schema (one key per variable) and returns the
 * typed result. Empty variables count as unset, so their defaults apply.
 *
 * @throws {@link ConfigError} naming every bad variable with its value and the reason, one a line:
 *   `invalid configuration:\n  PORT="eighty": Invalid input: expected number, received NaN`.
 */
export function readEnv<Schema extends z.ZodType>(
  schema: Schema,
  env: Readonly<Record<string, string | undefined>>,
): z.output<Schema> {
  // Empty strings mean "unset" (compose files often pass VAR= through).
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      if (issue.path.length === 0) return issue.message;
      const name = String(issue.path[0]);
      return `${name}=${JSON.stringify(present[name] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}
