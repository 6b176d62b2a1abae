/**
 * The HTTP transport against real loopback HTTP servers: what it sends
 * (envelope, gzip, headers), how it reads every kind of answer (the
 * collector's statuses and Retry-After in both forms), and network
 * failures. The collector itself is exercised in delivery.int.test.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { HttpTransport, TidemarkClient, type QueueEntry } from '../src';
import { closedPort } from '@tidemark/test-support';

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: { sent_at: number; batch: Record<string, unknown>[] };
}

/** A loopback server answering from a script (status, headers, body) per request; records what it got. */
async function scripted(
  answer: (seen: Seen, n: number) => { status: number; headers?: Record<string, string>; body?: string } | 'hang',
): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const text = req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw).toString() : raw.toString();
      const s: Seen = { url: req.url ?? '', headers: req.headers, body: JSON.parse(text) as Seen['body'] };
      seen.push(s);
      const a = answer(s, seen.length);
      if (a === 'hang') return;
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? '{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const entries = (n: number): QueueEntry[] =>
  Array.from({ length: n }, (_, i) => ({ json: JSON.stringify({ name: 'e', properties: { i } }), key: `k${i}`, size: 10, seq: i + 1 }));
const never = new AbortController().signal;

test('sends a gzip envelope with sent_at, the key, and the SDK user agent; reads the row rule answer', async () => {
  const s = await scripted(() => ({ status: 200, body: JSON.stringify({ accepted: 2, rejected: [{ index: 1, reason: 'name: too long' }], warnings: 0 }) }));
  const t = new HttpTransport({ endpoint: `${s.url}/base/`, apiKey: 'tm_key' });
  try {
    const before = Date.now();
    const out = await t.send('events', entries(3), never);
    expect(out).toEqual({ kind: 'ok', rejected: [{ index: 1, reason: 'name: too long' }] });
    const got = s.seen[0]!;
    expect(got.url).toBe('/base/v1/events');
    expect(got.headers).toMatchObject({
      authorization: 'Bearer tm_key',
      'content-encoding': 'gzip',
      'content-type': 'application/json',
      'user-agent': 'tidemark-sdk-node/0.1.0',
    });
    expect(got.body.batch).toEqual([0, 1, 2].map((i) => ({ name: 'e', properties: { i } })));
    expect(got.body.sent_at).toBeGreaterThanOrEqual(before);
    expect(got.headers.connection).toBe('keep-alive');
  } finally {
    await t.close();
    await s.close();
  }
});

test('every status is read the way the collector means it', async () => {
  const date = new Date(Date.now() + 3_000).toUTCString();
  const cases: [number, Record<string, string>, string, number | undefined][] = [
    [500, {}, 'retry', undefined],
    [502, {}, 'retry', undefined],
    [503, { 'retry-after': '2' }, 'retry', 2_000],
    [429, { 'retry-after': '1' }, 'retry', 1_000],
    [429, { 'retry-after': date }, 'retry', -1],
    [408, {}, 'retry', undefined],
    [400, {}, 'fail', undefined],
    [401, {}, 'fail', undefined],
    [403, {}, 'fail', undefined],
    [404, {}, 'fail', undefined],
    [413, {}, 'too_large', undefined],
  ];
  let i = 0;
  const s = await scripted(() => {
    const [status, headers] = cases[i++]!;
    return { status, headers, body: JSON.stringify({ error: { code: 'X', message: `answer ${status}`, retriable: status >= 500, context: {} } }) };
  });
  const t = new HttpTransport({ endpoint: s.url, apiKey: 'k', gzip: false });
  try {
    for (const [status, , kind, retryAfter] of cases) {
      const out = await t.send('metrics', entries(1), never);
      expect([status, out.kind]).toEqual([status, kind]);
      if (out.kind !== 'ok') {
        expect(out.error.message).toContain(`answer ${status}`);
        expect('status' in out ? out.status : undefined).toBe(status);
      }
      if (retryAfter === -1) expect(out.kind === 'retry' && out.retryAfterMs! > 1_000 && out.retryAfterMs! <= 3_000).toBe(true);
      else if (out.kind === 'retry') expect(out.retryAfterMs).toBe(retryAfter);
    }
    expect(s.seen[0]!.headers['content-encoding']).toBeUndefined();
  } finally {
    await t.close();
    await s.close();
  }
});

test('a refused connection and an answer that never comes are retriable', async () => {
  const s = await scripted(() => 'hang');
  const refused = new HttpTransport({ endpoint: `http://127.0.0.1:${await closedPort()}`, apiKey: 'k' });
  const hanging = new HttpTransport({ endpoint: s.url, apiKey: 'k' });
  try {
    const a = await refused.send('logs', entries(1), never);
    expect(a.kind).toBe('retry');
    expect(a.kind === 'retry' && a.error.message).toMatch(/ECONNREFUSED/);
    const t0 = Date.now();
    const b = await hanging.send('logs', entries(1), AbortSignal.timeout(200));
    expect(b.kind).toBe('retry');
    expect(b.kind === 'retry' && b.error.message).toMatch(/aborted/);
    expect(Date.now() - t0).toBeLessThan(1_000);
  } finally {
    await refused.close();
    await hanging.close();
    await s.close();
  }
});

