/**
 * The delivery pipeline's rules, with a transport that answers from a
 * script in memory (the real collector is in delivery.int.test.ts): order
 * across retries, drop-oldest, batching by count/size/time, concurrency,
 * flush and shutdown deadlines.
 */
import { Deque } from '../src/queue/deque';
import { Pipeline, type PipelineOptions } from '../src/queue/pipeline';
import type { QueueEntry, SendOutcome, Transport } from '../src/transport/types';
import type { TidemarkSdkError } from '../src';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class ScriptedTransport implements Transport {
  readonly name = 'scripted';
  readonly batches: number[][] = [];
  inflight = 0;
  maxInflight = 0;
  constructor(private readonly answer: (batch: number[], n: number) => SendOutcome | Promise<SendOutcome>) {}
  async send(_s: 'events' | 'metrics' | 'logs', batch: readonly QueueEntry[], abort: AbortSignal): Promise<SendOutcome> {
    const items = batch.map((e) => (JSON.parse(e.json) as { i: number }).i);
    this.batches.push(items);
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    try {
      const out = await Promise.race([
        Promise.resolve(this.answer(items, this.batches.length)),
        new Promise<SendOutcome>((resolve) => abort.addEventListener('abort', () => resolve({ kind: 'retry', error: new Error('aborted') }), { once: true })),
      ]);
      return out;
    } finally {
      this.inflight--;
    }
  }
  async close(): Promise<void> {}
}

const ok: SendOutcome = { kind: 'ok', rejected: [] };
const down: SendOutcome = { kind: 'retry', error: new Error('ECONNREFUSED') };

function pipeline(t: Transport, opts: Partial<PipelineOptions> = {}, errors: TidemarkSdkError[] = []): Pipeline {
  return new Pipeline(
    'events',
    t,
    {
      maxQueueSize: 100,
      maxBatchSize: 10,
      maxBatchBytes: 1_000_000,
      flushIntervalMs: 20,
      maxConcurrentRequests: 1,
      requestTimeoutMs: 5_000,
      retry: { initialDelayMs: 5, maxDelayMs: 20 },
      ...opts,
    },
    { onError: (e) => errors.push(e) },
  );
}
const put = (p: Pipeline, from: number, to: number) => {
  for (let i = from; i < to; i++) p.enqueue(JSON.stringify({ i }), `k${i}`);
};
const delivered = (t: ScriptedTransport, okBatches: (n: number) => boolean) => t.batches.filter((_, idx) => okBatches(idx + 1)).flat();

test('Deque: ring buffer push/shift/unshift at capacity', () => {
  const d = new Deque<number>(3);
  expect([d.push(1), d.push(2), d.push(3), d.push(4)]).toEqual([true, true, true, false]);
  expect(d.shift()).toBe(1);
  expect(d.unshift(0)).toBe(true);
  expect(d.full).toBe(true);
  expect(d.drain()).toEqual([0, 2, 3]);
  expect(d.length).toBe(0);
  expect(() => new Deque(0)).toThrow(RangeError);
});

