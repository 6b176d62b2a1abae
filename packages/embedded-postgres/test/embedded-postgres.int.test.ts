import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Pool, type DatabaseError, type PoolClient } from 'pg';
import { serialize } from 'pg-protocol';
import { createLogger, UnavailableError } from '@tidemark/core';
import { resolvePostgresCredentials, startEmbeddedPostgres, type EmbeddedPostgres } from '../src';

// PGlite over the wire, driven by the real `pg` driver. Each server takes a
// few seconds to open, so one server serves most tests; tests use tables
// with unique names so they do not see each other's rows.

const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });
const dirs: string[] = [];
const servers: EmbeddedPostgres[] = [];
const pools: Pool[] = [];

function tempDir(): string {
  const dir = path.join(os.tmpdir(), `tidemark-pg-${crypto.randomBytes(6).toString('hex')}`);
  dirs.push(dir);
  return dir;
}

function table(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(4).toString('hex')}`;
}

/** The test servers' one user. */
const AUTH = { user: 'postgres', password: `pw-${crypto.randomBytes(12).toString('hex')}` };

async function start(opts: { dataDir?: string; idleInTransactionTimeoutMs?: number } = {}): Promise<EmbeddedPostgres> {
  const pg = await startEmbeddedPostgres({
    dataDir: opts.dataDir ?? tempDir(),
    port: 0,
    logger,
    auth: AUTH,
    idleInTransactionTimeoutMs: opts.idleInTransactionTimeoutMs,
  });
  servers.push(pg);
  return pg;
}

function pool(url: string, max = 10): Pool {
  const p = new Pool({ connectionString: url, max });
  p.on('error', () => undefined); // sessions terminated by the server on purpose
  pools.push(p);
  return p;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds (the machine may be busy), failing after 10 s. */
async function waitFor(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await sleep(10);
  }
}

let server: EmbeddedPostgres;
let db: Pool;

beforeAll(async () => {
  server = await start();
  db = pool(server.url);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  await Promise.all(servers.map((s) => s.close()));
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

test('serves a postgres:// URL on loopback', () => {
  expect(server.url).toBe(`postgres://postgres:${AUTH.password}@127.0.0.1:${server.port}/postgres`);
  expect(server.host).toBe('127.0.0.1');
  expect(server.port).toBeGreaterThan(0);
});

test('create table, parameterized insert and select', async () => {
  const t = table('items');
  await db.query(`CREATE TABLE ${t} (id serial PRIMARY KEY, name text NOT NULL, meta jsonb, at timestamptz DEFAULT now())`);
  const ins = await db.query<{ id: number }>(`INSERT INTO ${t} (name, meta) VALUES ($1, $2), ($3, $4) RETURNING id`, [
    'a',
    { k: 1 },
    "b'; DROP TABLE x; --",
    null,
  ]);
  expect(ins.rows.map((r) => r.id)).toEqual([1, 2]);
  const sel = await db.query<{ name: string; meta: unknown; at: Date }>(`SELECT name, meta, at FROM ${t} WHERE id = ANY($1::int[]) ORDER BY id`, [[1, 2]]);
  expect(sel.rows.map((r) => [r.name, r.meta])).toEqual([
    ['a', { k: 1 }],
    ["b'; DROP TABLE x; --", null],
  ]);
  expect(sel.rows[0]?.at).toBeInstanceOf(Date);
  const version = await db.query<{ v: string }>('SELECT version() AS v');
  expect(version.rows[0]?.v).toMatch(/^PostgreSQL 1\d/);
});

