import { describe, expect, it } from '@jest/globals';
import { FramePool } from '../src/frame-pool.js';

describe('FramePool', () => {
  it('hands out I420-sized buffers in rotation; a buffer returns after `size` commits', () => {
    const pool = new FramePool(640, 480, 4);
    expect(pool.frameBytes).toBe(460_800);
    const first = pool.current();
    expect(first.byteLength).toBe(460_800);
    expect(pool.current()).toBe(first); // not committed: the same buffer again
    const seen = [first];
    for (let index = 0; index < 3; index += 1) {
      pool.commit();
      seen.push(pool.current());
    }
    expect(new Set(seen).size).toBe(4);
    pool.commit();
    expect(pool.current()).toBe(first);
  });

  it('rejects odd sizes and empty pools', () => {
    expect(() => new FramePool(641, 480, 4)).toThrow(RangeError);
    expect(() => new FramePool(640, 480, 0)).toThrow(RangeError);
  });
});
