/**
 * The OpenAPI contract, without services: every route of the route table
 * declares its answer (/openapi.json describes it), the committed dashboard
 * types are what the document generates, answers are checked against their
 * schemas when validation is on, and JSON answers are compressed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { z } from 'zod';
import { ClickHouse, createLogger, createMetricsRegistry, MemoryStore } from '@tidemark/core';
import type { AlertingService } from '@tidemark/alerting';
import type { Pool } from 'pg';
import { createApiApp, type ApiDeps } from '../src/app';
import { offlineOpenApiDocument } from '../src/http/openapi';
import { route, type AnyRoute } from '../src/http/route';

type Operation = { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas?: Record<string, unknown> } };

let doc: Doc;
beforeAll(async () => {
  doc = (await offlineOpenApiDocument()) as unknown as Doc;
});

test('every route of /openapi.json declares the JSON schema of its success answer', () => {
  const operations = Object.entries(doc.paths).flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => ({ name: `${m.toUpperCase()} ${p}`, op })));
  // The route table of the query API (62 routes when issue 17 was written, plus /health and /ready).
  expect(operations.length).toBeGreaterThanOrEqual(60);
  const missing = operations
    .filter(({ op }) => {
      const ok = Object.entries(op.responses).find(([status]) => /^2\d\d$/.test(status));
      return !ok?.[1].content?.['application/json']?.schema;
    })
    .map((o) => o.name);
  expect(missing).toEqual([]);
});

test('every $ref of the document resolves inside it', () => {
  const refs = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') refs.add(x);
        else walk(x);
      }
    }
  };
  walk(doc);
  // The recursive time-series filter at least.
  expect(refs.size).toBeGreaterThan(0);
  for (const ref of refs) {
    expect(ref).toMatch(/^#\/components\/schemas\//);
    expect(doc.components.schemas?.[ref.slice('#/components/schemas/'.length)]).toBeDefined();
  }
});

test('the dashboard types committed in packages/web are generated from this document', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-openapi-'));
  try {
    const file = path.join(dir, 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    const script = path.resolve(__dirname, '..', '..', 'web', 'scripts', 'api-types.mjs');
    let out = '';
    try {
      out = execFileSync(process.execPath, [script, '--doc', file, '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`packages/web/src/api-types.generated.ts is not current: ${e.stderr ?? ''}${e.stdout ?? ''}`);
    }
    expect(out).toMatch(/is current/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------ the app itself, on a loopback server

/** Deps that connect to nothing: only public routes are called below. */
function inertDeps(extraRoutes: AnyRoute[], validateResponses?: boolean): { deps: ApiDeps; ch: ClickHouse } {
  const ch = new ClickHouse({ url: 'http://127.0.0.1:9', username: 'default', password: '', database: 'tidemark' });
  return {
    ch,
    deps: {
      clickhouse: ch,
      readonlyClickhouse: ch,
      database: 'tidemark',
      meta: {} as Pool,
      kv: new MemoryStore(),
      logger: createLogger({ level: 'silent' }),
      metrics: createMetricsRegistry(),
      alerting: {} as AlertingService,
      extraRoutes,
      ...(validateResponses === undefined ? {} : { validateResponses }),
    },
  };
}

async function serve(extraRoutes: AnyRoute[], validateResponses?: boolean) {
  const { deps, ch } = inertDeps(extraRoutes, validateResponses);
  const server = http.createServer(createApiApp(deps).callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const get = (p: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: p, headers: { accept: 'application/json', ...headers }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
  return {
    get,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await ch.client.close();
    },
  };
}

const probe = (answer: unknown): AnyRoute =>
  route({
    method: 'get',
    path: '/api/v1/test/probe',
    summary: 'test route',
    tag: 'test',
    auth: 'public',
    response: z.object({ n: z.number(), at: z.string() }),
    async handler() {
      return answer;
    },
  });

test('an answer that differs from its schema is a 500 naming the difference when validation is on (the default under test)', async () => {
  const s = await serve([probe({ n: 'one', at: new Date(0) })]);
  try {
    const r = await s.get('/api/v1/test/probe');
    expect(r.status).toBe(500);
    expect(r.body.toString()).toMatch(/GET \/api\/v1\/test\/probe does not match its response schema: n: /);
  } finally {
    await s.close();
  }
  // A Date is checked as the string it is sent as.
  const ok = await serve([probe({ n: 1, at: new Date(0) })]);
  try {
    const r = await ok.get('/api/v1/test/probe');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ n: 1, at: '1970-01-01T00:00:00.000Z' });
  } finally {
    await ok.close();
  }
  // Off (the production default): the answer goes out as the handler made it.
  const off = await serve([probe({ n: 'one', at: 'x' })], false);
  try {
    expect((await off.get('/api/v1/test/probe')).status).toBe(200);
  } finally {
    await off.close();
  }
});

test('JSON answers above 1 KiB are compressed for clients that accept it; small ones and other clients get plain JSON', async () => {
  const s = await serve([]);
  try {
    const plain = await s.get('/openapi.json');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const served = JSON.parse(plain.body.toString());
    expect(served).toEqual(doc);
    const br = await s.get('/openapi.json', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/Accept-Encoding/i);
    expect(br.body.length).toBeLessThan(plain.body.length / 4);
    expect(JSON.parse(zlib.brotliDecompressSync(br.body).toString())).toEqual(served);
    const gz = await s.get('/openapi.json', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(zlib.gunzipSync(gz.body).toString())).toEqual(served);
    const health = await s.get('/health', { 'accept-encoding': 'gzip, br' });
    expect(health.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(health.body.toString())).toEqual({ status: 'ok' });
  } finally {
    await s.close();
  }
});
