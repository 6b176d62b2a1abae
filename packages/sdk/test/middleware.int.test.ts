/**
 * The Koa and Express middleware in real apps on loopback: every request is
 * recorded by route template (never the raw path), status and duration,
 * as metrics that reach ClickHouse through the real collector, and as one
 * pino log line each.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Router from '@koa/router';
import express from 'express';
import Koa from 'koa';
import pino from 'pino';
import { expressMiddleware, koaMiddleware, TidemarkClient } from '../src';
import { sleep, startCollector, startStack, type Collector, type Stack } from './harness';

let stack: Stack;
let collector: Collector;

beforeAll(async () => {
  stack = await startStack();
  collector = await startCollector(stack);
});

afterAll(async () => {
  await collector?.close();
  await stack?.close();
});

/** A real pino logger whose lines are kept for the assertions. */
function memoryLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, dest), lines };
}

async function listen(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function request(url: string, method = 'GET', abortAfterMs?: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(url, { method }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(-1));
    if (abortAfterMs !== undefined) setTimeout(() => req.destroy(), abortAfterMs);
    req.end();
  });
}

/** Latest total of each http_requests_total series and the number of duration samples, per service. */
async function recorded(service: string): Promise<{ requests: Record<string, number>; durations: Record<string, number> }> {
  const totals = await stack.rows<{ k: string; v: number }>(
    `SELECT concat(labels['method'], ' ', labels['route'], ' ', labels['status']) AS k, argMax(value, timestamp) AS v
     FROM metrics_raw_v1 WHERE name = 'http_requests_total' AND labels['service'] = {s:String} GROUP BY k ORDER BY k`,
    { s: service },
  );
  const durations = await stack.rows<{ k: string; v: string }>(
    `SELECT concat(labels['method'], ' ', labels['route'], ' ', labels['status']) AS k, count() AS v
     FROM metrics_raw_v1 WHERE name = 'http_request_duration_ms' AND labels['service'] = {s:String} AND value >= 0 GROUP BY k ORDER BY k`,
    { s: service },
  );
  return { requests: Object.fromEntries(totals.map((r) => [r.k, r.v])), durations: Object.fromEntries(durations.map((r) => [r.k, Number(r.v)])) };
}

test('Koa: route templates, statuses (thrown errors, 404s, clients that went away) and durations are recorded and logged', async () => {
  const client = new TidemarkClient({ endpoint: collector.url, apiKey: stack.keys.ingest, flushIntervalMs: 100, metricsIntervalMs: 0, flushOnExit: false });
  const { logger, lines } = memoryLogger();
  const app = new Koa();
  app.silent = true; // Koa would print the thrown error to stderr; the middleware logs it instead.
  const router = new Router({ prefix: '/api' });
  router.get('/users/:id', (ctx) => {
    ctx.body = { id: ctx.params.id };
  });
  router.get('/boom', () => {
    throw new Error('boom');
  });
  router.post('/items', (ctx) => {
    ctx.status = 201;
  });
  router.get('/slow', async (ctx) => {
    await sleep(400);
    ctx.body = 'late';
  });
  app.use(koaMiddleware(client, { logger, service: 'shop-koa', ignore: (p) => p === '/health' }));
  app.use(router.routes());
  app.use((ctx) => {
    if (ctx.path === '/health') ctx.body = 'ok';
  });
  const server = await listen(app.callback());
  try {
    expect(await Promise.all([1, 2, 3].map((id) => request(`${server.url}/api/users/${id}?q=${id}`)))).toEqual([200, 200, 200]);
    expect(await request(`${server.url}/api/boom`)).toBe(500);
    expect(await request(`${server.url}/api/items`, 'POST')).toBe(201);
    expect(await request(`${server.url}/no/such/page`)).toBe(404);
    expect(await request(`${server.url}/health`)).toBe(200);
    expect(await request(`${server.url}/api/slow`, 'GET', 50)).toBe(-1);
    await sleep(100);
    expect(await client.flush({ timeoutMs: 10_000 })).toBe(true);
    const r = await recorded('shop-koa');
    expect(r.requests).toEqual({
      'GET /api/boom 500': 1,
      'GET /api/slow 499': 1,
      'GET /api/users/:id 200': 3,
      'GET unmatched 404': 1,
      'POST /api/items 201': 1,
    });
    expect(r.durations).toEqual(r.requests);
    expect(lines).toHaveLength(7);
    const boom = lines.find((l) => l.path === '/api/boom')!;
    expect(boom).toMatchObject({
      level: 50,
      msg: 'request completed',
      method: 'GET',
      route: '/api/boom',
      status_code: 500,
      service: 'shop-koa',
      client_ip: expect.stringContaining('127.0.0.1'),
    });
    expect((boom.err as { message: string }).message).toBe('boom');
    expect(lines.find((l) => l.path === '/no/such/page')).toMatchObject({ level: 40, status_code: 404, route: 'unmatched' });
    const user = lines.find((l) => l.path === '/api/users/2')!;
    expect(user).toMatchObject({ level: 30, status_code: 200, route: '/api/users/:id' });
    expect(typeof user.duration_ms).toBe('number');
  } finally {
    await server.close();
    await client.shutdown(2_000);
  }
});

