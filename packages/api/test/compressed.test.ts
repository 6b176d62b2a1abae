/** Compressed copies of answers sent again unchanged (src/http/compressed.ts): made once per text and encoding, the same bytes and encoding koa-compress would send. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import Koa from 'koa';
import compress from 'koa-compress';
import { BROTLI_OPTIONS, COMPRESS_THRESHOLD_BYTES, CompressedCopies, GZIP_OPTIONS, preferredEncoding } from '../src/http/compressed';

const text = (n: number, tag = 'a'): string => JSON.stringify({ series: Array.from({ length: n }, (_, i) => ({ t: i * 3_600_000, [tag]: i % 97 })) });

test('a copy is made once per key, text and encoding, and decompresses to the text', async () => {
  const copies = new CompressedCopies();
  const json = text(2000);
  const br = await copies.get('k', json, 'br');
  const gz = await copies.get('k', json, 'gzip');
  expect(zlib.brotliDecompressSync(br).toString()).toBe(json);
  expect(zlib.gunzipSync(gz).toString()).toBe(json);
  // The same bytes koa-compress would send for the text (the same settings).
  expect(br.equals(zlib.brotliCompressSync(json, BROTLI_OPTIONS))).toBe(true);
  expect(gz.equals(zlib.gzipSync(json, GZIP_OPTIONS))).toBe(true);
  // Asked again: the very same copy, not compressed again.
  expect(await copies.get('k', json, 'br')).toBe(br);
  expect(await copies.get('k', json, 'gzip')).toBe(gz);
  // Another text under the key (the cache entry was computed again): a new copy of it.
  const changed = text(2000, 'b');
  const br2 = await copies.get('k', changed, 'br');
  expect(zlib.brotliDecompressSync(br2).toString()).toBe(changed);
  expect(await copies.get('k', json, 'br')).not.toBe(br);
});

test('least recently used entries go beyond the byte budget', async () => {
  const json = text(5000);
  const copies = new CompressedCopies(json.length * 2 * 2 + 200_000);
  const a = await copies.get('a', json, 'gzip');
  const b = await copies.get('b', json, 'gzip');
  expect(await copies.get('a', json, 'gzip')).toBe(a);
  // A third entry does not fit: b, the least recently used, goes; a stays.
  await copies.get('c', json, 'gzip');
  expect(await copies.get('a', json, 'gzip')).toBe(a);
  expect(await copies.get('b', json, 'gzip')).not.toBe(b);
});

test('the encoding chosen for a copy is the one koa-compress chooses for the same Accept-Encoding', async () => {
  const app = new Koa();
  app.use(compress({ threshold: COMPRESS_THRESHOLD_BYTES, gzip: GZIP_OPTIONS, deflate: false, br: BROTLI_OPTIONS }));
  app.use((ctx) => {
    ctx.body = JSON.parse(text(200));
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const chosen = (header: string): Promise<string | undefined> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', headers: header ? { 'accept-encoding': header } : {}, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers['content-encoding']));
      });
      req.on('error', reject);
    });
  try {
    const headers = [
      '',
      'identity',
      'gzip',
      'br',
      'gzip, br',
      'br, gzip',
      'gzip, deflate, br',
      'deflate',
      'br;q=0.5, gzip',
      'gzip;q=0.2, br;q=0.2',
      'gzip;q=0.5, identity',
      'gzip;q=0, br;q=0',
      'br;q=0, gzip',
      'identity;q=0, gzip;q=0.1',
      'GZIP',
    ];
    for (const header of headers) expect({ header, ours: preferredEncoding(header) }).toEqual({ header, ours: await chosen(header) });
    // A wildcard is left to koa-compress.
    expect(preferredEncoding('*')).toBeUndefined();
    expect(preferredEncoding('gzip, *;q=0.5')).toBeUndefined();
  } finally {
    await new Promise((r) => server.close(r));
  }
});
