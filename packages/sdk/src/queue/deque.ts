/**
 * A fixed-capacity double-ended queue on a ring buffer: O(1) push at the
 * back, shift and unshift at the front, no array copying. The pipeline
 * pushes new items at the back, takes batches from the front, and puts a
 * failed batch back at the front so order is kept across retries.
 */
export class Deque<T> {
  private readonly buf: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`deque capacity must be a positive integer, got ${capacity}`);
    this.buf = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Adds at the back; false (and nothing changes) when full. */
  push(item: T): boolean {
    if (this.count === this.capacity) return false;
    this.buf[(this.head + this.count) % this.capacity] = item;
    this.count++;
    return true;
  }

  /** Adds at the front; false when full. */
  unshift(item: T): boolean {
    if (this.count === this.capacity) return false;
    this.head = (this.head - 1 + this.capacity) % this.capacity;
    this.buf[this.head] = item;
    this.count++;
    return true;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return item;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.buf[this.head];
  }

  /** Removes everything and returns it, front first. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }
}
