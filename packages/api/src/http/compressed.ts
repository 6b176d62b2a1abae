import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { RouterContext } from '@koa/router';

/** JSON (and the SQL console's CSV) answers at least this large are compressed when the client accepts it; smaller ones are not worth the CPU. */
export const COMPRESS_THRESHOLD_BYTES = 1024;

/**
 * The compressors' settings, for koa-compress (every answer) and for CompressedCopies (answers
 * sent again as they are): the same bytes whichever compresses. Level 4 / quality 4: most of the
 * size win at a fraction of the default levels' CPU (answers are built per request).
 */
export const GZIP_OPTIONS: zlib.ZlibOptions = { level: 4 };
export const BROTLI_OPTIONS: zlib.BrotliOptions = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } };

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

type Encoding = 'br' | 'gzip';

/**
 * Compressed copies of JSON texts that are sent again and again unchanged (cached answers), per
 * encoding, so a cache hit is not compressed anew for each client that accepts br or gzip (for a
 * 158 KiB time series that costs more CPU than the rest of the hit). A copy is used only for the
 * very text it was made from: a key whose text changed (the cache entry expired and was computed
 * again) gets a new copy. Least recently used entries go beyond `maxBytes` (texts and copies).
 */
export class CompressedCopies {
  private readonly entries = new Map<string, { text: string; copies: Partial<Record<Encoding, Buffer>>; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  async get(key: string, text: string, encoding: Encoding): Promise<Buffer> {
    let entry = this.entries.get(key);
    if (entry && entry.text !== text) {
      this.drop(key);
      entry = undefined;
    }
    if (entry) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    const have = entry?.copies[encoding];
    if (have) return have;
    const copy = encoding === 'br' ? await brotli(text, BROTLI_OPTIONS) : await gzip(text, GZIP_OPTIONS);
    // Another request may have changed the entry while this one compressed.
    let current = this.entries.get(key);
    if (current && current.text !== text) {
      this.drop(key);
      current = undefined;
    }
    if (!current) {
      current = { text, copies: {}, bytes: text.length * 2 };
      this.entries.set(key, current);
      this.bytes += current.bytes;
    }
    if (!current.copies[encoding]) {
      current.copies[encoding] = copy;
      current.bytes += copy.length;
      this.bytes += copy.length;
    }
    for (const [k] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.drop(k);
    }
    return copy;
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.bytes;
  }
}

/**
 * br or gzip, as koa-compress chooses between them from an Accept-Encoding header: the
 * highest q, br before gzip before identity at equal q; identity unnamed counts with the
 * lowest q named (negotiator's rule). Undefined for identity, for no header, and for a
 * header naming `*` (left to koa-compress). (koa-compress also offers zstd where Node has it,
 * and would choose it for a client accepting zstd; br or gzip is as valid an answer to it.)
 */
export function preferredEncoding(header: string): Encoding | undefined {
  if (!header.trim()) return undefined;
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    if (!name) continue;
    if (name === '*') return undefined;
    const qp = params.find((x) => x.startsWith('q='));
    const value = qp === undefined ? 1 : Number(qp.slice(2));
    q.set(name, Number.isFinite(value) ? value : 0);
  }
  if (q.size === 0) return undefined;
  const identity = q.get('identity') ?? Math.min(...q.values());
  const br = q.get('br') ?? 0;
  const gzip = q.get('gzip') ?? 0;
  const best = Math.max(br, gzip, identity);
  if (best <= 0) return undefined;
  return br === best ? 'br' : gzip === best ? 'gzip' : undefined;
}

/**
 * Answers with JSON that is already text (a cached answer as stored): sent as it is, with the
 * JSON content type an object body gets, instead of an object Koa would serialize. With `reuse`
 * (the text is sent unchanged again and again under that key), a client that accepts br or gzip
 * gets the copy compressed once, in the encoding koa-compress would choose (preferredEncoding);
 * Content-Encoding is set here, so koa-compress leaves the answer alone (it has already added
 * Vary: Accept-Encoding). Below the threshold, or for a client that accepts neither, the text
 * goes as it is, and koa-compress does what it does for any answer.
 */
export async function sendJsonText(ctx: RouterContext, json: string, reuse?: { copies: CompressedCopies; key: string }): Promise<void> {
  ctx.type = 'application/json';
  if (reuse && json.length >= COMPRESS_THRESHOLD_BYTES && ctx.method !== 'HEAD') {
    const encoding = preferredEncoding(ctx.get('accept-encoding'));
    if (encoding) {
      ctx.body = await reuse.copies.get(reuse.key, json, encoding);
      ctx.set('Content-Encoding', encoding);
      return;
    }
  }
  ctx.body = json;
}