test('through the client: a 413 splits the batch until it fits, a 500 is resent, each item arrives once', async () => {
  let failedOnce = -1;
  const s = await scripted((seen, n) => {
    if (seen.body.batch.length > 4) return { status: 413, body: '{"error":{"message":"too big"}}' };
    if (failedOnce === -1) {
      failedOnce = n - 1;
      return { status: 500 };
    }
    return { status: 200, body: JSON.stringify({ accepted: seen.body.batch.length, rejected: [] }) };
  });
  const client = new TidemarkClient({
    endpoint: s.url,
    apiKey: 'k',
    flushIntervalMs: 10,
    maxConcurrentRequests: 1,
    metricsIntervalMs: 0,
    flushOnExit: false,
    retry: { initialDelayMs: 10, maxDelayMs: 50 },
  });
  try {
    for (let i = 0; i < 20; i++) client.track('split', { i });
    expect(await client.flush({ timeoutMs: 5_000 })).toBe(true);
    const delivered = s.seen
      .filter((x, idx) => x.body.batch.length <= 4 && idx !== failedOnce)
      .flatMap((x) => x.body.batch.map((e) => (e.properties as { i: number }).i));
    expect(delivered).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(client.stats().events).toMatchObject({ sent: 20, rejected: 0, retries: 1 });
  } finally {
    await client.shutdown(500);
    await s.close();
  }
});

test('a collector that stops (503 + Connection: close, then gone): the busy client keeps every refused event and delivers it to the next collector once', async () => {
  const { createGracefulServer, createLogger, Lifecycle } = await import('@tidemark/core');
  const logger = createLogger({ level: 'silent' });
  /** A collector as the platform runs it: the graceful server of core's lifecycle; accepted event ids by collector. */
  const collector = async (port: number, accepted: Set<string>) => {
    const lifecycle = new Lifecycle(logger, 5_000);
    const server = createGracefulServer(
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = JSON.parse(zlib.gunzipSync(Buffer.concat(chunks)).toString()) as { batch: { event_id: string }[] };
          // Answered after a few ms, like a sink making rows durable: requests are in flight at the signal.
          setTimeout(() => {
            for (const e of body.batch) accepted.add(e.event_id);
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ accepted: body.batch.length, rejected: [] }));
          }, 5);
        });
      },
      { name: 'collector', lifecycle, logger },
    );
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    return { port: (server.address() as AddressInfo).port, lifecycle };
  };
  const first = new Set<string>();
  const second = new Set<string>();
  const a = await collector(0, first);
  const statuses: (number | undefined)[] = [];
  const client = new TidemarkClient({
    endpoint: `http://127.0.0.1:${a.port}`,
    apiKey: 'k',
    flushIntervalMs: 5,
    maxBatchSize: 10,
    metricsIntervalMs: 0,
    flushOnExit: false,
    retry: { initialDelayMs: 20, maxDelayMs: 200 },
    onError: (e) => statuses.push(e.status),
  });
  const ids: string[] = [];
  const producer = setInterval(() => {
    for (let i = 0; i < 5; i++) ids.push(client.track('handover', { i: ids.length })!);
  }, 2);
  try {
    while (first.size < 100) await new Promise((r) => setTimeout(r, 5));
    await a.lifecycle.stop('test');
    // The client reads the last answers a moment after the server let go of their sockets.
    for (let i = 0; i < 100 && !statuses.includes(503); i++) await new Promise((r) => setTimeout(r, 10));
    expect(statuses).toContain(503);
    const acknowledgedBefore = client.stats().events.sent;
    // The port is free: the next collector takes it, and everything held arrives there.
    const b = await collector(a.port, second);
    await new Promise((r) => setTimeout(r, 50));
    clearInterval(producer);
    expect(await client.flush({ timeoutMs: 10_000 })).toBe(true);
    const st = client.stats().events;
    expect(st).toMatchObject({ sent: ids.length, dropped: 0, failed: 0, rejected: 0, queued: 0, inflight: 0 });
    expect(first.size).toBe(acknowledgedBefore);
    // Each event landed on exactly one collector: none refused with 503 was taken, none lost.
    expect([...first].filter((id) => second.has(id))).toEqual([]);
    expect(new Set([...first, ...second])).toEqual(new Set(ids));
    await b.lifecycle.stop('test');
  } finally {
    clearInterval(producer);
    await client.shutdown(200);
  }
});
