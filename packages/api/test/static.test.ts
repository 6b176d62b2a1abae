/**
 * The dashboard's static handler (src/http/static.ts) on a loopback server
 * in this process, mounted as in createApiApp: after the routes, before the
 * 404 JSON. Paths are sent raw (http.request, not fetch) so that traversal
 * attempts reach the server exactly as written.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import { locateDashboard, staticHandler } from '../src/http/static';

const INDEX = '<!doctype html><title>Tidemark</title><script type="module" src="./assets/index-AbCd1234.js"></script>';
let dir: string;
let outside: string;

function serve(root: string | null): Promise<{ url: string; close: () => Promise<void> }> {
  const app = new Koa();
  app.use(async (ctx, next) => {
    if (ctx.path === '/openapi.json') ctx.body = { openapi: '3.1.0' };
    else await next();
  });
  app.use(staticHandler({ root }));
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = { error: { code: 'NOT_FOUND', message: `no route ${ctx.method} ${ctx.path}`, retriable: false, context: {} } };
  });
  const server = http.createServer(app.callback());
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}

function get(base: string, rawPath: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method: opts.method ?? 'GET', headers: { accept: 'text/html', ...opts.headers }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(() => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-static-'));
  dir = path.join(base, 'dist');
  outside = path.join(base, 'secret.txt');
  fs.mkdirSync(path.join(dir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.html'), INDEX);
  fs.writeFileSync(path.join(dir, 'assets', 'index-AbCd1234.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'assets', 'index-AbCd1234.css'), 'body{}');
  fs.writeFileSync(path.join(dir, 'favicon.svg'), '<svg/>');
  fs.writeFileSync(path.join(dir, '.env'), 'SECRET=1');
  fs.writeFileSync(outside, 'outside the build');
});

afterAll(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

test('index.html at /: HTML, revalidated every time, with a content security policy', async () => {
  const s = await serve(dir);
  try {
    const r = await get(s.url, '/');
    expect(r.status).toBe(200);
    expect(r.body).toBe(INDEX);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['content-security-policy']).toMatch(/default-src 'self'; script-src 'self'/);
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    const again = await get(s.url, '/', { headers: { 'if-none-match': r.headers.etag! } });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    const head = await get(s.url, '/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(INDEX)));
    expect(head.body).toBe('');
  } finally {
    await s.close();
  }
});

test('hashed assets are cached for a year with their content type; other files are revalidated', async () => {
  const s = await serve(dir);
  try {
    const js = await get(s.url, '/assets/index-AbCd1234.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-security-policy']).toBeUndefined();
    const css = await get(s.url, '/assets/index-AbCd1234.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const svg = await get(s.url, '/favicon.svg');
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['cache-control']).toBe('no-cache');
  } finally {
    await s.close();
  }
});

test('page paths get the app; missing files, API paths and other methods get the 404 JSON', async () => {
  const s = await serve(dir);
  try {
    const deep = await get(s.url, '/alerts?tab=rules');
    expect(deep.status).toBe(200);
    expect(deep.body).toBe(INDEX);
    expect(deep.headers['cache-control']).toBe('no-cache');
    // A stale page asking for an old hash must get a 404, not HTML served as JavaScript.
    const oldAsset = await get(s.url, '/assets/index-Old99999.js', { headers: { accept: '*/*' } });
    expect(oldAsset.status).toBe(404);
    expect(JSON.parse(oldAsset.body).error.code).toBe('NOT_FOUND');
    for (const p of ['/api/v1/nope', '/api', '/api/analytics-monitoring/unknown']) {
      const r = await get(s.url, p);
      expect(r.status).toBe(404);
      expect(JSON.parse(r.body).error.message).toMatch(/no route GET/);
    }
    const post = await get(s.url, '/', { method: 'POST' });
    expect(post.status).toBe(404);
    expect(JSON.parse(post.body).error.message).toBe('no route POST /');
    // Routes mounted before it still answer.
    expect(JSON.parse((await get(s.url, '/openapi.json')).body)).toEqual({ openapi: '3.1.0' });
    // A non-HTML client asking for a page path (curl -H 'Accept: application/json') gets the 404 JSON.
    expect((await get(s.url, '/nowhere', { headers: { accept: 'application/json' } })).status).toBe(404);
  } finally {
    await s.close();
  }
});

test('nothing outside the build directory, no dot-files, no NUL bytes, no broken encodings', async () => {
  const s = await serve(dir);
  try {
    for (const p of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/.env', '/assets/%2e%2e/.env', '/index.html%00.js']) {
      const r = await get(s.url, p, { headers: { accept: '*/*' } });
      expect([p, r.status]).toEqual([p, 404]);
      expect(r.body).not.toContain('outside the build');
      expect(r.body).not.toContain('SECRET');
    }
    const bad = await get(s.url, '/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('VALIDATION_FAILED');
  } finally {
    await s.close();
  }
});

test('without a build, / says how to make one and the API is untouched', async () => {
  const s = await serve(null);
  try {
    const r = await get(s.url, '/');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body).error.message).toMatch(/dashboard is not built.*npm run build/);
    expect(JSON.parse((await get(s.url, '/openapi.json')).body)).toEqual({ openapi: '3.1.0' });
  } finally {
    await s.close();
  }
});

test('the build is found through the installed @tidemark/web package, or where API_DASHBOARD_DIR says', () => {
  expect(locateDashboard(undefined)).toBe(path.resolve(__dirname, '..', '..', 'web', 'dist'));
  expect(locateDashboard('/srv/dashboard')).toBe('/srv/dashboard');
});
