/**
 * A bounded queue that never blocks the producer: when full, pushing evicts the oldest item
 * ("latest frame wins"). The camera keeps one captured packet waiting while the previous one is
 * converted; a slow consumer therefore costs dropped frames, never latency or memory.
 */
export class DropOldestQueue<T> {
  readonly capacity: number;
  readonly #items: T[] = [];
  readonly #onDrop: ((item: T) => void) | undefined;
  #dropped = 0;

  /**
   * @param capacity Items kept at most (≥ 1).
   * @param onDrop Called with each evicted item (e.g. to release its buffer).
   */
  constructor(capacity: number, onDrop?: (item: T) => void) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`queue capacity must be an integer ≥ 1, got ${capacity}`);
    this.capacity = capacity;
    this.#onDrop = onDrop;
  }

  /** Items waiting. */
  get size(): number {
    return this.#items.length;
  }

  /** Items evicted so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Adds `item`; when full, evicts and returns the oldest (after passing it to `onDrop`). */
  push(item: T): T | undefined {
    this.#items.push(item);
    if (this.#items.length <= this.capacity) return undefined;
    const evicted = this.#items.shift() as T;
    this.#dropped += 1;
    this.#onDrop?.(evicted);
    return evicted;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    return this.#items.shift();
  }

  /** Removes every item, passing each to `onDrop` (not counted as dropped). */
  clear(): void {
    for (const item of this.#items.splice(0)) this.#onDrop?.(item);
  }
}
