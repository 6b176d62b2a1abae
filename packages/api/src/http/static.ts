import fs from 'node:fs';
import path from 'node:path';
import { send } from '@koa/send';
import type Koa from 'koa';

/**
 * Serves the dashboard (the Vite build of @tidemark/web) from the API role's
 * port through @koa/send. Mounted after every API route, so it only sees
 * requests no route answered:
 *
 * - /api/... never gets a page: an unknown API path stays a 404 JSON error.
 * - A file of the build is sent with its content type; when the client
 *   accepts brotli or gzip and the build holds name.br / name.gz (the web
 *   build writes them), that file is sent instead, with Content-Encoding and
 *   Vary: Accept-Encoding. Vite's hashed assets (assets/name-<hash>.js) never
 *   change under their name: cached for a year, immutable. index.html and
 *   other unhashed files: revalidated every time (ETag), so a new build is
 *   picked up at once.
 * - Any other GET that wants HTML (a deep link, a reload) gets index.html:
 *   the page itself routes (hash routes; history routes would work too).
 * - Paths are decoded, normalised and must stay inside the build directory
 *   (checked here, and again by @koa/send); dot-files and NUL bytes are refused.
 *
 * Nothing is checked on disk before a request: a missing file is learnt from
 * the send itself, and only then is index.html (the fallback) looked for.
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

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The page may only load its own scripts and styles and talk to its own
 * origin. Inline styles are allowed: the chart library and the bar lists
 * size elements with style attributes.
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function notFound(ctx: Koa.Context, message: string): void {
  ctx.status = 404;
  ctx.body = { error: { code: 'NOT_FOUND', message, retriable: false, context: {} } };
}

export interface StaticOptions {
  /** The build directory (packages/web/dist); null when the dashboard is not built or not found. */
  root: string | null;
}

/** @koa/send's 404 (http-errors) for a file that is not there. */
function isMissing(err: unknown): boolean {
  return (err as { status?: number }).status === 404;
}

/**
 * The build file a request names, or null when the request is already
 * answered (400 for bad percent-encoding, 404 for a hidden segment or a path
 * outside the build directory). `asSent` is what @koa/send gets: it decodes
 * the path itself, so a "%" in a file name stays one.
 */
function buildPath(ctx: Koa.Context, root: string): { normalized: string; asSent: string } | null {
  let rel: string;
  try {
    rel = decodeURIComponent(ctx.path);
  } catch {
    ctx.status = 400;
    ctx.body = { error: { code: 'VALIDATION_FAILED', message: 'the path is not valid percent-encoding', retriable: false, context: {} } };
    return null;
  }
  if (rel.includes('\0') || rel.split('/').some((seg) => seg.startsWith('.') && seg !== '')) {
    notFound(ctx, `no file ${ctx.path}`);
    return null;
  }
  const normalized = path.posix.normalize(rel);
  // normalize resolves ".."; whatever remains must still be inside the build directory.
  const file = path.join(root, normalized);
  if (file !== root && !file.startsWith(root + path.sep)) {
    notFound(ctx, `no file ${ctx.path}`);
    return null;
  }
  return { normalized, asSent: normalized === '/' ? '/' : ctx.path };
}

export function staticHandler(opts: StaticOptions): Koa.Middleware {
  const root = opts.root ? path.resolve(opts.root) : null;
  const notBuilt = (ctx: Koa.Context): void =>
    notFound(
      ctx,
      `the dashboard is not built (${root ? `${root}/index.html is missing` : '@tidemark/web not found'}): run npm run build; the API itself is under /api (see /openapi.json)`,
    );

  /** Sends one file of the build (relative, normalised) through @koa/send; the headers are set from the file actually sent. */
  async function sendFile(ctx: Koa.Context, rel: string, cacheControl: string): Promise<void> {
    const ext = path.posix.extname(rel).toLowerCase();
    const sent = await send(ctx, rel, {
      root: root!,
      index: 'index.html',
      hidden: false,
      brotli: true,
      gzip: true,
      setHeaders(res, _file, stat) {
        // Weak ETag of the file sent (a .br and a .gz differ from the plain file, so each has its own).
        res.setHeader('ETag', `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`);
        res.setHeader('Cache-Control', cacheControl);
        res.setHeader('Vary', 'Accept-Encoding');
        res.setHeader('X-Content-Type-Options', 'nosniff');
        if (ext === '.html' || rel.endsWith('/')) {
          res.setHeader('Content-Security-Policy', CSP);
          res.setHeader('X-Frame-Options', 'DENY');
          res.setHeader('Referrer-Policy', 'no-referrer');
        }
      },
    });
    // The type of the file asked for, not of its .br/.gz (@koa/send would guess from the extension with its own table).
    ctx.type = TYPES[rel.endsWith('/') ? '.html' : ext] ?? 'application/octet-stream';
    // The answer is already compressed (or a file not worth it): the JSON compression middleware leaves it alone.
    ctx.compress = false;
    // @koa/send sends nothing for a hidden path or a directory without an index: a missing file here.
    if (!sent) throw Object.assign(new Error(`no file ${rel}`), { status: 404 });
    // @koa/send answers with a read stream; the build's files are a few hundred kB, so they are sent whole instead:
    // a client that goes away mid-answer then costs nothing (a piped stream reports its premature close as a server error).
    const stream = ctx.body as fs.ReadStream;
    if (ctx.fresh) {
      // If-None-Match matched: 304 without the file.
      stream.destroy();
      ctx.status = 304;
      ctx.body = null;
    } else if (ctx.method === 'HEAD') {
      // The headers only (Content-Length is the file's, set by @koa/send); Koa does not read a HEAD's body.
      stream.destroy();
    } else {
      stream.destroy();
      const type = ctx.type;
      ctx.body = await fs.promises.readFile(sent);
      ctx.type = type;
    }
  }

  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.path === '/api' || ctx.path.startsWith('/api/')) return next();
    if (!root) {
      if (ctx.path === '/' || ctx.accepts('html') === 'html') return notBuilt(ctx);
      return next();
    }
    const target = buildPath(ctx, root);
    if (!target) return;
    const { normalized, asSent } = target;
    try {
      await sendFile(ctx, asSent, HASHED.test(normalized) ? IMMUTABLE : 'no-cache');
      return;
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    // A missing asset is a 404 (a stale page asking for an old hash must not get HTML as JavaScript);
    // a page path gets the app, which shows its own "not found".
    if (path.posix.extname(normalized) !== '' || ctx.accepts('html') !== 'html') return notFound(ctx, `no file ${ctx.path}`);
    try {
      await sendFile(ctx, '/index.html', 'no-cache');
    } catch (err) {
      if (!isMissing(err)) throw err;
      notBuilt(ctx);
    }
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
