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
import zlib from 'node:zlib';
import Koa from 'koa';
import { locateDashboard, staticHandler } from '../src/http/static';

const INDEX = '<!doctype html><title>Tidemark</title><script type="module" src="./assets/index-AbCd1234.js"></script>';
const JS = `console.log(1);${' '.repeat(2000)}`;
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

function get(
  base: string,
  rawPath: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: rawPath, method: opts.method ?? 'GET', headers: { accept: 'text/html', ...opts.headers }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
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
  fs.writeFileSync(path.join(dir, 'assets', 'index-AbCd1234.js'), JS);
  fs.writeFileSync(path.join(dir, 'assets', 'index-AbCd1234.css'), 'body{}');
  fs.writeFileSync(path.join(dir, 'favicon.svg'), '<svg/>');
  fs.writeFileSync(path.join(dir, '.env'), 'SECRET=1');
  fs.writeFileSync(outside, 'outside the build');
  // What the web build writes next to each text file (scripts/compress-dist.mjs), here for the script and the page only.
  fs.writeFileSync(path.join(dir, 'assets', 'index-AbCd1234.js.br'), zlib.brotliCompressSync(JS));
  fs.writeFileSync(path.join(dir, 'assets', 'index-AbCd1234.js.gz'), zlib.gzipSync(JS));
  fs.writeFileSync(path.join(dir, 'index.html.gz'), zlib.gzipSync(INDEX));
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
    expect(js.headers['content-encoding']).toBeUndefined();
    expect(js.body).toBe(JS);
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
    for (const p of [
      '/../secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/.env',
      '/assets/%2e%2e/.env',
      '/index.html%00.js',
    ]) {
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

/** GET with the body as bytes (compressed answers). */
function getRaw(base: string, rawPath: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('pre-compressed files of the build are sent to clients that accept them, with the same caching', async () => {
  const s = await serve(dir);
  try {
    const br = await getRaw(s.url, '/assets/index-AbCd1234.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.headers.vary).toMatch(/Accept-Encoding/i);
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(JS.length / 10);
    expect(zlib.brotliDecompressSync(br.body).toString()).toBe(JS);

    const gz = await getRaw(s.url, '/assets/index-AbCd1234.js', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gz.body).toString()).toBe(JS);
    // Each encoding is its own representation: its own ETag, and a 304 for it.
    expect(gz.headers.etag).not.toBe(br.headers.etag);
    const again = await getRaw(s.url, '/assets/index-AbCd1234.js', { 'accept-encoding': 'gzip', 'if-none-match': gz.headers.etag! });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);

    // index.html: only a .gz exists; a brotli-only client gets the plain file. Both revalidated, both with the policy.
    const page = await getRaw(s.url, '/', { accept: 'text/html', 'accept-encoding': 'gzip, br' });
    expect(page.headers['content-encoding']).toBe('gzip');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(zlib.gunzipSync(page.body).toString()).toBe(INDEX);
    const deep = await getRaw(s.url, '/alerts', { accept: 'text/html', 'accept-encoding': 'gzip' });
    expect(zlib.gunzipSync(deep.body).toString()).toBe(INDEX);
    const plain = await getRaw(s.url, '/', { accept: 'text/html', 'accept-encoding': 'br' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(INDEX);
    // The compressed copies are never addressed by themselves as something else: asking for one gets its bytes as a download, not as the page.
    const direct = await getRaw(s.url, '/index.html.gz', { accept: '*/*' });
    expect(direct.headers['content-type']).toBe('application/octet-stream');
  } finally {
    await s.close();
  }
});
