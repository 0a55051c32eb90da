import { describe, expect, it } from '@jest/globals';
import { RobocamError } from '@robocam/types';
import { z } from 'zod';
import { ConfigError, listSchema, logLevelSchema, portSchema, readEnv } from '../src/index.js';

const schema = z.object({
  PORT: portSchema.default(8080),
  LOG_LEVEL: logLevelSchema.default('info'),
  ORIGINS: listSchema.optional(),
  TOKEN: z.string().min(1).optional(),
});

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('readEnv', () => {
  it('returns the parsed, typed values and ignores other variables', () => {
    const config = readEnv(schema, {
      PORT: '9000',
      LOG_LEVEL: 'debug',
      ORIGINS: ' https://a.example, https://b.example,, ',
      TOKEN: 's3cret',
      PATH: '/usr/bin',
    });
    expect(config).toEqual({
      PORT: 9000,
      LOG_LEVEL: 'debug',
      ORIGINS: ['https://a.example', 'https://b.example'],
      TOKEN: 's3cret',
    });
  });

  it('applies defaults for unset variables', () => {
    expect(readEnv(schema, {})).toEqual({ PORT: 8080, LOG_LEVEL: 'info' });
  });

  it('treats empty strings as unset', () => {
    expect(readEnv(schema, { PORT: '', LOG_LEVEL: '', ORIGINS: '', TOKEN: '' })).toEqual({
      PORT: 8080,
      LOG_LEVEL: 'info',
    });
  });

  it('names every bad variable with its value and the reason, one a line', () => {
    const error = configErrorOf(() =>
      readEnv(schema, { PORT: 'eighty', LOG_LEVEL: 'loud', TOKEN: 'fine', ORIGINS: 'x' }),
    );
    expect(error.name).toBe('ConfigError');
    expect(error).toBeInstanceOf(RobocamError);
    expect(error.code).toBe('invalid-configuration');
    expect(error.message.split('\n')).toEqual([
      'invalid configuration:',
      '  PORT="eighty": Invalid input: expected number, received NaN',
      expect.stringMatching(/^ {2}LOG_LEVEL="loud": Invalid option: expected one of "fatal"\|"error"\|/),
    ]);
  });

  it('rejects ports out of range', () => {
    expect(configErrorOf(() => readEnv(schema, { PORT: '65536' })).message).toMatch(/^ {2}PORT="65536": /m);
    expect(configErrorOf(() => readEnv(schema, { PORT: '80.5' })).message).toMatch(/^ {2}PORT="80.5": /m);
    expect(readEnv(schema, { PORT: '0' }).PORT).toBe(0);
  });

  it('names a missing required variable with an empty value', () => {
    const required = z.object({ SIGNALING_URL: z.string() });
    expect(configErrorOf(() => readEnv(required, { SIGNALING_URL: '' })).message).toBe(
      'invalid configuration:\n  SIGNALING_URL="": Invalid input: expected string, received undefined',
    );
  });

  it('reports a problem of the whole environment without a variable name', () => {
    const paired = z
      .object({ USER: z.string().optional(), PASSWORD: z.string().optional() })
      .refine((e) => (e.USER === undefined) === (e.PASSWORD === undefined), 'set USER and PASSWORD together');
    expect(configErrorOf(() => readEnv(paired, { USER: 'robot' })).message).toBe(
      'invalid configuration:\n  set USER and PASSWORD together',
    );
  });
});
