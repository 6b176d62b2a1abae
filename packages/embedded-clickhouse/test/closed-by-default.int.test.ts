/**
 * The embedded ClickHouse front is closed by default: credentials generated
 * on first start (0600), anonymous and wrong credentials refused, nothing a
 * statement does reaches the host's files or the network, for either user;
 * parameterized statements run concurrently, each with its own values.
 * Real chDB in a child process.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createLogger } from '@tidemark/core';
import { CLICKHOUSE_SECRETS_FILE } from '../src/secrets';
import { startEmbeddedClickHouse } from '../src/server';
import { spawnEmbeddedClickHouse, type SpawnedClickHouse } from '../src/spawn';

let server: SpawnedClickHouse;
let rw: ClickHouseClient;
let ro: ClickHouseClient;
let dataDir: string;
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-chout-'));

function get(pathAndQuery: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; code: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(pathAndQuery, server.url), { method: body === undefined ? 'GET' : 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: res.headers['x-clickhouse-exception-code'] as string | undefined, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-chclosed-'));
  server = await spawnEmbeddedClickHouse({ dataDir, env: { CLICKHOUSE_PASSWORD: '', CLICKHOUSE_READONLY_PASSWORD: '' } });
  rw = createClient({ url: server.url, ...server.auth(), request_timeout: 60_000 });
  ro = createClient({ url: server.url, ...server.auth(true), request_timeout: 60_000 });
  await rw.command({ query: 'CREATE TABLE closed_t (x UInt32) ENGINE = MergeTree ORDER BY x' });
  await rw.insert({ table: 'closed_t', values: [{ x: 1 }], format: 'JSONEachRow' });
});

afterAll(async () => {
  await rw?.close();
  await ro?.close();
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(outDir, { recursive: true, force: true });
});

describe('credentials', () => {
  test('generated on first start into a 0600 file, non-empty, distinct, reused on restart', async () => {
    const file = path.join(dataDir, CLICKHOUSE_SECRETS_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { password: string; readonlyPassword: string };
    expect(saved.password).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(saved.readonlyPassword).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(saved.password).not.toBe(saved.readonlyPassword);
    expect(server.credentials).toMatchObject({
      user: 'default',
      password: saved.password,
      readonlyUser: 'tidemark_readonly',
      readonlyPassword: saved.readonlyPassword,
    });
  });

  test('anonymous, empty-password, wrong-password and unknown-user requests are refused with 401 / 516', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { 'X-ClickHouse-User': 'default' },
      { 'X-ClickHouse-User': 'default', 'X-ClickHouse-Key': '' },
      { 'X-ClickHouse-User': 'default', 'X-ClickHouse-Key': 'wrong' },
      { 'X-ClickHouse-User': 'tidemark_readonly', 'X-ClickHouse-Key': '' },
      { 'X-ClickHouse-User': 'tidemark_readonly', 'X-ClickHouse-Key': server.credentials.password },
      { Authorization: `Basic ${Buffer.from('default:').toString('base64')}` },
      { Authorization: `Basic ${Buffer.from('ghost:x').toString('base64')}` },
    ];
    for (const headers of attempts) {
      const res = await get('/?query=SELECT%201', headers);
      expect({ headers, status: res.status, code: res.code }).toEqual({ headers, status: 401, code: '516' });
      const post = await get('/', headers, 'DROP TABLE closed_t');
      expect(post.status).toBe(401);
    }
    expect((await get('/?user=default&query=SELECT%201')).status).toBe(401);
    expect((await get(`/?user=default&password=${encodeURIComponent(server.credentials.password)}&query=SELECT%201`)).body).toBe('1\n');
    // The table the anonymous DROP aimed at is intact.
    expect(await (await rw.query({ query: 'SELECT count() AS c FROM closed_t', format: 'JSONEachRow' })).json()).toEqual([{ c: '1' }]);
  });

  test('an empty password is refused at start with a clear error', async () => {
    await expect(
      startEmbeddedClickHouse({
        dataDir: path.join(dataDir, 'never'),
        port: 0,
        logger: createLogger({ level: 'silent' }),
        users: [{ name: 'default', password: '', readonly: false }],
      }),
    ).rejects.toThrow(/refuses to start with an empty password for user default/);
  });

  test('configured passwords win over the generated ones', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-chcfg-'));
    const s = await spawnEmbeddedClickHouse({
      dataDir: dir,
      env: { CLICKHOUSE_PASSWORD: 'configured-rw', CLICKHOUSE_READONLY_PASSWORD: 'configured-ro', CLICKHOUSE_USER: 'platform' },
    });
    try {
      expect(s.credentials).toMatchObject({ user: 'platform', password: 'configured-rw', readonlyPassword: 'configured-ro' });
      const c = createClient({ url: s.url, username: 'platform', password: 'configured-rw' });
      expect(await (await c.query({ query: 'SELECT 2 AS x', format: 'JSONEachRow' })).json()).toEqual([{ x: 2 }]);
      await c.close();
      const generated = JSON.parse(fs.readFileSync(path.join(dir, CLICKHOUSE_SECRETS_FILE), 'utf8')) as { password: string };
      const old = createClient({ url: s.url, username: 'platform', password: generated.password });
      await expect(old.query({ query: 'SELECT 1' })).rejects.toMatchObject({ code: '516' });
      await old.close();
    } finally {
      await s.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('nothing reaches the host or the network, for either user', () => {
  const out = (name: string): string => path.join(outDir, name);
  const refused: [string, string][] = [
    ['file() table function', "SELECT * FROM file('/etc/passwd', 'LineAsString')"],
    ['file() scalar function', "SELECT file('/etc/hostname')"],
    ['a path as a table (string)', "SELECT * FROM '/etc/hostname'"],
    ['a path as a table (backquoted)', 'SELECT * FROM `/etc/hostname`'],
    ['a path as a table (double-quoted, qualified)', 'SELECT * FROM default."/etc/hostname"'],
    ['a path after a FROM-list comma', 'SELECT * FROM numbers(1) AS n, `/etc/hostname`'],
    ['a path in a JOIN', "SELECT * FROM numbers(1) AS n JOIN '/etc/hostname' AS h ON 1"],
    ['a path in a subquery', "SELECT * FROM (SELECT * FROM '/etc/hostname')"],
    ['url()', "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')"],
    ['s3()', "SELECT * FROM s3('http://127.0.0.1:1/b/k', 'CSV')"],
    ['remote()', "SELECT * FROM remote('127.0.0.1:9000', system.one)"],
    ['remoteSecure()', "SELECT * FROM remoteSecure('127.0.0.1:9440', system.one)"],
    ['cluster()', "SELECT * FROM cluster('default', system.one)"],
    ['executable()', "SELECT * FROM executable('id', 'LineAsString')"],
    ['mysql()', "SELECT * FROM mysql('127.0.0.1:3306', 'db', 't', 'u', 'p')"],
    ['postgresql()', "SELECT * FROM postgresql('127.0.0.1:5432', 'db', 't', 'u', 'p')"],
    ['mongodb()', "SELECT * FROM mongodb('127.0.0.1:27017', 'db', 'c', 'u', 'p', 'x String')"],
    ['redis()', "SELECT * FROM redis('127.0.0.1:6379', 'k', 'k String')"],
    ['sqlite()', "SELECT * FROM sqlite('/tmp/x.db', 't')"],
    ['hdfs()', "SELECT * FROM hdfs('hdfs://127.0.0.1:9000/x', 'CSV')"],
    ['azureBlobStorage()', "SELECT * FROM azureBlobStorage('http://127.0.0.1:1', 'c', 'b')"],
    ['iceberg()', "SELECT * FROM iceberg('http://127.0.0.1:1/t')"],
    ['deltaLake()', "SELECT * FROM deltaLake('http://127.0.0.1:1/t')"],
    ['jdbc()', "SELECT * FROM jdbc('jdbc:x', 't')"],
    ['odbc()', "SELECT * FROM odbc('DSN=x', 't')"],
    ['filesystem()', "SELECT * FROM filesystem('/etc')"],
    ['merge()', "SELECT * FROM merge('default', '.*')"],
    ['dictionary()', "SELECT * FROM dictionary('d')"],
    ['upper-case table function', "SELECT * FROM URL('http://127.0.0.1:1/', 'LineAsString')"],
    ['a quoted identifier called as a function', "SELECT * FROM `file`('/etc/passwd', 'LineAsString')"],
    ['a double-quoted identifier called as a function', 'SELECT "file"(\'/etc/passwd\')'],
    ['a comment between the name and the call', "SELECT * FROM file/* x */('/etc/passwd', 'LineAsString')"],
    ['a non-ASCII space between the name and the call', "SELECT * FROM file\u00a0('/etc/passwd', 'LineAsString')"],
    ['a function hidden behind a heredoc', "SELECT $$'$$, file('/etc/passwd')"],
    ['INTO OUTFILE', `SELECT 1 INTO OUTFILE '${out('o1')}'`],
    ['INTO OUTFILE TRUNCATE in EXPLAIN', `EXPLAIN SELECT 1 INTO OUTFILE '${out('o2')}' TRUNCATE`],
    ['INTO OUTFILE after a comment', `SELECT 1 INTO /* c */ OUTFILE '${out('o3')}'`],
    ['INSERT INTO FUNCTION', `INSERT INTO FUNCTION file('${out('o4')}', 'CSV', 'x UInt8') VALUES (1)`],
    ['INSERT INTO TABLE FUNCTION', `INSERT INTO TABLE FUNCTION file('${out('o5')}', 'CSV', 'x UInt8') SELECT 1`],
    ['INSERT ... FROM INFILE', "INSERT INTO closed_t FROM INFILE '/etc/hostname' FORMAT LineAsString"],
    ['File engine', `CREATE TABLE ce_file (x UInt8) ENGINE = File(TSV, '${out('o6')}')`],
    ['URL engine', "CREATE TABLE ce_url (x UInt8) ENGINE = URL('http://127.0.0.1:1/', CSV)"],
    ['S3 engine', "CREATE TABLE ce_s3 (x UInt8) ENGINE = S3('http://127.0.0.1:1/b/k', 'CSV')"],
    ['Executable engine', "CREATE TABLE ce_exec (x String) ENGINE = Executable('id', LineAsString)"],
    ['MySQL engine', "CREATE TABLE ce_my (x UInt8) ENGINE = MySQL('127.0.0.1:3306', 'db', 't', 'u', 'p')"],
    ['PostgreSQL engine', "CREATE TABLE ce_pg (x UInt8) ENGINE = PostgreSQL('127.0.0.1:5432', 'db', 't', 'u', 'p')"],
    ['quoted engine name', 'CREATE TABLE ce_q (x UInt8) ENGINE = `File`(TSV)'],
    ['PostgreSQL database engine', "CREATE DATABASE ce_db ENGINE = PostgreSQL('127.0.0.1:5432', 'db', 'u', 'p')"],
    ['Filesystem database engine', "CREATE DATABASE ce_fs ENGINE = Filesystem('/etc')"],
    ['CREATE TABLE AS a path', 'CREATE TABLE ce_as AS `/etc/hostname`'],
    ['CREATE TABLE AS a table function', "CREATE TABLE ce_asf AS file('/etc/hostname', 'LineAsString')"],
    [
      'CREATE DICTIONARY',
      "CREATE DICTIONARY ce_dict (k UInt64, v String) PRIMARY KEY k SOURCE(FILE(path '/etc/passwd' format 'TSV')) LAYOUT(FLAT()) LIFETIME(0)",
    ],
    ['BACKUP', `BACKUP TABLE closed_t TO File('${out('o7')}')`],
    ['RESTORE', `RESTORE TABLE closed_t FROM File('${out('o7')}')`],
    ['ATTACH FROM a path', "ATTACH TABLE ce_att FROM '/var/lib/clickhouse/x' (x UInt8) ENGINE = MergeTree ORDER BY x"],
    ['a disk at a path', `CREATE TABLE ce_disk (x UInt8) ENGINE = MergeTree ORDER BY x SETTINGS disk = disk(type = local, path = '${out('d')}/')`],
    ['format_schema in SETTINGS', "SELECT 1 SETTINGS format_schema = '/etc/passwd:X'"],
    ['format_template_row in SET', "SET format_template_row = '/etc/passwd'"],
    ['default_table_engine', "SET default_table_engine = 'File'"],
    ['catboostEvaluate', "SELECT catboostEvaluate('/etc/passwd', 1)"],
  ];

  test.each(refused)('%s is refused with ACCESS_DENIED (497) for the read-write user', async (what, sql) => {
    const err = (await rw.command({ query: sql }).then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: string; message?: string } | undefined;
    expect(err).toBeDefined();
    expect({ what, code: err?.code }).toEqual({ what, code: '497' });
    expect(err?.message).toMatch(/not allowed on the embedded ClickHouse server/);
  });

  test.each(refused)('%s is refused with ACCESS_DENIED (497) for the read-only user', async (what, sql) => {
    const err = (await ro.query({ query: sql }).then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: string } | undefined;
    expect({ what, code: err?.code }).toEqual({ what, code: '497' });
  });

  test('INTO OUTFILE and INSERT INTO FUNCTION wrote no file', () => {
    for (const name of ['o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'd']) expect(fs.existsSync(out(name))).toBe(false);
    expect(fs.readdirSync(outDir)).toEqual([]);
  });

  test('a path-naming setting in the URL is refused', async () => {
    await expect(rw.query({ query: 'SELECT 1', clickhouse_settings: { format_schema: '/etc/passwd:X' } as never })).rejects.toMatchObject({ code: '497' });
  });

  test('an Identifier parameter must be a plain name', async () => {
    await expect(rw.query({ query: 'SELECT * FROM {t:Identifier}', query_params: { t: '/etc/hostname' } })).rejects.toMatchObject({ code: '497' });
    expect(await (await rw.query({ query: 'SELECT count() AS c FROM {t:Identifier}', query_params: { t: 'closed_t' }, format: 'JSONEachRow' })).json()).toEqual(
      [{ c: '1' }],
    );
  });

  test('VALUES data cannot call host functions', async () => {
    const res = await get(
      '/?query=' + encodeURIComponent('INSERT INTO closed_t FORMAT Values'),
      { 'X-ClickHouse-User': server.credentials.user, 'X-ClickHouse-Key': server.credentials.password },
      "(length(file('/etc/hostname')))",
    );
    expect(res.code).toBe('497');
  });

  test('what the platform does still works: generators, strings that look like calls, comments, EXTRACT FROM, allowed engines', async () => {
    const q = async (sql: string): Promise<unknown> => (await rw.query({ query: sql, format: 'JSONEachRow' })).json();
    expect(await q("SELECT count() AS c FROM numbers(10) WHERE 'file(x)' != '' -- url('x')")).toEqual([{ c: '10' }]);
    expect(await q("SELECT toString(EXTRACT(YEAR FROM toDate('2026-01-02'))) AS y, trim(BOTH ' ' FROM '  a ') AS t")).toEqual([{ y: '2026', t: 'a' }]);
    expect(await q('SELECT sum(generate_series) AS s FROM generateSeries(1, 3)')).toEqual([{ s: '6' }]);
    expect(await q("SELECT * FROM values('x UInt8', 1, 2) ORDER BY x")).toEqual([{ x: 1 }, { x: 2 }]);
    expect(await q('SELECT count() AS c FROM zeros(5)')).toEqual([{ c: '5' }]);
    expect(await q('SELECT 1 AS `events per hour`, \'a\' AS "path/like"')).toEqual([{ 'events per hour': 1, 'path/like': 'a' }]);
    for (const engine of ['Memory', 'Null', 'Log', 'ReplacingMergeTree ORDER BY x', 'AggregatingMergeTree ORDER BY x']) {
      const name = `ok_${engine.split(' ')[0]!.toLowerCase()}`;
      await rw.command({ query: `CREATE TABLE IF NOT EXISTS ${name} (x UInt8) ENGINE = ${engine}` });
    }
    await rw.command({ query: 'CREATE MATERIALIZED VIEW IF NOT EXISTS ok_mv ENGINE = Memory AS SELECT x FROM closed_t' });
    expect(await q("SELECT engine FROM system.tables WHERE name = 'ok_memory'")).toEqual([{ engine: 'Memory' }]);
  });
});