test('Express: route templates through routers, statuses and durations are recorded and logged', async () => {
  const client = new TidemarkClient({ endpoint: collector.url, apiKey: stack.keys.ingest, flushIntervalMs: 100, metricsIntervalMs: 0, flushOnExit: false });
  const { logger, lines } = memoryLogger();
  const app = express();
  app.use(expressMiddleware(client, { logger, service: 'shop-express' }));
  const api = express.Router();
  api.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  api.get('/boom', () => {
    throw new Error('boom');
  });
  // An async handler that rejects, and a middleware that passes an error to next().
  api.get('/async-boom', async () => {
    await new Promise((r) => setTimeout(r, 5));
    throw Object.assign(new Error('async boom'), { status: 503 });
  });
  api.use('/next-boom', (_req, _res, next) => next(new Error('next boom')));
  app.use('/api', api);
  app.use((err: Error & { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err.status ?? 500).json({ error: err.message });
  });
  const server = await listen(app);
  try {
    expect(await Promise.all([1, 2].map((id) => request(`${server.url}/api/users/${id}`)))).toEqual([200, 200]);
    expect(await request(`${server.url}/api/boom`)).toBe(500);
    expect(await request(`${server.url}/api/async-boom`)).toBe(503);
    expect(await request(`${server.url}/api/next-boom`)).toBe(500);
    expect(await request(`${server.url}/missing`)).toBe(404);
    expect(await client.flush({ timeoutMs: 10_000 })).toBe(true);
    const r = await recorded('shop-express');
    expect(r.requests).toEqual({
      'GET /api/async-boom 503': 1,
      'GET /api/boom 500': 1,
      'GET /api/users/:id 200': 2,
      'GET unmatched 404': 1,
      'GET unmatched 500': 1,
    });
    expect(r.durations).toEqual(r.requests);
    expect(lines.map((l) => [l.path, l.route, l.status_code, l.level])).toEqual(
      expect.arrayContaining([
        ['/api/users/1', '/api/users/:id', 200, 30],
        ['/api/users/2', '/api/users/:id', 200, 30],
        ['/api/boom', '/api/boom', 500, 50],
        ['/api/async-boom', '/api/async-boom', 503, 50],
        ['/api/next-boom', 'unmatched', 500, 50],
        ['/missing', 'unmatched', 404, 40],
      ]),
    );
    expect(lines).toHaveLength(6);
    // The error of a failed handler is in its line (pino's err serializer: type, message, stack); none elsewhere.
    const errOf = (path: string) => lines.find((l) => l.path === path)?.err as { type?: string; message?: string; stack?: string } | undefined;
    expect(errOf('/api/boom')).toMatchObject({ type: 'Error', message: 'boom', stack: expect.stringContaining('boom') });
    expect(errOf('/api/async-boom')).toMatchObject({ message: 'async boom' });
    expect(errOf('/api/next-boom')).toMatchObject({ message: 'next boom' });
    expect(lines.filter((l) => l.err !== undefined)).toHaveLength(3);
  } finally {
    await server.close();
    await client.shutdown(2_000);
  }
});

test('without a logger the middleware still records every request as metrics', async () => {
  const client = new TidemarkClient({
    endpoint: collector.url,
    apiKey: stack.keys.ingest,
    flushIntervalMs: 100,
    metricsIntervalMs: 0,
    flushOnExit: false,
    service: 'shop-quiet',
  });
  const app = new Koa();
  const router = new Router();
  router.get('/items/:id', (ctx) => {
    ctx.body = 'ok';
  });
  app.use(koaMiddleware(client, { logger: false }));
  app.use(router.routes());
  const server = await listen(app.callback());
  try {
    expect(await Promise.all([1, 2].map((id) => request(`${server.url}/items/${id}`)))).toEqual([200, 200]);
    expect(await client.flush({ timeoutMs: 10_000 })).toBe(true);
    // The service label comes from the client's `service` option.
    const r = await recorded('shop-quiet');
    expect(r.requests).toEqual({ 'GET /items/:id 200': 2 });
    expect(r.durations).toEqual({ 'GET /items/:id 200': 2 });
  } finally {
    await server.close();
    await client.shutdown(2_000);
  }
});
