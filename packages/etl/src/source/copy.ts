/**
 * Streams `COPY (SELECT ...) TO STDOUT` and cuts it into blocks of whole
 * rows, bounded in bytes, so a table — or a chunk full of TOAST-sized
 * values — is never held in memory whole.
 *
 * COPY's text format escapes backslash, tab, newline and carriage return
 * inside values, so every raw \n ends a row: counting rows and cutting at
 * row boundaries needs no parsing. The same escaping is what ClickHouse's
 * TabSeparated input expects.
 */
import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Block } from '../target/land';

function countNewlines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  let i = buf.indexOf(10, from);
  while (i !== -1 && i < to) {
    n++;
    i = buf.indexOf(10, i + 1);
  }
  return n;
}

/**
 * Yields blocks of whole rows. The rule deciding where a block ends depends
 * only on the row sequence — a row joins the current block if the block has
 * fewer than `blockRows` rows and is empty or stays within `blockBytes` with
 * it — never on how the network cut the stream. So reading the same rows
 * again gives the same blocks, hence the same dedup tokens. A single row
 * larger than blockBytes is a block of its own.
 */
export async function* copyBlocks(client: PoolClient, sql: string, opts: { blockBytes: number; blockRows?: number }): AsyncGenerator<Block> {
  const stream = client.query(copyTo(sql));
  const maxRows = Math.max(1, opts.blockRows ?? Number.MAX_SAFE_INTEGER);
  const maxBytes = opts.blockBytes;
  let parts: Buffer[] = [];
  let size = 0;
  let rows = 0;
  // Bytes of a row not yet complete (its newline is in a later chunk).
  let carry: Buffer[] = [];
  let carryLen = 0;
  const fits = (len: number): boolean => rows < maxRows && (size === 0 || size + len <= maxBytes);
  const take = (buf: Buffer, n: number): void => {
    parts.push(buf);
    size += buf.length;
    rows += n;
  };
  const flush = (): Block => {
    const block = { data: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size), rows };
    parts = [];
    size = 0;
    rows = 0;
    return block;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let pos = 0;
      if (carryLen > 0) {
        const nl = chunk.indexOf(10);
        if (nl === -1) {
          carry.push(chunk);
          carryLen += chunk.length;
          continue;
        }
        const row = Buffer.concat([...carry, chunk.subarray(0, nl + 1)], carryLen + nl + 1);
        carry = [];
        carryLen = 0;
        if (!fits(row.length)) yield flush();
        take(row, 1);
        pos = nl + 1;
      }
      const lastNl = chunk.lastIndexOf(10);
      if (lastNl >= pos) {
        const end = lastNl + 1;
        const k = countNewlines(chunk, pos, end);
        if (rows + k <= maxRows && size + (end - pos) <= maxBytes) {
          // Common case: every complete row of the chunk fits.
          take(chunk.subarray(pos, end), k);
        } else {
          // Near a block boundary: decide row by row.
          let start = pos;
          let runStart = pos;
          let runRows = 0;
          while (start < end) {
            const nl = chunk.indexOf(10, start);
            const len = nl + 1 - start;
            // Rows of the current run count as already in the block.
            const fitsNow = rows + runRows < maxRows && (size + (start - runStart) === 0 || size + (start - runStart) + len <= maxBytes);
            if (!fitsNow) {
              if (start > runStart) take(chunk.subarray(runStart, start), runRows);
              yield flush();
              runStart = start;
              runRows = 0;
            }
            runRows++;
            start = nl + 1;
          }
          if (end > runStart) take(chunk.subarray(runStart, end), runRows);
        }
        pos = end;
      }
      if (pos < chunk.length) {
        carry.push(chunk.subarray(pos));
        carryLen += chunk.length - pos;
      }
    }
    if (carryLen > 0) throw new Error('COPY output ended inside a row');
    if (rows > 0) yield flush();
  } finally {
    // Stopping early (an insert failed) leaves the COPY running: destroy the
    // stream; the caller discards the connection.
    if (!stream.destroyed) stream.destroy();
  }
}

/**
 * Reads ahead: while the consumer lands block n, block n+1 is already being
 * read, so Postgres and ClickHouse work at the same time. At most `depth`
 * blocks wait in memory.
 */
export async function* prefetch<T>(source: AsyncIterable<T>, depth = 1): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  try {
    for (;;) {
      while (queue.length < depth + 1) queue.push(it.next());
      const next = await (queue.shift() as Promise<IteratorResult<T>>);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Let pending reads settle (their errors are the consumer's error already).
    await Promise.allSettled(queue);
    await it.return?.(undefined);
  }
}