test('a transaction that rolls back leaves nothing', async () => {
  const t = table('rb');
  await db.query(`CREATE TABLE ${t} (x int)`);
  const c = await db.connect();
  try {
    await c.query('BEGIN');
    await c.query(`INSERT INTO ${t} VALUES ($1)`, [1]);
    expect((await c.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n).toBe(1);
    await c.query('ROLLBACK');
  } finally {
    c.release();
  }
  expect((await db.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n).toBe(0);
});

test('10 concurrent pool transactions are isolated: the rolled-back one leaves nothing, the others commit', async () => {
  const t = table('conc');
  await db.query(`CREATE TABLE ${t} (tx int, step int)`);
  const rolledBack = 6;
  const started: number[] = [];
  const results = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const c = await db.connect();
      try {
        await c.query('BEGIN');
        started.push(i);
        await c.query(`INSERT INTO ${t} VALUES ($1, 1)`, [i]);
        await c.query('SELECT pg_sleep(0.05)');
        // Inside the transaction only its own rows are visible: no other
        // connection's uncommitted (or committed-later) rows leak in.
        const seen = await c.query<{ tx: number }>(`SELECT DISTINCT tx FROM ${t} WHERE tx = $1 OR step = 2`, [i]);
        await c.query(`INSERT INTO ${t} VALUES ($1, 2)`, [i]);
        await c.query(i === rolledBack ? 'ROLLBACK' : 'COMMIT');
        return seen.rows.map((r) => r.tx);
      } finally {
        c.release();
      }
    }),
  );
  expect(started).toHaveLength(10);
  const rows = await db.query<{ tx: number; step: number }>(`SELECT tx, step FROM ${t} ORDER BY tx, step`);
  const committed = [0, 1, 2, 3, 4, 5, 7, 8, 9];
  expect(rows.rows).toEqual(
    committed.flatMap((tx) => [
      { tx, step: 1 },
      { tx, step: 2 },
    ]),
  );
  // Each transaction saw its own rows plus whole transactions committed before it, never the rolled-back one.
  results.forEach((seen, i) => {
    expect(seen).toContain(i);
    if (i !== rolledBack) expect(seen).not.toContain(rolledBack);
  });
});

