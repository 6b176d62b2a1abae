/**
 * Conformance of the embedded server with the ClickHouse HTTP interface, as
 * @clickhouse/client and curl use it. Runs against a real chDB engine in a
 * child process.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { spawnEmbeddedClickHouse, type SpawnedClickHouse } from '../src/spawn';

let server: SpawnedClickHouse;
let client: ClickHouseClient;
let dataDir: string;
const suffix = `${process.pid}_${Date.now()}`;
const table = (name: string): string => `conf_${name}_${suffix}`;

function raw(
  pathAndQuery: string,
  init: { method?: string; body?: Buffer | string; headers?: Record<string, string>; anonymous?: boolean } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const url = new URL(pathAndQuery, server.url);
  return new Promise((resolve, reject) => {
    // The read-write user's credentials unless the caller sends its own.
    const auth = `Basic ${Buffer.from(`${server.credentials.user}:${server.credentials.password}`).toString('base64')}`;
    const headers = init.anonymous ? init.headers : { Authorization: auth, ...init.headers };
    const req = http.request(url, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-chhttp-'));
  server = await spawnEmbeddedClickHouse({ dataDir, env: { CLICKHOUSE_READONLY_PASSWORD: 'ro-secret' } });
  client = createClient({ url: server.url, ...server.auth(), request_timeout: 30_000 });
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('@clickhouse/client against the embedded server', () => {
  test('ping', async () => {
    const r = await client.ping();
    expect(r.success).toBe(true);
  });

  test('create, insert JSONEachRow in batches, select in JSON, JSONEachRow and CSV', async () => {
    const t = table('basic');
    await client.command({ query: `CREATE TABLE ${t} (id UInt64, name String, at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY id` });
    for (let batch = 0; batch < 3; batch++) {
      const values = Array.from({ length: 1000 }, (_, i) => ({ id: batch * 1000 + i, name: `n${batch * 1000 + i}`, at: '2026-01-02 03:04:05.678' }));
      const res = await client.insert({ table: t, values, format: 'JSONEachRow' });
      expect(res.executed).toBe(true);
      expect(res.summary?.written_rows).toBe('1000');
    }
    const json = await (await client.query({ query: `SELECT count() AS c, sum(id) AS s FROM ${t}`, format: 'JSON' })).json<{ c: string; s: string }>();
    expect(json.data).toEqual([{ c: '3000', s: String((2999 * 3000) / 2) }]);
    expect(json.meta?.map((m) => m.name)).toEqual(['c', 's']);

    const rows = await (
      await client.query({ query: `SELECT id, name FROM ${t} WHERE id < 3 ORDER BY id`, format: 'JSONEachRow' })
    ).json<{ id: string; name: string }>();
    expect(rows).toEqual([
      { id: '0', name: 'n0' },
      { id: '1', name: 'n1' },
      { id: '2', name: 'n2' },
    ]);
    const csv = await (await client.query({ query: `SELECT id, name FROM ${t} WHERE id IN (5, 6) ORDER BY id`, format: 'CSV' })).text();
    expect(csv).toBe('5,"n5"\n6,"n6"\n');
  });

  test('insert as a stream', async () => {
    const t = table('stream');
    await client.command({ query: `CREATE TABLE ${t} (id UInt32, v Float64) ENGINE = MergeTree ORDER BY id` });
    const stream = new Readable({ objectMode: true, read() {} });
    for (let i = 0; i < 5000; i++) stream.push({ id: i, v: i / 2 });
    stream.push(null);
    await client.insert({ table: t, values: stream, format: 'JSONEachRow' });
    const [row] = await (await client.query({ query: `SELECT count() AS c, sum(v) AS s FROM ${t}`, format: 'JSONEachRow' })).json<{ c: string; s: number }>();
    expect(row).toEqual({ c: '5000', s: (4999 * 5000) / 4 });
  });

  test('insert with explicit columns and CSV', async () => {
    const t = table('cols');
    await client.command({ query: `CREATE TABLE ${t} (id UInt32, a String DEFAULT 'dflt', b String) ENGINE = MergeTree ORDER BY id` });
    await client.insert({ table: t, values: [{ id: 1, b: 'x' }], columns: ['id', 'b'], format: 'JSONEachRow' });
    await client.insert({ table: t, values: Readable.from([Buffer.from('2,"y","z"\n')], { objectMode: false }), format: 'CSV' });
    const rows = await (await client.query({ query: `SELECT id, a, b FROM ${t} ORDER BY id`, format: 'JSONEachRow' })).json();
    expect(rows).toEqual([
      { id: 1, a: 'dflt', b: 'x' },
      { id: 2, a: 'y', b: 'z' },
    ]);
  });

  test('query parameters of many types, including strings needing escapes', async () => {
    const tricky = "it's a \\ back\tslash\nnewline 'quoted' 漢字";
    const rs = await client.query({
      query:
        'SELECT {s:String} AS s, {n:UInt64} AS n, {f:Float64} AS f, {arr:Array(UInt16)} AS arr, {d:DateTime} AS d, {m:Map(String, UInt8)} AS m, {nul:Nullable(String)} AS nul',
      format: 'JSONEachRow',
      query_params: { s: tricky, n: '18446744073709551615', f: 1.5, arr: [1, 2, 3], d: new Date('2026-05-06T07:08:09Z'), m: { a: 1 }, nul: null },
    });
    const [row] = await rs.json<Record<string, unknown>>();
    expect(row).toEqual({ s: tricky, n: '18446744073709551615', f: 1.5, arr: [1, 2, 3], d: '2026-05-06 07:08:09', m: { a: 1 }, nul: null });
  });

  test('a bad statement returns the ClickHouse code and message, and the server keeps serving', async () => {
    await expect(client.query({ query: 'SELEC 1' })).rejects.toMatchObject({ code: '62', type: 'SYNTAX_ERROR' });
    await expect(client.query({ query: `SELECT * FROM no_such_table_${suffix}` })).rejects.toMatchObject({ code: '60', type: 'UNKNOWN_TABLE' });
    await expect(client.query({ query: "SELECT throwIf(1, 'boom')" })).rejects.toMatchObject({ code: '395' });
    const ok = await (await client.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' })).json();
    expect(ok).toEqual([{ one: 1 }]);
  });

  test('per-query settings apply to that query only', async () => {
    await expect(client.query({ query: 'SELECT sleep(2)', clickhouse_settings: { max_execution_time: 1 } })).rejects.toMatchObject({ code: '159' });
    const rs = await client.query({
      query: "SELECT getSetting('max_result_rows') AS v",
      format: 'JSONEachRow',
      clickhouse_settings: { max_result_rows: '123' },
    });
    expect(await rs.json()).toEqual([{ v: 123 }]);
    const after = await client.query({ query: "SELECT getSetting('max_result_rows') AS v", format: 'JSONEachRow' });
    expect(await after.json()).toEqual([{ v: 0 }]);
  });

  test('SET in one request does not leak into the next', async () => {
    await client.command({ query: 'SET max_threads = 1' });
    const rs = await client.query({ query: "SELECT getSetting('max_threads') != 1 AS differs", format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ differs: 1 }]);
  });

  test('database parameter selects the current database', async () => {
    const db = `confdb_${suffix}`;
    await client.command({ query: `CREATE DATABASE ${db}` });
    await client.command({ query: `CREATE TABLE ${db}.t (x UInt8) ENGINE = MergeTree ORDER BY x` });
    const scoped = createClient({ url: server.url, ...server.auth(), database: db });
    try {
      await scoped.insert({ table: 't', values: [{ x: 7 }], format: 'JSONEachRow' });
      const rs = await scoped.query({ query: 'SELECT currentDatabase() AS db, sum(x) AS s FROM t', format: 'JSONEachRow' });
      expect(await rs.json()).toEqual([{ db, s: '7' }]);
    } finally {
      await scoped.close();
    }
    const unknown = createClient({ url: server.url, ...server.auth(), database: `nope_${suffix}` });
    await expect(unknown.query({ query: 'SELECT 1' })).rejects.toMatchObject({ code: '81' });
    await unknown.close();
  });

  test('gzip request and response compression', async () => {
    const t = table('gzip');
    const gz = createClient({ url: server.url, ...server.auth(), compression: { request: true, response: true } });
    try {
      await gz.command({ query: `CREATE TABLE ${t} (id UInt32, s String) ENGINE = MergeTree ORDER BY id` });
      await gz.insert({ table: t, values: Array.from({ length: 2000 }, (_, i) => ({ id: i, s: 'x'.repeat(50) })), format: 'JSONEachRow' });
      const rows = await (await gz.query({ query: `SELECT count() AS c, sum(length(s)) AS l FROM ${t}`, format: 'JSONEachRow' })).json();
      expect(rows).toEqual([{ c: '2000', l: '100000' }]);
    } finally {
      await gz.close();
    }
    const res = await raw('/?enable_http_compression=1&query=SELECT%20number%20FROM%20numbers(1000)', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(res.body).toString().split('\n')).toHaveLength(1001);
  });

  test('concurrent queries', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client
          .query({ query: `SELECT sum(number) AS s FROM numbers({n:UInt32})`, query_params: { n: (i + 1) * 100_000 }, format: 'JSONEachRow' })
          .then((r) => r.json<{ s: string }>()),
      ),
    );
    results.forEach((rows, i) => {
      const n = (i + 1) * 100_000;
      expect(rows[0]?.s).toBe(String((n * (n - 1)) / 2));
    });
  });

  test('query_id is echoed, summary and format headers are set', async () => {
    const res = await raw('/?query_id=my-query-1&default_format=JSONEachRow', { body: 'SELECT 1 AS x' });
    expect(res.status).toBe(200);
    expect(res.headers['x-clickhouse-query-id']).toBe('my-query-1');
    expect(res.headers['x-clickhouse-format']).toBe('JSONEachRow');
    expect(JSON.parse(String(res.headers['x-clickhouse-summary']))).toMatchObject({ read_rows: expect.any(String), elapsed_ns: expect.any(String) });
    expect(res.body.toString()).toBe('{"x":1}\n');
  });
});

describe('raw HTTP, as curl uses it', () => {
  test('GET with the query in the URL, /ping and /', async () => {
    expect((await raw('/?query=SELECT%201')).body.toString()).toBe('1\n');
    expect((await raw('/ping')).body.toString()).toBe('Ok.\n');
    expect((await raw('/')).body.toString()).toBe('Ok.\n');
    expect((await raw('/nope')).status).toBe(404);
  });

  test('errors carry X-ClickHouse-Exception-Code and the code in the body', async () => {
    const res = await raw('/', { body: 'SELECT * FROM' });
    expect(res.status).toBe(400);
    expect(res.headers['x-clickhouse-exception-code']).toBe('62');
    expect(res.body.toString()).toMatch(/^Code: 62\. DB::Exception: .*\(SYNTAX_ERROR\)/);
  });

  test('multi-statements are refused', async () => {
    const res = await raw('/', { body: "SELECT 1; SELECT 'a;b'" });
    expect(res.status).toBe(400);
    expect(res.body.toString()).toMatch(/Multi-statements are not allowed/);
    const ok = await raw('/', { body: "SELECT 'a;b'; -- trailing; comment" });
    expect(ok.body.toString()).toBe('a;b\n');
  });

  test('GET is read-only, as on a ClickHouse server', async () => {
    const res = await raw(`/?query=${encodeURIComponent(`CREATE TABLE ${table('get')} (x UInt8) ENGINE = Memory`)}`);
    expect(res.status).toBe(403);
    expect(res.headers['x-clickhouse-exception-code']).toBe('164');
  });

  test('insert with the query in the URL and data in the body, and inline VALUES', async () => {
    const t = table('urlinsert');
    await raw('/', { body: `CREATE TABLE ${t} (x UInt32) ENGINE = MergeTree ORDER BY x` });
    const a = await raw(`/?query=${encodeURIComponent(`INSERT INTO ${t} FORMAT JSONEachRow`)}`, { body: '{"x":1}\n{"x":2}\n' });
    expect(a.status).toBe(200);
    const b = await raw('/', { body: `INSERT INTO ${t} VALUES (3), (4)` });
    expect(b.status).toBe(200);
    const c = await raw('/', { body: `INSERT INTO ${t} FORMAT TSV\n5\n` });
    expect(c.status).toBe(200);
    expect((await raw('/', { body: `SELECT sum(x) FROM ${t}` })).body.toString()).toBe('15\n');
  });

  test('a gzip bomb is stopped at the body limit and the server keeps serving', async () => {
    // 600 MiB of zeros compresses to well under 1 MiB; the limit is 512 MiB.
    const bomb = zlib.gzipSync(Buffer.alloc(600 * 1024 * 1024), { level: 9 });
    const res = await raw('/?query=INSERT%20INTO%20x%20FORMAT%20CSV', { body: bomb, headers: { 'Content-Encoding': 'gzip' } });
    expect(res.status).toBe(400);
    expect(res.body.toString()).toMatch(/exceeds the limit/);
    expect((await raw('/?query=SELECT%202')).body.toString()).toBe('2\n');
  });

  test('corrupt gzip body is a clear error', async () => {
    const res = await raw('/', { body: Buffer.from('not gzip at all'), headers: { 'Content-Encoding': 'gzip' } });
    expect(res.status).toBe(400);
    expect(res.body.toString()).toMatch(/cannot decompress/);
  });
});

describe('users', () => {
  test('wrong password and unknown user are refused with 401 and code 516', async () => {
    const bad = createClient({ url: server.url, username: 'tidemark_readonly', password: 'wrong' });
    await expect(bad.query({ query: 'SELECT 1' })).rejects.toMatchObject({ code: '516' });
    await bad.close();
    const res = await raw('/?user=ghost&password=x&query=SELECT%201', { anonymous: true });
    expect(res.status).toBe(401);
  });

  test('the read-only user can read but not write, change readonly, or read files', async () => {
    const t = table('ro');
    await client.command({ query: `CREATE TABLE ${t} (x UInt8) ENGINE = MergeTree ORDER BY x` });
    await client.insert({ table: t, values: [{ x: 1 }], format: 'JSONEachRow' });
    const ro = createClient({ url: server.url, username: 'tidemark_readonly', password: 'ro-secret' });
    try {
      expect(await (await ro.query({ query: `SELECT count() AS c FROM ${t}`, format: 'JSONEachRow' })).json()).toEqual([{ c: '1' }]);
      await expect(ro.insert({ table: t, values: [{ x: 2 }], format: 'JSONEachRow' })).rejects.toMatchObject({ code: '164' });
      await expect(ro.command({ query: `DROP TABLE ${t}` })).rejects.toMatchObject({ code: '164' });
      await expect(ro.query({ query: `SELECT 1 SETTINGS readonly = 0` })).rejects.toMatchObject({ code: '164' });
      await expect(ro.query({ query: 'SELECT 1', clickhouse_settings: { readonly: '0' } })).rejects.toMatchObject({ code: '164' });
      await expect(ro.query({ query: "SELECT * FROM file('/etc/passwd', 'LineAsString')" })).rejects.toMatchObject({ code: '497' });
      // Limits may be lowered but not raised or switched off.
      await expect(ro.query({ query: 'SELECT 1', clickhouse_settings: { max_execution_time: 0 } })).rejects.toMatchObject({ code: '452' });
      await expect(
        ro.query({ query: 'SELECT number FROM numbers(10)', clickhouse_settings: { max_result_rows: '5', result_overflow_mode: 'throw' } }),
      ).rejects.toMatchObject({
        code: '396',
      });
    } finally {
      await ro.close();
    }
    // The table is intact.
    expect(await (await client.query({ query: `SELECT count() AS c FROM ${t}`, format: 'JSONEachRow' })).json()).toEqual([{ c: '1' }]);
  });
});

describe('durability', () => {
  test('data survives a graceful restart on the same data directory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-chrestart-'));
    let s = await spawnEmbeddedClickHouse({ dataDir: dir });
    let c = createClient({ url: s.url, ...s.auth() });
    await c.command({ query: 'CREATE TABLE keep (x UInt32) ENGINE = MergeTree ORDER BY x' });
    await c.insert({ table: 'keep', values: [{ x: 40 }, { x: 2 }], format: 'JSONEachRow' });
    await c.close();
    await s.stop();
    s = await spawnEmbeddedClickHouse({ dataDir: dir });
    c = createClient({ url: s.url, ...s.auth() });
    try {
      expect(await (await c.query({ query: 'SELECT sum(x) AS s FROM keep', format: 'JSONEachRow' })).json()).toEqual([{ s: '42' }]);
    } finally {
      await c.close();
      await s.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