test('a failed batch goes back to the front: order is kept across retries', async () => {
  const t = new ScriptedTransport((_b, n) => (n <= 3 ? down : ok));
  const p = pipeline(t);
  put(p, 0, 25);
  expect(await p.flush(2_000)).toBe(true);
  expect(delivered(t, (n) => n > 3)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  expect(p.stats()).toMatchObject({ sent: 25, retries: 3, queued: 0, inflight: 0 });
  expect(t.batches.slice(0, 3)).toEqual([
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  ]);
});

test('a full queue drops the oldest and counts them; what is kept is the newest', async () => {
  let up = false;
  const t = new ScriptedTransport(() => (up ? ok : down));
  const errors: TidemarkSdkError[] = [];
  const p = pipeline(t, { maxQueueSize: 50 }, errors);
  put(p, 0, 10);
  await sleep(60); // a request failed; the batch is back in the queue
  put(p, 10, 130);
  expect(p.stats()).toMatchObject({ queued: 50, dropped: 80 });
  // The first drop is reported at once; the other 79 of the same second wait for the period's report.
  expect(errors.filter((e) => e.code === 'QUEUE_FULL').map((e) => e.items)).toEqual([1]);
  up = true;
  expect(await p.flush(2_000)).toBe(true);
  expect(delivered(t, () => true).slice(-50)).toEqual(Array.from({ length: 50 }, (_, i) => 80 + i));
  expect(p.stats()).toMatchObject({ sent: 50, dropped: 80 });
  // flush() reported the rest: every drop is in a report.
  expect(errors.filter((e) => e.code === 'QUEUE_FULL').map((e) => e.items)).toEqual([1, 79]);
});

test('every drop is reported: at most one report a second, the pending ones at the end of the second and at shutdown', async () => {
  const t = new ScriptedTransport(() => down);
  const errors: TidemarkSdkError[] = [];
  const p = pipeline(t, { maxQueueSize: 10, retry: { initialDelayMs: 10_000, maxDelayMs: 10_000 } }, errors);
  const reported = () => errors.filter((e) => e.code === 'QUEUE_FULL').reduce((n, e) => n + e.items, 0);
  put(p, 0, 810); // 800 dropped within a few ms
  expect(p.stats().dropped).toBe(800);
  expect(errors.filter((e) => e.code === 'QUEUE_FULL')).toHaveLength(1);
  // No flush, no further drop: the period's timer reports the 799 others.
  await sleep(1_150);
  expect(errors.filter((e) => e.code === 'QUEUE_FULL').map((e) => e.items)).toEqual([1, 799]);
  // Drops right before shutdown, inside the next period, are in shutdown's report.
  put(p, 810, 830);
  expect(reported()).toBeLessThan(820);
  await p.shutdown(Date.now() + 50);
  expect(p.stats().dropped).toBe(820);
  expect(reported()).toBe(820);
  expect(errors.filter((e) => e.code === 'QUEUE_FULL').length).toBeLessThanOrEqual(3);
});

test('batches by count, by size, and by time', async () => {
  const t = new ScriptedTransport(() => ok);
  const p = pipeline(t, { maxBatchSize: 4, maxBatchBytes: 30, flushIntervalMs: 150, maxConcurrentRequests: 4 });
  put(p, 0, 3); // 3 items of 7 characters: under both bounds, so the timer sends them
  await sleep(50);
  expect(t.batches).toEqual([]);
  await sleep(200);
  expect(t.batches).toEqual([[0, 1, 2]]);
  put(p, 10, 18); // "{"i":10}" is 8 characters: 3 fit under 30, a 4th would not
  await sleep(20);
  expect(t.batches.slice(1)).toEqual([
    [10, 11, 12],
    [13, 14, 15],
  ]);
  expect(await p.flush(1_000)).toBe(true);
  expect(t.batches.slice(3)).toEqual([[16, 17]]);
});

test('concurrent requests stay within maxConcurrentRequests', async () => {
  const t = new ScriptedTransport(async () => {
    await sleep(20);
    return ok;
  });
  const p = pipeline(t, { maxConcurrentRequests: 3, maxBatchSize: 5, maxQueueSize: 1_000 });
  put(p, 0, 100);
  expect(await p.flush(5_000)).toBe(true);
  expect(t.maxInflight).toBe(3);
  expect(p.stats().sent).toBe(100);
});

test('flush() reports false at its timeout while the receiver is away, and true once it is back', async () => {
  let up = false;
  const t = new ScriptedTransport(() => (up ? ok : down));
  const p = pipeline(t);
  put(p, 0, 5);
  const t0 = Date.now();
  expect(await p.flush(150)).toBe(false);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  up = true;
  expect(await p.flush(1_000)).toBe(true);
});

test('shutdown stops taking items, and at its deadline aborts what is out and counts the rest as failed', async () => {
  const t = new ScriptedTransport(() => new Promise<SendOutcome>(() => undefined)); // never answers
  const errors: TidemarkSdkError[] = [];
  const p = pipeline(t, { maxBatchSize: 10 }, errors);
  put(p, 0, 15);
  await sleep(40);
  const t0 = Date.now();
  await p.shutdown(Date.now() + 300);
  expect(Date.now() - t0).toBeLessThan(400);
  expect(p.stats()).toMatchObject({ sent: 0, failed: 15, queued: 0, inflight: 0 });
  expect(errors.filter((e) => e.code === 'GAVE_UP').map((e) => e.items)).toEqual([15]);
  expect(p.enqueue('{"i":99}', 'k')).toBeUndefined();
  expect(errors.at(-1)?.code).toBe('SHUT_DOWN');
});

test('refusals are not retried; rejected rows of an accepted batch are counted', async () => {
  const t = new ScriptedTransport((_b, n) =>
    n === 1 ? { kind: 'fail', error: new Error('401'), status: 401 } : { kind: 'ok', rejected: [{ index: 0, reason: 'bad' }] },
  );
  const errors: TidemarkSdkError[] = [];
  const p = pipeline(t, { maxBatchSize: 3 }, errors);
  put(p, 0, 6);
  expect(await p.flush(1_000)).toBe(true);
  expect(t.batches).toEqual([
    [0, 1, 2],
    [3, 4, 5],
  ]);
  expect(p.stats()).toMatchObject({ sent: 2, rejected: 4, retries: 0 });
  expect(errors.map((e) => [e.code, e.items, e.status])).toEqual([
    ['REJECTED', 3, 401],
    ['REJECTED', 1, 200],
  ]);
});