test('a statement from another connection waits for an open transaction and then sees its commit', async () => {
  const t = table('wait');
  await db.query(`CREATE TABLE ${t} (x int)`);
  const a = await db.connect();
  const b = await db.connect();
  try {
    await a.query('BEGIN');
    await a.query(`INSERT INTO ${t} VALUES (1)`);
    let bDone = false;
    const bCount = b.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`).then((r) => {
      bDone = true;
      return r.rows[0]?.n;
    });
    await sleep(200);
    expect(bDone).toBe(false); // serialized behind A's transaction
    await a.query(`INSERT INTO ${t} VALUES (2)`);
    await a.query('COMMIT');
    expect(await bCount).toBe(2);
  } finally {
    a.release();
    b.release();
  }
});

test('named prepared statements with the same name on several connections do not collide', async () => {
  const t = table('named');
  await db.query(`CREATE TABLE ${t} (x int)`);
  await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const c = await db.connect();
      try {
        for (let k = 0; k < 3; k++) await c.query({ name: 'insert-x', text: `INSERT INTO ${t} VALUES ($1)`, values: [i * 10 + k] });
        const r = await c.query({ name: 'count-x', text: `SELECT count(*)::int AS n FROM ${t} WHERE x / 10 = $1`, values: [i] });
        expect(r.rows[0].n).toBe(3);
      } finally {
        c.release();
      }
    }),
  );
  expect((await db.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n).toBe(30);
});

// pg's own SCRAM client, for raw protocol connections.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sasl = require('pg/lib/crypto/sasl') as {
  startSession(mechanisms: string[]): { mechanism: string; response: string; clientNonce: string; message: string };
  continueSession(session: unknown, password: string, serverData: string): Promise<void>;
  finalizeSession(session: unknown, serverData: string): void;
};

/**
 * A raw protocol connection, authenticated (startup and SCRAM done): what a
 * client sends, and the backend message types it got back from
 * AuthenticationOk on.
 */
async function rawConnection(port: number): Promise<{ send(b: Buffer): void; received(): string[]; close(): void }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let buf = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
  /** The next R message with the given auth code: its data, with everything up to it dropped. */
  const nextAuth = async (code: number): Promise<string> => {
    await waitFor(() => buf.length >= 9 && buf.length >= 1 + buf.readInt32BE(1));
    const len = buf.readInt32BE(1);
    if (buf[0] !== 0x52 || buf.readInt32BE(5) !== code)
      throw new Error(`expected auth ${code}, got ${String.fromCharCode(buf[0] as number)} ${buf.readInt32BE(5)}`);
    const data = buf.subarray(9, 1 + len).toString('utf8');
    buf = buf.subarray(1 + len);
    return data;
  };
  socket.write(serialize.startup({ user: AUTH.user, database: 'postgres' }));
  const session = sasl.startSession((await nextAuth(10)).split('\0').filter((m) => m !== ''));
  socket.write(serialize.sendSASLInitialResponseMessage(session.mechanism, session.response));
  await sasl.continueSession(session, AUTH.password, await nextAuth(11));
  socket.write(serialize.sendSCRAMClientFinalMessage(session.response));
  sasl.finalizeSession(session, await nextAuth(12));
  return {
    send: (b) => socket.write(b),
    close: () => socket.destroy(),
    received: () => {
      const out: string[] = [];
      for (let i = 0; i + 5 <= buf.length; i += 1 + buf.readInt32BE(i + 1)) {
        const type = String.fromCharCode(buf[i] as number);
        const body = buf.subarray(i + 5, i + 1 + buf.readInt32BE(i + 1));
        if (type === 'D') out.push(`D:${body.subarray(6).toString()}`);
        else if (type === 'E')
          out.push(
            `E:${body
              .toString()
              .split('\0')
              .find((f) => f.startsWith('C'))
              ?.slice(1)}`,
          );
        else if (type !== 'S') out.push(type);
      }
      return out;
    },
  };
}

test('an extended-protocol batch split across writes is not interleaved with another connection', async () => {
  const a = await rawConnection(server.port);
  const b = await rawConnection(server.port);
  try {
    await waitFor(() => a.received().length === 3 && b.received().length === 3);
    // A pipelines Parse+Bind of the unnamed statement and sends Execute+Sync
    // later; B's whole batch arrives in between. On a shared backend B's
    // Parse would replace A's unnamed statement (A would get 34000); here B
    // waits until A's Sync.
    a.send(Buffer.concat([serialize.parse({ text: "SELECT 'from A'" }), serialize.bind({})]));
    await sleep(100);
    b.send(Buffer.concat([serialize.parse({ text: "SELECT 'from B'" }), serialize.bind({}), serialize.execute({}), serialize.sync()]));
    await sleep(100);
    expect(b.received()).toEqual(['R', 'K', 'Z']); // only its startup so far
    a.send(Buffer.concat([serialize.execute({}), serialize.sync()]));
    await waitFor(() => a.received().length === 8 && b.received().length === 8);
    expect(a.received()).toEqual(['R', 'K', 'Z', '1', '2', 'D:from A', 'C', 'Z']);
    expect(b.received()).toEqual(['R', 'K', 'Z', '1', '2', 'D:from B', 'C', 'Z']);
  } finally {
    a.close();
    b.close();
  }
});

test('statements pipelined ahead of Terminate still run', async () => {
  const t = table('term');
  await db.query(`CREATE TABLE ${t} (x int)`);
  const c = await rawConnection(server.port);
  c.send(Buffer.concat([serialize.query('BEGIN'), serialize.query(`INSERT INTO ${t} VALUES (1)`), serialize.query('COMMIT'), serialize.end()]));
  await waitFor(() => c.received().filter((m) => m === 'Z').length === 4);
  c.close();
  expect((await db.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n).toBe(1);
});

test('bad SQL returns the Postgres SQLSTATE and the server keeps serving', async () => {
  await expect(db.query('SELEC 1')).rejects.toMatchObject({ code: '42601' });
  await expect(db.query('SELECT * FROM no_such_table_here WHERE x = $1', [1])).rejects.toMatchObject({ code: '42P01' });
  await expect(db.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012', message: 'division by zero' });
  const t = table('uniq');
  await db.query(`CREATE TABLE ${t} (k text PRIMARY KEY)`);
  await db.query(`INSERT INTO ${t} VALUES ('a')`);
  const dup = (await db.query(`INSERT INTO ${t} VALUES ('a')`).catch((e: unknown) => e)) as DatabaseError;
  expect(dup.code).toBe('23505');
  expect(dup.constraint).toBe(`${t}_pkey`);

  // An error inside a transaction aborts it (25P02) until ROLLBACK, and only that connection's.
  const c = await db.connect();
  try {
    await c.query('BEGIN');
    await expect(c.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
    await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    await c.query('ROLLBACK');
    expect((await c.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  } finally {
    c.release();
  }
  expect((await db.query('SELECT 2 AS two')).rows[0].two).toBe(2);
});

test('pg_advisory_xact_lock works and serializes its holders', async () => {
  const t = table('lock');
  await db.query(`CREATE TABLE ${t} (n int)`);
  await db.query(`INSERT INTO ${t} VALUES (0)`);
  // Read-modify-write under the lock from 10 connections: no lost update.
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      const c = await db.connect();
      try {
        await c.query('BEGIN');
        await c.query('SELECT pg_advisory_xact_lock($1)', [7_316_011]);
        const n = (await c.query<{ n: number }>(`SELECT n FROM ${t}`)).rows[0]?.n ?? -1;
        await sleep(5);
        await c.query(`UPDATE ${t} SET n = $1`, [n + 1]);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    }),
  );
  expect((await db.query(`SELECT n FROM ${t}`)).rows[0].n).toBe(10);
  const held = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`);
  expect(held.rows[0]?.n).toBe(0); // released at commit
  expect((await db.query('SELECT pg_try_advisory_xact_lock(1) AS ok')).rows[0].ok).toBe(true);
});

