import { describe, expect, it } from '@jest/globals';
import { RobocamError } from '@robocam/types';
import { WhepError } from '../src/index.js';

describe('WhepError', () => {
  it('is a RobocamError whose code follows the HTTP status', () => {
    const error = new WhepError(503, 'no sender online yet', { 'retry-after': '5' });
    expect(error).toBeInstanceOf(RobocamError);
    expect(error).toMatchObject({
      name: 'WhepError',
      code: 'unavailable',
      status: 503,
      message: 'no sender online yet',
      headers: { 'retry-after': '5' },
    });
    expect(new WhepError(404, 'unknown camera').code).toBe('not-found');
    expect(new WhepError(504, 'late').code).toBe('timeout');
    expect(new WhepError(418, 'odd').code).toBe('internal');
  });
});
