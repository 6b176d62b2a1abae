#!/usr/bin/env node
/**
 * After `vite build`: writes name.br and name.gz next to every text file of
 * dist/ (scripts, styles, the page, SVG, JSON, source maps) large enough to
 * gain from it, at the highest levels (done once per build, not per request).
 * The API's static handler (packages/api/src/http/static.ts, @koa/send)
 * sends them to clients that accept brotli or gzip.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const TEXT = /\.(html|js|mjs|css|svg|json|map|txt|webmanifest)$/i;
/** Below this a compressed copy saves less than a packet. */
const MIN_BYTES = 1024;

let files = 0;
let before = 0;
let after = 0;
for (const entry of fs.readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !TEXT.test(entry.name)) continue;
  const file = path.join(entry.parentPath, entry.name);
  const data = fs.readFileSync(file);
  if (data.length < MIN_BYTES) continue;
  const br = zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } });
  const gz = zlib.gzipSync(data, { level: 9 });
  fs.writeFileSync(`${file}.br`, br);
  fs.writeFileSync(`${file}.gz`, gz);
  files += 1;
  before += data.length;
  after += br.length;
}
process.stdout.write(`compress-dist: ${files} files, ${before} bytes -> ${after} bytes brotli\n`);
