import type { IncomingMessage } from 'node:http';
import zlib from 'node:zlib';
import { PayloadTooLargeError, ValidationError } from '../errors';

/**
 * Reads a request body with a hard cap, decompressing gzip, deflate or br on
 * the way. Both the bytes on the wire and the decompressed bytes count
 * against `limit`, so a compression bomb stops at the cap instead of filling
 * memory; the rest of the request is drained so the error can be answered.
 *
 * @throws PayloadTooLargeError over the cap, ValidationError for an unknown
 *         encoding or a body that does not decompress.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const raw = req.headers['content-encoding'];
  const encoding = (Array.isArray(raw) ? raw[0] : (raw ?? '')).toLowerCase().trim();
  let source: NodeJS.ReadableStream = req;
  let decoder: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined;
  if (encoding === 'gzip' || encoding === 'x-gzip') decoder = zlib.createGunzip();
  else if (encoding === 'deflate') decoder = zlib.createInflate();
  else if (encoding === 'br') decoder = zlib.createBrotliDecompress();
  else if (encoding !== '' && encoding !== 'identity') {
    req.resume();
    return Promise.reject(new ValidationError(`unsupported Content-Encoding "${encoding.slice(0, 40)}"; use gzip, deflate or br`));
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(
      new PayloadTooLargeError(`request body of ${declared} bytes exceeds the limit of ${limit} bytes`, { context: { limitBytes: limit } }),
    );
  }
  if (decoder) source = req.pipe(decoder);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      decoder?.destroy();
      req.resume();
      reject(err);
    };
    source.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        fail(
          new PayloadTooLargeError(`request body exceeds the limit of ${limit} bytes${decoder ? ' after decompression' : ''}`, {
            context: { limitBytes: limit },
          }),
        );
        return;
      }
      chunks.push(chunk);
    });
    source.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, size));
    });
    source.on('error', (err: Error) => fail(new ValidationError(`cannot decompress the request body (${encoding}): ${err.message}`)));
    if (decoder) req.on('error', fail);
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8, refusing invalid byte sequences instead of replacing them. */
export function decodeUtf8(buf: Buffer): string {
  try {
    return strictUtf8.decode(buf);
  } catch {
    throw new ValidationError('request body is not valid UTF-8');
  }
}