test('a client that disconnects inside a transaction is rolled back and frees the engine', async () => {
  const t = table('gone');
  await db.query(`CREATE TABLE ${t} (x int)`);
  const c = new Client({ connectionString: server.url });
  c.on('error', () => undefined);
  await c.connect();
  await c.query('BEGIN');
  await c.query(`INSERT INTO ${t} VALUES (1)`);
  await c.query({ name: 'left-behind', text: 'SELECT $1::int AS v', values: [1] });
  await c.end();
  expect((await db.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n).toBe(0);
  const stmts = await db.query<{ name: string }>(`SELECT name FROM pg_prepared_statements WHERE name LIKE '%left-behind'`);
  expect(stmts.rows).toEqual([]);
});

test('a connection idle in a transaction while others wait is terminated after the timeout', async () => {
  const srv = await start({ idleInTransactionTimeoutMs: 300 });
  const p = pool(srv.url);
  const a = await p.connect();
  a.on('error', () => undefined);
  await a.query('BEGIN');
  const t0 = Date.now();
  expect((await p.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  await expect(a.query('SELECT 1')).rejects.toThrow();
  a.release(true);
});

test('a database other than postgres is refused with 3D000', async () => {
  const c = new Client({ connectionString: server.url.replace(/\/postgres$/, '/other') });
  await expect(c.connect()).rejects.toMatchObject({ code: '3D000' });
});

test('data survives close() and a restart on the same dataDir; the dataDir cannot be opened twice', async () => {
  const dataDir = tempDir();
  const first = await start({ dataDir });
  await expect(startEmbeddedPostgres({ dataDir, port: 0, logger, auth: AUTH })).rejects.toBeInstanceOf(UnavailableError);
  const p1 = pool(first.url, 2);
  await p1.query('CREATE TABLE kept (k text PRIMARY KEY, v int)');
  await p1.query('INSERT INTO kept SELECT $1 || g, g FROM generate_series(1, 1000) g', ['k']);
  const c: PoolClient = await p1.connect();
  await c.query('BEGIN');
  await c.query(`INSERT INTO kept VALUES ('uncommitted', 0)`);
  c.release(); // still connected, inside the transaction: close() must roll it back
  await first.close();

  const second = await start({ dataDir });
  const p2 = pool(second.url, 2);
  const r = await p2.query<{ n: number; s: number }>('SELECT count(*)::int AS n, sum(v)::int AS s FROM kept');
  expect(r.rows[0]).toEqual({ n: 1000, s: 500_500 });
  await p2.end();
  await second.close();
});

test('two servers on port 0 get distinct ports', async () => {
  const other = await start();
  expect(other.port).not.toBe(server.port);
  const c = new Client({ connectionString: other.url });
  await c.connect();
  expect((await c.query('SELECT 42 AS v')).rows[0].v).toBe(42);
  await c.end();
});

describe('authentication (SCRAM-SHA-256)', () => {
  const withCreds = (user: string, password: string): string => {
    const u = new URL(server.url);
    u.username = encodeURIComponent(user);
    u.password = encodeURIComponent(password);
    return u.toString();
  };

  test('the URL carries the credentials and pg connects with SCRAM', async () => {
    expect(decodeURIComponent(new URL(server.url).password)).toBe(AUTH.password);
    const c = new Client({ connectionString: server.url });
    await c.connect();
    expect((await c.query('SELECT current_user IS NOT NULL AS ok')).rows[0].ok).toBe(true);
    await c.end();
  });

  test.each([
    ['a wrong password', AUTH.user, 'wrong'],
    ['another user with the right password', 'admin', AUTH.password],
  ])('%s is refused with 28P01 and the connection closed', async (_what, user, password) => {
    const c = new Client({ connectionString: withCreds(user, password) });
    c.on('error', () => undefined);
    await expect(c.connect()).rejects.toMatchObject({ code: '28P01', message: `password authentication failed for user "${user}"` });
  });

  test('a client without a password gets no further than the SCRAM request; cleartext and md5 answers are refused', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let buf = Buffer.alloc(0);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
    socket.write(serialize.startup({ user: AUTH.user, database: 'postgres' }));
    await waitFor(() => buf.length >= 9);
    expect(String.fromCharCode(buf[0] as number)).toBe('R');
    expect(buf.readInt32BE(5)).toBe(10); // AuthenticationSASL
    expect(buf.subarray(9).toString()).toContain('SCRAM-SHA-256');
    // A PasswordMessage with the password in clear is not a SCRAM exchange.
    socket.write(serialize.password(AUTH.password));
    await closed;
    expect(buf.toString()).toMatch(/28P01|08P01/);
    // Nothing ran: no ReadyForQuery was ever sent.
    expect(buf.includes(Buffer.from([0x5a, 0, 0, 0, 5]))).toBe(false);
  });

  test('refused connections cannot write: an api_keys-like row inserted without credentials does not exist', async () => {
    const t = table('noauth');
    await db.query(`CREATE TABLE ${t} (k text)`);
    const c = new Client({ connectionString: withCreds(AUTH.user, 'guess') });
    c.on('error', () => undefined);
    await expect(c.connect()).rejects.toMatchObject({ code: '28P01' });
    await expect(c.query(`INSERT INTO ${t} VALUES ('x')`)).rejects.toBeDefined();
    expect((await db.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n).toBe(0);
  });

  test('an empty password is refused at start', async () => {
    await expect(startEmbeddedPostgres({ dataDir: tempDir(), port: 0, logger, auth: { user: 'postgres', password: '' } })).rejects.toThrow(
      /non-empty password/,
    );
  });
});

describe('postgres-secrets.json', () => {
  test('generated once, 0600, reused; a wider mode is narrowed', () => {
    const dir = tempDir();
    const first = resolvePostgresCredentials(dir);
    expect(first.created).toBe(true);
    expect(first.credentials.user).toBe('postgres');
    expect(first.credentials.password).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(fs.statSync(first.file).mode & 0o777).toBe(0o600);
    fs.chmodSync(first.file, 0o644);
    const again = resolvePostgresCredentials(dir);
    expect(again).toMatchObject({ created: false, credentials: first.credentials });
    expect(fs.statSync(first.file).mode & 0o777).toBe(0o600);
  });
});

test('a commit is answered only after its WAL is synced; reads sync nothing; a clean stop syncs the data directory', async () => {
  const dir = tempDir();
  const pg = await start({ dataDir: dir });
  const c = new Client({ connectionString: pg.url });
  await c.connect();
  try {
    const t = table('durable');
    await c.query(`CREATE TABLE ${t} (id int PRIMARY KEY, v text)`);
    const before = pg.durability.walSyncs;
    await c.query(`INSERT INTO ${t} VALUES (1, 'kept')`);
    // The INSERT's autocommit wrote WAL, and the answer came after the sync.
    expect(pg.durability.walSyncs).toBe(before + 1);
    await c.query('BEGIN');
    await c.query(`INSERT INTO ${t} VALUES (2, 'in a transaction')`);
    // Inside a transaction nothing is committed yet: no sync is owed.
    expect(pg.durability.walSyncs).toBe(before + 1);
    await c.query('COMMIT');
    expect(pg.durability.walSyncs).toBe(before + 2);
    await c.query(`SELECT * FROM ${t}`);
    await c.query('SELECT 1');
    expect(pg.durability.walSyncs).toBe(before + 2);
  } finally {
    await c.end();
  }
  const passes = pg.durability.dataPasses;
  await pg.close();
  expect(pg.durability.dataPasses).toBe(passes + 1);
  // WAL segments are kept, not recycled, so a stale pg_control still finds its WAL.
  const again = await start({ dataDir: dir });
  const r = await pool(again.url, 1).query<{ setting: string }>(`SELECT setting FROM pg_settings WHERE name = 'wal_recycle'`);
  expect(r.rows[0]?.setting).toBe('off');
});
