/**
 * chRawLines (sync/reconcile.ts) reads ClickHouse's raw HTTP body. A server
 * failure after the body started arrives as a `Code: N. DB::Exception` line:
 * it must be raised, never merged as a key (a bogus key would be tombstoned).
 * A loopback server answers the way ClickHouse does over HTTP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClickHouse, ClickHouseQueryError } from '@tidemark/core';
import { chRawLines } from '../src/sync/reconcile';

let server: http.Server;
let body = '';
let seenQuery = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let q = '';
    req.on('data', (c: Buffer) => (q += c.toString()));
    req.on('end', () => {
      seenQuery = q;
      res.writeHead(200, { 'Content-Type': 'text/tab-separated-values; charset=UTF-8', 'X-ClickHouse-Summary': '{}' });
      // Written in pieces, one of them inside a multi-byte character, as a socket may deliver it.
      const bytes = Buffer.from(body);
      res.write(bytes.subarray(0, 1)); // the first byte of "é"
      res.end(bytes.subarray(1));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

function ch(): ClickHouse {
  return new ClickHouse({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, username: 'default', password: '', database: 'default' });
}

async function collect(): Promise<string[]> {
  const out: string[] = [];
  for await (const l of chRawLines(ch(), 'SELECT k FROM t WHERE p = {project:String}', { project: 'p1' })) out.push(l);
  return out;
}

test('lines of the body, a character split across chunks kept whole, FORMAT appended to the query', async () => {
  body = 'é1\t2\nb\t3\nlast\t4\n';
  expect(await collect()).toEqual(['é1\t2', 'b\t3', 'last\t4']);
  expect(seenQuery).toBe('SELECT k FROM t WHERE p = {project:String} FORMAT TabSeparated');
});

test('an exception written after rows started is raised as a retriable ClickHouse error with its code', async () => {
  body = '1\n2\nCode: 241. DB::Exception: Memory limit (total) exceeded. (MEMORY_LIMIT_EXCEEDED)\n';
  const err = await collect().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ClickHouseQueryError);
  expect((err as ClickHouseQueryError).retriable).toBe(true);
  expect((err as ClickHouseQueryError).context.clickhouseCode).toBe(241);
  expect((err as Error).message).toContain('MEMORY_LIMIT_EXCEEDED');
});
