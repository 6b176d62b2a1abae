import fs from 'node:fs';
import path from 'node:path';
import type Koa from 'koa';

/**
 * Serves the dashboard (the Vite build of @tidemark/web) from the API role's
 * port. Mounted after every API route, so it only sees requests no route
 * answered:
 *
 * - /api/... never gets a page: an unknown API path stays a 404 JSON error.
 * - A file of the build is sent with its content type. Vite's hashed assets
 *   (assets/name-<hash>.js) never change under their name: cached for a
 *   year, immutable. index.html and other unhashed files: revalidated every
 *   time (ETag), so a new build is picked up at once.
 * - Any other GET that wants HTML (a deep link, a reload) gets index.html:
 *   the page itself routes (hash routes; history routes would work too).
 * - Paths are decoded, normalised and must stay inside the build directory;
 *   dot-files and NUL bytes are refused.
 *
 * The files hold no data: every figure is fetched by the page with the API
 * key, so the pages need no key themselves (the login form asks for one).
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Vite names built assets name-<8+ char hash>.ext under assets/. */
const HASHED = /^\/assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/**
 * The page may only load its own scripts and styles and talk to its own
 * origin. Inline styles are allowed: the chart library and the bar lists
 * size elements with style attributes.
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function notFound(ctx: Koa.Context, message: string): void {
  ctx.status = 404;
  ctx.body = { error: { code: 'NOT_FOUND', message, retriable: false, context: {} } };
}

export interface StaticOptions {
  /** The build directory (packages/web/dist); null when the dashboard is not built or not found. */
  root: string | null;
}

export function staticHandler(opts: StaticOptions): Koa.Middleware {
  const root = opts.root ? path.resolve(opts.root) : null;
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.path === '/api' || ctx.path.startsWith('/api/')) return next();
    if (!root || !fs.existsSync(path.join(root, 'index.html'))) {
      if (ctx.path === '/' || ctx.accepts('html') === 'html') {
        notFound(ctx, `the dashboard is not built (${root ? `${root}/index.html is missing` : '@tidemark/web not found'}): run npm run build; the API itself is under /api (see /openapi.json)`);
        return;
      }
      return next();
    }
    let rel: string;
    try {
      rel = decodeURIComponent(ctx.path);
    } catch {
      ctx.status = 400;
      ctx.body = { error: { code: 'VALIDATION_FAILED', message: 'the path is not valid percent-encoding', retriable: false, context: {} } };
      return;
    }
    if (rel.includes('\0') || rel.split('/').some((seg) => seg.startsWith('.') && seg !== '')) return notFound(ctx, `no file ${ctx.path}`);
    const normalized = path.posix.normalize(rel);
    const file = path.join(root, normalized === '/' ? 'index.html' : normalized);
    // path.join resolves "..": whatever remains must still be inside the build directory.
    if (file !== root && !file.startsWith(root + path.sep)) return notFound(ctx, `no file ${ctx.path}`);

    let target = file;
    let stat = await fs.promises.stat(target).catch(() => null);
    if (stat?.isDirectory()) {
      target = path.join(target, 'index.html');
      stat = await fs.promises.stat(target).catch(() => null);
    }
    if (!stat?.isFile()) {
      // A missing asset is a 404 (a stale page asking for an old hash must not get HTML as JavaScript);
      // a page path gets the app, which shows its own "not found".
      if (path.posix.extname(normalized) !== '' || ctx.accepts('html') !== 'html') return notFound(ctx, `no file ${ctx.path}`);
      target = path.join(root, 'index.html');
      stat = await fs.promises.stat(target);
    }
    const ext = path.extname(target).toLowerCase();
    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('ETag', etag);
    ctx.set('Last-Modified', stat.mtime.toUTCString());
    ctx.set('Cache-Control', HASHED.test(normalized) && target === file ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (ext === '.html') {
      ctx.set('Content-Security-Policy', CSP);
      ctx.set('X-Frame-Options', 'DENY');
      ctx.set('Referrer-Policy', 'no-referrer');
    }
    ctx.type = TYPES[ext] ?? 'application/octet-stream';
    if (ctx.get('If-None-Match') === etag) {
      ctx.status = 304;
      return;
    }
    ctx.status = 200;
    ctx.length = stat.size;
    // Whole files, not streams: the build is a few hundred kB, and a client that goes away mid-answer
    // then costs nothing (a piped stream would report a premature close as a server error).
    // HEAD: the headers only.
    if (ctx.method === 'GET') ctx.body = await fs.promises.readFile(target);
  };
}

/**
 * Where the dashboard build is: API_DASHBOARD_DIR when set, else the dist/
 * of the installed @tidemark/web package (a workspace link in the
 * repository, a copied package in the Docker image). Null when neither
 * exists: the API then answers / with a 404 that says how to build it.
 */
export function locateDashboard(configured: string | undefined): string | null {
  if (configured) return path.resolve(configured);
  try {
    return path.join(path.dirname(require.resolve('@tidemark/web/package.json')), 'dist');
  } catch {
    return null;
  }
}
