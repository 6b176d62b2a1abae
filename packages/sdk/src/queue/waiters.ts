/**
 * The flush() calls of one pipeline waiting for their items to settle. Each
 * waits for every item up to a sequence number; the pipeline calls settle()
 * with the lowest sequence number still unsettled whenever that may have
 * moved (a request answered, an item dropped, shutdown).
 */
export class FlushWaiters {
  private waiters: { seq: number; resolve: (done: boolean) => void }[] = [];

  get size(): number {
    return this.waiters.length;
  }

  /** Resolves `done` once settle() passed `seq`, or false when timeoutMs passed first. Never rejects. */
  wait(seq: number, timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      // Ref'd on purpose: a caller awaiting flush() wants the process to stay up until it is done.
      const timer = setTimeout(
        () => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(false);
        },
        Math.max(0, timeoutMs),
      );
      const waiter = {
        seq,
        resolve: (done: boolean) => {
          clearTimeout(timer);
          resolve(done);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves, with `done`, every waiter whose items all lie below `low` (the oldest unsettled sequence number). */
  settle(low: number, done: boolean): void {
    const settled = this.waiters.filter((w) => w.seq < low);
    if (settled.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.seq >= low);
    for (const w of settled) w.resolve(done);
  }
}
