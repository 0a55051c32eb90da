import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { StopReason } from '@robocam/protocol';
import { ControlLease, type LeaseOwner } from '../../src/teleop/control-lease.js';

// The lease's state machine on jest's fake clock: every timing here is exact.

const alice: LeaseOwner = { client: 'alice-client-0000001', name: 'alice', viewerId: 'v1' };
const bob: LeaseOwner = { client: 'bob-client-000000001', name: 'bob', viewerId: 'v2' };

let stops: { reason: StopReason; owner: string; idleMs: number }[];
let changes: (string | undefined)[];
let lease: ControlLease;

beforeEach(() => {
  jest.useFakeTimers();
  stops = [];
  changes = [];
  lease = new ControlLease(
    { deadmanMs: 500, leaseGraceMs: 2000 },
    {
      stop: (reason, owner, idleMs) => stops.push({ reason, owner: owner.name, idleMs }),
      changed: (owner) => changes.push(owner?.name),
    },
  );
});
afterEach(() => {
  lease.close();
  jest.useRealTimers();
});

describe('ControlLease', () => {
  it('gives the lease to one page at a time', () => {
    expect(lease.acquire(alice)).toBe(true);
    expect(lease.acquire(bob)).toBe(false);
    expect(lease.acquire({ ...alice, viewerId: 'v3' })).toBe(true); // the same page again
    expect(lease.owner?.viewerId).toBe('v3');
    expect(changes).toEqual(['alice']);
    expect(lease.release(bob.client, 'released')).toBe(false);
    expect(lease.release(alice.client, 'released')).toBe(true);
    expect(lease.acquire(bob)).toBe(true);
    expect(changes).toEqual(['alice', undefined, 'bob']);
  });

  it('accepts only the holder’s commands, each newer than the last applied', () => {
    lease.acquire(alice);
    expect(lease.check(bob.client, 1)).toBe('no-lease');
    expect(lease.check(alice.client, 1)).toBe('ok');
    lease.applied(1);
    expect(lease.check(alice.client, 1)).toBe('out-of-order');
    expect(lease.check(alice.client, 3)).toBe('ok');
    lease.applied(3);
    expect(lease.check(alice.client, 2)).toBe('out-of-order');
    // A new lease starts a new sequence.
    lease.release(alice.client, 'released');
    lease.acquire(alice);
    expect(lease.check(alice.client, 1)).toBe('ok');
  });

  it('stops once when commands stop for the deadman interval, and releases after the grace', () => {
    lease.acquire(alice);
    for (let seq = 1; seq <= 10; seq += 1) {
      lease.applied(seq);
      jest.advanceTimersByTime(100); // 10 Hz: the deadman never fires
    }
    expect(stops).toEqual([]);
    jest.advanceTimersByTime(399);
    expect(stops).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(stops).toEqual([{ reason: 'deadman', owner: 'alice', idleMs: 500 }]);
    jest.advanceTimersByTime(1999);
    expect(lease.owner?.name).toBe('alice');
    jest.advanceTimersByTime(1);
    expect(lease.owner).toBeUndefined();
    expect(stops).toHaveLength(1); // expiring after a stop raises no second one
    expect(changes).toEqual(['alice', undefined]);
  });

  it('re-arms after the driver comes back within the grace', () => {
    lease.acquire(alice);
    lease.applied(1);
    jest.advanceTimersByTime(600);
    expect(stops).toHaveLength(1);
    lease.applied(2);
    jest.advanceTimersByTime(3000);
    expect(stops.map((stop) => stop.reason)).toEqual(['deadman', 'deadman']);
    expect(lease.owner).toBeUndefined();
  });

  it('raises no stop for a lease that never moved the robot', () => {
    lease.acquire(alice);
    jest.advanceTimersByTime(2500);
    expect(lease.owner).toBeUndefined();
    expect(stops).toEqual([]);
    lease.acquire(bob);
    lease.release(bob.client, 'released');
    expect(stops).toEqual([]);
  });

  it('stops once when the driver leaves while moving, not again at the deadman', () => {
    lease.acquire(alice);
    lease.applied(1);
    jest.advanceTimersByTime(100);
    lease.release(alice.client, 'disconnected');
    jest.advanceTimersByTime(5000);
    expect(stops).toEqual([{ reason: 'disconnected', owner: 'alice', idleMs: 100 }]);
  });

  it('stops a moving robot when the sender shuts down', () => {
    lease.acquire(alice);
    lease.applied(1);
    lease.close();
    expect(stops.map((stop) => stop.reason)).toEqual(['shutdown']);
  });
});
