import { describe, expect, it } from '@jest/globals';
import { DropOldestQueue } from '../src/drop-oldest-queue.js';

describe('DropOldestQueue', () => {
  it('keeps at most its capacity, evicting and counting the oldest', () => {
    const released: number[] = [];
    const queue = new DropOldestQueue<number>(1, (item) => released.push(item));
    expect(queue.push(1)).toBeUndefined();
    expect(queue.push(2)).toBe(1);
    expect(queue.push(3)).toBe(2);
    expect(queue.size).toBe(1);
    expect(queue.dropped).toBe(2);
    expect(released).toEqual([1, 2]);
    expect(queue.shift()).toBe(3);
    expect(queue.shift()).toBeUndefined();
  });

  it('a slow consumer of a fast producer sees the latest items only, memory stays bounded', () => {
    const queue = new DropOldestQueue<number>(2);
    for (let frame = 0; frame < 1000; frame += 1) queue.push(frame);
    expect(queue.size).toBe(2);
    expect(queue.dropped).toBe(998);
    expect([queue.shift(), queue.shift()]).toEqual([998, 999]);
  });

  it('clear releases waiting items without counting them as dropped', () => {
    const released: string[] = [];
    const queue = new DropOldestQueue<string>(3, (item) => released.push(item));
    queue.push('a');
    queue.push('b');
    queue.clear();
    expect(released).toEqual(['a', 'b']);
    expect(queue.dropped).toBe(0);
    expect(queue.size).toBe(0);
  });

  it('rejects capacities below 1', () => {
    expect(() => new DropOldestQueue(0)).toThrow(RangeError);
  });
});