describe('parameterized statements run concurrently, each with its own values', () => {
  const slowSql = 'SELECT {tag:String} AS tag, {n:UInt32} AS n, sum(sleepEachRow(0.25)) AS z FROM numbers(12) SETTINGS max_block_size = 1';
  const fastSql = 'SELECT {tag:String} AS tag, {n:UInt32} AS n';

  test('many concurrent parameterized queries, both users, each gets its own values', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const client = i % 2 === 0 ? rw : ro;
        const tag = `t-${i}-'q'\\x`;
        const rows = await (await client.query({ query: fastSql, query_params: { tag, n: i }, format: 'JSONEachRow' })).json<{ tag: string; n: number }>();
        return { expected: { tag, n: i }, got: rows[0] };
      }),
    );
    for (const r of results) expect(r.got).toEqual(r.expected);
  });

  test('a slow parameterized query does not delay a fast one', async () => {
    const slowStarted = Date.now();
    const slow = rw
      .query({ query: slowSql, query_params: { tag: 'slow', n: 1 }, format: 'JSONEachRow' })
      .then(async (r) => ({ rows: await r.json<{ tag: string }>(), ms: Date.now() - slowStarted }));
    await new Promise((r) => setTimeout(r, 200)); // the slow one is running
    const fast: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = Date.now();
      const rows = await (
        await ro.query({ query: fastSql, query_params: { tag: `fast${i}`, n: i }, format: 'JSONEachRow' })
      ).json<{ tag: string; n: number }>();
      fast.push(Date.now() - t);
      expect(rows).toEqual([{ tag: `fast${i}`, n: i }]);
    }
    const s = await slow;
    expect(s.rows[0]?.tag).toBe('slow');
    expect(s.ms).toBeGreaterThanOrEqual(2_500);
    // Each fast query finished while the slow one ran, in a fraction of its time.
    expect(Math.max(...fast)).toBeLessThan(1_000);
    process.stdout.write(`slow parameterized query ${s.ms} ms; fast parameterized queries meanwhile: ${fast.join(', ')} ms\n`);
  }, 30_000);
});
