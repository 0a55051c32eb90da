import { describe, expect, it } from '@jest/globals';

import {
  Backoff,
  CloseOnce,
  InvalidStateError,
  RobocamError,
  TimeoutError,
  backoffDelay,
  childLogger,
  errorMessage,
  i420ByteLength,
  silentLogger,
  type Logger,
} from '../src/index.js';

describe('backoff', () => {
  it('grows by the factor up to the ceiling, without jitter', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6].map((attempt) =>
      backoffDelay(attempt, { initialDelayMs: 250, maxDelayMs: 5000, jitter: 0 }),
    );
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });

  it('takes up to `jitter` × the delay off at random', () => {
    expect(backoffDelay(2, { jitter: 0.5 }, () => 0)).toBe(1000);
    expect(backoffDelay(2, { jitter: 0.5 }, () => 1)).toBe(500);
    expect(backoffDelay(2, { jitter: 1 }, () => 0.99)).toBe(10);
  });

  it('counts attempts and starts over after reset()', () => {
    const backoff = new Backoff({ initialDelayMs: 100, jitter: 0 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 200, 400]);
    expect(backoff.attempts).toBe(3);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it('refuses settings that cannot work', () => {
    expect(() => new Backoff({ initialDelayMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialDelayMs: 500, maxDelayMs: 100 })).toThrow(RangeError);
    expect(() => new Backoff({ factor: 0.5 })).toThrow(RangeError);
    expect(() => new Backoff({ jitter: 2 })).toThrow(RangeError);
  });
});

describe('errors', () => {
  it('carry a code and the class name', () => {
    const error = new InvalidStateError('camera is closed');
    expect(error).toBeInstanceOf(RobocamError);
    expect(error.code).toBe('invalid-state');
    expect(error.name).toBe('InvalidStateError');
    expect(new TimeoutError('late').code).toBe('timeout');
    class DeviceBusyError extends RobocamError {}
    expect(new DeviceBusyError('device-busy', 'busy').name).toBe('DeviceBusyError');
  });

  it('errorMessage reads Errors and strings', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(42)).toBe('42');
  });
});

describe('CloseOnce', () => {
  it('runs the teardown once and keeps the first reason', async () => {
    const closer = new CloseOnce<'closed' | 'failed'>();
    let teardowns = 0;
    const first = closer.close({ origin: 'local', code: 'closed', message: 'bye' }, () => {
      teardowns += 1;
    });
    const second = closer.close({ origin: 'failure', code: 'failed', message: 'late' }, () => {
      teardowns += 1;
    });
    expect(closer.closed).toBe(true);
    expect(second).toBe(first);
    await first;
    expect(teardowns).toBe(1);
    expect(closer.info).toEqual({ origin: 'local', code: 'closed', message: 'bye' });
  });

  it('is closed even when the teardown fails', async () => {
    const closer = new CloseOnce();
    await expect(
      closer.close({ origin: 'parent', code: 'parent-closed', message: '' }, () => {
        throw new Error('release failed');
      }),
    ).rejects.toThrow('release failed');
    expect(closer.closed).toBe(true);
  });
});

describe('logger', () => {
  it('childLogger adds bindings once; the line wins on a repeated key', () => {
    const lines: object[] = [];
    const base: Logger = { ...silentLogger, child: undefined, info: (object) => lines.push(object) };
    const log = childLogger(childLogger(base, { camera: 'front' }), { session: 's1' });
    log.info({ camera: 'rear', fps: 30 }, 'started');
    expect(lines).toEqual([{ camera: 'rear', session: 's1', fps: 30 }]);
    expect(Object.keys(lines[0]!)).toHaveLength(3);
  });
});

describe('frames', () => {
  it('i420ByteLength rounds chroma up for odd sizes', () => {
    expect(i420ByteLength(1280, 720)).toBe(1280 * 720 * 1.5);
    expect(i420ByteLength(3, 3)).toBe(9 + 2 * 2 * 2);
  });
});
