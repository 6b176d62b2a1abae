import { MicroBatcher } from '../src/sink/batcher';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A flush function whose calls the test completes by hand. */
function manualFlush() {
  const calls: { rows: number[]; done(): void; fail(err: Error): void }[] = [];
  const fn = (rows: number[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ rows, done: resolve, fail: reject });
    });
  return { calls, fn };
}

describe('MicroBatcher', () => {
  test('a trickle waits maxDelayMs and goes out as one insert', async () => {
    const f = manualFlush();
    const b = new MicroBatcher<number>(f.fn, { maxRows: 1000, maxDelayMs: 40, maxPendingRows: 10_000, maxConcurrentFlushes: 2 });
    const p1 = b.add([1]);
    const p2 = b.add([2, 3]);
    await sleep(10);
    expect(f.calls).toHaveLength(0);
    await sleep(60);
    expect(f.calls.map((c) => c.rows)).toEqual([[1, 2, 3]]);
    f.calls[0]!.done();
    await expect(Promise.all([p1, p2])).resolves.toEqual([undefined, undefined]);
  });

  test('maxRows flushes at once; rows that arrive during a flush go out as soon as it ends (group commit), not after the timer', async () => {
    const f = manualFlush();
    const b = new MicroBatcher<number>(f.fn, { maxRows: 3, maxDelayMs: 10_000, maxPendingRows: 10_000, maxConcurrentFlushes: 1 });
    const first = b.add([1, 2, 3]);
    expect(f.calls.map((c) => c.rows)).toEqual([[1, 2, 3]]);
    let secondDone = false;
    const second = b.add([4]).then(() => (secondDone = true));
    b.add([5]).catch(() => undefined);
    expect(f.calls).toHaveLength(1); // one flush at a time
    f.calls[0]!.done();
    await first;
    await sleep(0);
    expect(f.calls.map((c) => c.rows)).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(secondDone).toBe(false); // acknowledged only when its own flush succeeded
    f.calls[1]!.done();
    await second;
    expect(secondDone).toBe(true);
  });

  test('a failed flush rejects exactly the writers whose rows it held', async () => {
    const f = manualFlush();
    const b = new MicroBatcher<number>(f.fn, { maxRows: 2, maxDelayMs: 10_000, maxPendingRows: 10_000, maxConcurrentFlushes: 1 });
    const a = b.add([1, 2]);
    const c = b.add([3]);
    f.calls[0]!.fail(new Error('insert refused'));
    await expect(a).rejects.toThrow('insert refused');
    await sleep(0);
    f.calls[1]!.done();
    await expect(c).resolves.toBeUndefined();
  });

  test('above maxPendingRows new rows are refused with a retriable error; drain waits for what is in flight', async () => {
    const f = manualFlush();
    const b = new MicroBatcher<number>(f.fn, { maxRows: 100, maxDelayMs: 10_000, maxPendingRows: 3, maxConcurrentFlushes: 1 });
    const ok = b.add([1, 2, 3]);
    await expect(b.add([4])).rejects.toMatchObject({ retriable: true, statusCode: 503 });
    let drained = false;
    const d = b.drain().then(() => (drained = true));
    await sleep(0);
    expect(f.calls.map((c) => c.rows)).toEqual([[1, 2, 3]]);
    expect(drained).toBe(false);
    f.calls[0]!.done();
    await Promise.all([ok, d]);
    expect(drained).toBe(true);
  });
});

describe('MicroBatcher isolation (splitIf)', () => {
  class RowRefused extends Error {}
  test('a row-level failure splits the flush by writer: the others land, only the bad writer is rejected', async () => {
    const flushed: number[][] = [];
    // Rows < 0 are "refused by ClickHouse": any insert holding one fails as a whole.
    const fn = async (rows: number[]) => {
      if (rows.some((r) => r < 0)) throw new RowRefused(`refused ${rows.find((r) => r < 0)}`);
      flushed.push(rows);
    };
    const b = new MicroBatcher<number>(fn, {
      maxRows: 1_000,
      maxDelayMs: 5,
      maxPendingRows: 10_000,
      maxConcurrentFlushes: 1,
      splitIf: (e) => e instanceof RowRefused,
    });
    const writers = [[1, 2], [3], [-1, 4], [5, 6, 7], [8]].map((rows) =>
      b.add(rows).then(
        () => 'ok',
        (e: Error) => e.message,
      ),
    );
    expect(await Promise.all(writers)).toEqual(['ok', 'ok', 'refused -1', 'ok', 'ok']);
    expect(flushed.flat().sort((x, y) => x - y)).toEqual([1, 2, 3, 5, 6, 7, 8]);
    // Bisection: far fewer inserts than one per writer would need only when there are many writers; here at most 2n-1.
    expect(flushed.length).toBeLessThanOrEqual(4);
  });

  test('a failure that is not row-level rejects every writer of the flush (no split)', async () => {
    let calls = 0;
    const fn = async () => {
      calls++;
      throw new Error('ClickHouse unreachable');
    };
    const b = new MicroBatcher<number>(fn, {
      maxRows: 1_000,
      maxDelayMs: 5,
      maxPendingRows: 10_000,
      maxConcurrentFlushes: 1,
      splitIf: (e) => e instanceof RowRefused,
    });
    const r = await Promise.allSettled([b.add([1]), b.add([2]), b.add([3])]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(calls).toBe(1);
  });
});
