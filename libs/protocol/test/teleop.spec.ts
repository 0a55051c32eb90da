import { describe, expect, it } from '@jest/globals';
import { TELEOP_LIMITS, parseCommand, parseSenderEvent, parseViewerEvent } from '../src/index.js';

describe('teleop messages', () => {
  it('parses a command with its sequence, send time and payload', () => {
    const result = parseCommand(
      JSON.stringify({ seq: 3, sentAt: 1_700_000_000_000, data: { linear: { x: 0.5 } } }),
    );
    expect(result).toEqual({
      ok: true,
      message: { seq: 3, sentAt: 1_700_000_000_000, data: { linear: { x: 0.5 } } },
    });
  });

  it.each([
    ['binary', new Uint8Array([1, 2]), 'binary-not-supported'],
    ['not JSON', '{seq', 'bad-json'],
    ['a payload that is not an object', JSON.stringify({ seq: 1, sentAt: 0, data: [1] }), 'bad-message'],
    ['a fractional sequence number', JSON.stringify({ seq: 1.5, sentAt: 0, data: {} }), 'bad-message'],
    ['sequence number 0', JSON.stringify({ seq: 0, sentAt: 0, data: {} }), 'bad-message'],
    ['no send time', JSON.stringify({ seq: 1, data: {} }), 'bad-message'],
    [
      'more than the size limit',
      JSON.stringify({ seq: 1, sentAt: 0, data: { pad: 'x'.repeat(1100) } }),
      'too-large',
    ],
    // Multi-byte text is measured in bytes, not characters.
    [
      'multi-byte text over the limit',
      JSON.stringify({ seq: 1, sentAt: 0, data: { pad: '€'.repeat(400) } }),
      'too-large',
    ],
  ])('rejects %s with a code', (_what, raw, code) => {
    const result = parseCommand(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(code);
  });

  it('parses the viewer’s events and rejects the sender’s own', () => {
    expect(
      parseViewerEvent(JSON.stringify({ type: 'hello', client: 'abcdefghijklmnop', name: 'ops laptop' })).ok,
    ).toBe(true);
    expect(parseViewerEvent(JSON.stringify({ type: 'lease-request', token: 'secret' })).ok).toBe(true);
    expect(parseViewerEvent(JSON.stringify({ type: 'event', data: { light: true } })).ok).toBe(true);
    expect(parseViewerEvent(JSON.stringify({ type: 'telemetry', at: 0, data: {} })).ok).toBe(false);
    expect(parseViewerEvent(JSON.stringify({ type: 'hello', client: 'short' })).ok).toBe(false);
    expect(
      parseViewerEvent(JSON.stringify({ type: 'hello', client: 'abcdefghijklmnop', name: '<b>x</b>' })).ok,
    ).toBe(false);
    const big = parseViewerEvent(
      JSON.stringify({ type: 'event', data: { pad: 'x'.repeat(TELEOP_LIMITS.maxEventBytes) } }),
    );
    expect(big.ok ? undefined : big.error.code).toBe('too-large');
  });

  it('parses the sender’s events as the page receives them', () => {
    const lease = parseSenderEvent(
      JSON.stringify({
        type: 'lease',
        holder: { name: 'alice', viewer: 'p1', you: false, since: 1 },
        tokenRequired: true,
      }),
    );
    expect(lease.ok && lease.message.type === 'lease' ? lease.message.holder?.name : undefined).toBe('alice');
    expect(parseSenderEvent(JSON.stringify({ type: 'stop', reason: 'deadman' })).ok).toBe(true);
    expect(parseSenderEvent(JSON.stringify({ type: 'stop', reason: 'bored' })).ok).toBe(false);
  });
});
