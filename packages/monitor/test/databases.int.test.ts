/**
 * Database health against the real services of this machine: the shared
 * Postgres, Redis and Kafka, the stack's ClickHouse (chDB), a private
 * Postgres with pg_stat_statements for slow statements, and a closed port
 * for each kind to show "down". Samples travel through the real collector.
 */
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { ClickHouseProbe, KafkaProbe, PostgresProbe, RedisProbe } from '../src';
import { closedPort, kafkaBrokers, latest, logger, postgresUrl, redisUrl, startStack, unique, type Stack } from './harness';
import { startPrivatePostgres } from './private-postgres';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

const base = { intervalMs: 1_000, timeoutMs: 2_000, logger };

test('Postgres: reachable, version, connections by state and the limit; an unreachable server is down and logged once', async () => {
  const client = stack.client();
  const down = `postgres://postgres@127.0.0.1:${await closedPort()}/postgres`;
  const up = new PostgresProbe({ ...base, name: 'pg-main', url: postgresUrl, slowMs: 500 }, client);
  const gone = new PostgresProbe({ ...base, name: 'pg-gone', url: down, slowMs: 500 }, client);
  // Someone idle and someone busy, so both states are there to count.
  const idle = new Client({ connectionString: postgresUrl });
  const busy = new Client({ connectionString: postgresUrl });
  await idle.connect();
  await busy.connect();
  const sleeping = busy.query('SELECT pg_sleep(1.5)');
  try {
    await new Promise((r) => setTimeout(r, 100));
    await Promise.all([up.run(), gone.run()]);
    await gone.run();
  } finally {
    await sleeping;
    await Promise.all([idle.end(), busy.end(), up.close(), gone.close()]);
  }
  expect(await client.flush({ timeoutMs: 10_000 })).toBe(true);
  expect(await latest(stack, 'db_up', ['db', 'kind'])).toMatchObject({ 'pg-main|postgres': 1, 'pg-gone|postgres': 0 });
  const conns = await latest(stack, 'postgres_connections', ['db', 'state']);
  expect(conns['pg-main|active']).toBeGreaterThanOrEqual(2); // the probe's own query and pg_sleep
  expect(conns['pg-main|idle']).toBeGreaterThanOrEqual(1);
  const pg = new Client({ connectionString: postgresUrl });
  await pg.connect();
  const settings = (
    await pg.query<{ max: string; version: string }>("SELECT current_setting('max_connections') AS max, current_setting('server_version') AS version")
  ).rows[0]!;
  await pg.end();
  expect(await latest(stack, 'postgres_connections_max', ['db'])).toEqual({ 'pg-main': Number(settings.max) });
  expect(await latest(stack, 'db_info', ['db', 'version'])).toEqual({ [`pg-main|${settings.version}`]: 1 });
  // The shared server does not preload pg_stat_statements: reported as unavailable, not as an error.
  expect(await latest(stack, 'postgres_stat_statements_available', ['db'])).toEqual({ 'pg-main': 0 });
  const logs = await stack.rows<{ level: string; message: string }>("SELECT level, message FROM logs_raw_v1 WHERE message LIKE 'postgres pg-gone%'");
  expect(logs).toEqual([{ level: 'ERROR', message: expect.stringMatching(/^postgres pg-gone is unreachable: .*ECONNREFUSED/) }]);
});

test('Postgres slow statements from pg_stat_statements: the statements slower than the threshold since the previous check', async () => {
  const server = await startPrivatePostgres({ shared_preload_libraries: 'pg_stat_statements' });
  const client = stack.client();
  const probe = new PostgresProbe({ ...base, name: 'pg-stats', url: server.url, slowMs: 200 }, client);
  const app = new Client({ connectionString: server.url });
  try {
    await app.connect();
    await app.query('CREATE EXTENSION pg_stat_statements');
    await app.query('SELECT pg_sleep(0.25)'); // before the baseline: must not be reported
    await probe.run(); // baseline
    for (let i = 0; i < 2; i++) await app.query('SELECT pg_sleep($1)', [0.3]);
    for (let i = 0; i < 5; i++) await app.query('SELECT count(*) FROM pg_class');
    await probe.run();
    await app.query('SELECT count(*) FROM pg_class');
    await probe.run(); // nothing slow since the previous check
  } finally {
    await app.end().catch(() => undefined);
    await probe.close();
    server.stop();
  }
  expect(await client.flush({ timeoutMs: 10_000 })).toBe(true);
  const counts = await stack.rows<{ value: number }>(
    "SELECT value FROM metrics_raw_v1 WHERE name = 'postgres_slow_statements' AND labels['db'] = 'pg-stats' ORDER BY timestamp",
  );
  expect(counts.map((r) => r.value)).toEqual([1, 0]);
  const mean = await stack.rows<{ value: number; queryid: string }>(
    "SELECT value, labels['queryid'] AS queryid FROM metrics_raw_v1 WHERE name = 'postgres_slow_statement_mean_ms'",
  );
  expect(mean).toHaveLength(1);
  expect(mean[0]!.value).toBeGreaterThanOrEqual(300);
  expect(mean[0]!.value).toBeLessThan(1_000);
  const logs = await stack.rows<{ message: string; attributes: Record<string, string> }>(
    "SELECT message, attributes FROM logs_raw_v1 WHERE message LIKE 'slow statement on pg-stats%'",
  );
  expect(logs).toHaveLength(1);
  expect(logs[0]!.attributes).toMatchObject({ db: 'pg-stats', database: 'postgres', calls: '2', queryid: mean[0]!.queryid });
  expect(logs[0]!.attributes.query).toMatch(/pg_sleep\(\$1\)/);
  expect(await latest(stack, 'postgres_stat_statements_available', ['db'])).toMatchObject({ 'pg-stats': 1 });
}, 60_000);

test('ClickHouse: ping, version, parts, merges, connections, by URL and through the platform client; a dead server is down', async () => {
  const client = stack.client();
  await stack.rows('SELECT 1'); // the stack's tables hold parts already (migrations)
  // The embedded server is closed by default: the URL carries its generated read-only credentials.
  const chUrl = new URL(stack.server.url);
  chUrl.username = stack.server.credentials.readonlyUser;
  chUrl.password = encodeURIComponent(stack.server.credentials.readonlyPassword);
  const byUrl = new ClickHouseProbe({ ...base, name: 'ch-url', url: chUrl.toString() }, client);
  const platform = new ClickHouseProbe({ ...base, name: 'ch-platform', client: stack.ch }, client);
  const dead = new ClickHouseProbe({ ...base, name: 'ch-dead', url: `http://default:@127.0.0.1:${await closedPort()}` }, client);
  try {
    await Promise.all([byUrl.run(), platform.run(), dead.run()]);
  } finally {
    await Promise.all([byUrl.close(), platform.close(), dead.close()]);
  }
  expect(await client.flush({ timeoutMs: 10_000 })).toBe(true);
  expect(await latest(stack, 'db_up', ['db', 'kind'])).toMatchObject({ 'ch-url|clickhouse': 1, 'ch-platform|clickhouse': 1, 'ch-dead|clickhouse': 0 });
  const version = (await stack.rows<{ v: string }>('SELECT version() AS v'))[0]!.v;
  expect(await latest(stack, 'db_info', ['db', 'version'])).toMatchObject({ [`ch-url|${version}`]: 1, [`ch-platform|${version}`]: 1 });
  const activeParts = Number((await stack.rows<{ n: string }>('SELECT count() AS n FROM system.parts WHERE active'))[0]!.n);
  const parts = await latest(stack, 'clickhouse_parts', ['db']);
  expect(parts['ch-url']).toBeGreaterThan(0);
  expect(Math.abs(parts['ch-url']! - activeParts)).toBeLessThanOrEqual(20); // inserts of this very test add a few
  expect((await latest(stack, 'clickhouse_parts_max_per_partition', ['db']))['ch-url']).toBeGreaterThanOrEqual(1);
  expect(await latest(stack, 'clickhouse_merges', ['db'])).toHaveProperty('ch-url');
  expect(await latest(stack, 'clickhouse_connections', ['db'])).toHaveProperty('ch-platform');
  // No replicated tables on a single embedded server: no replication samples at all.
  expect(await latest(stack, 'clickhouse_replicated_tables', ['db'])).toEqual({});
});

test('Redis: ping, version, memory, clients; a dead server is down', async () => {
  const client = stack.client();
  const up = new RedisProbe({ ...base, name: 'redis-main', url: redisUrl }, client);
  const dead = new RedisProbe({ ...base, name: 'redis-dead', url: `redis://127.0.0.1:${await closedPort()}` }, client);
  await Promise.all([up.run(), dead.run()]);
  expect(await client.flush({ timeoutMs: 10_000 })).toBe(true);
  expect(await latest(stack, 'db_up', ['db', 'kind'])).toMatchObject({ 'redis-main|redis': 1, 'redis-dead|redis': 0 });
  expect((await latest(stack, 'redis_memory_bytes', ['db']))['redis-main']).toBeGreaterThan(100_000);
  expect((await latest(stack, 'redis_connected_clients', ['db']))['redis-main']).toBeGreaterThanOrEqual(1);
  expect(Object.keys(await latest(stack, 'db_info', ['db', 'version'])).some((k) => /^redis-main\|\d+\.\d+/.test(k))).toBe(true);
});

test('Kafka: consumer lag per group, topic and partition; an unreachable cluster is down', async () => {
  const kafka = new Kafka({ clientId: unique('tm-mon'), brokers: kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const topic = unique('tm-mon-lag');
  const group = unique('tm-mon-group');
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  const client = stack.client();
  const probe = new KafkaProbe({ ...base, name: 'kafka-main', brokers: kafkaBrokers }, client);
  const dead = new KafkaProbe({ ...base, timeoutMs: 500, name: 'kafka-dead', brokers: `127.0.0.1:${await closedPort()}` }, client);
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `a${i}` })) });
    await producer.send({ topic, messages: Array.from({ length: 4 }, (_, i) => ({ partition: 1, value: `b${i}` })) });
    // The group has consumed 7 of partition 0 and all of partition 1.
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [
        { partition: 0, offset: '7' },
        { partition: 1, offset: '4' },
      ],
    });
    await Promise.all([probe.run(), dead.run()]);
  } finally {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin.disconnect();
    await Promise.all([probe.close(), dead.close()]);
  }
  expect(await client.flush({ timeoutMs: 10_000 })).toBe(true);
  expect(await latest(stack, 'db_up', ['db', 'kind'])).toMatchObject({ 'kafka-main|kafka': 1, 'kafka-dead|kafka': 0 });
  const lag = await latest(stack, 'kafka_consumer_lag', ['group', 'topic', 'partition']);
  expect(lag[`${group}|${topic}|0`]).toBe(3);
  expect(lag[`${group}|${topic}|1`]).toBe(0);
  expect((await latest(stack, 'kafka_consumer_group_lag', ['group']))[group]).toBe(3);
  expect((await latest(stack, 'kafka_brokers', ['db']))['kafka-main']).toBeGreaterThanOrEqual(1);
}, 60_000);

test('Postgres embedded (PGlite on the wire protocol): connections are counted from its TCP connections, not a false 0 from pg_stat_activity', async () => {
  const { startEmbeddedPostgres } = await import('@tidemark/embedded-postgres');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-mon-pglite-'));
  const server = await startEmbeddedPostgres({ dataDir: dir, logger, auth: { user: 'tidemark', password: 'monitor-test' }, syncCommits: false });
  const clients = Array.from({ length: 3 }, () => new Client({ connectionString: server.url }));
  const client = stack.client();
  const probe = new PostgresProbe({ ...base, name: 'pg-embedded', url: server.url, slowMs: 500 }, client);
  try {
    for (const c of clients) await c.connect();
    // The reason: PGlite is one backend; pg_stat_activity lists no client backend, not even the asking session.
    const own = await clients[0]!.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'");
    expect(Number(own.rows[0]!.n)).toBe(0);
    await probe.run();
  } finally {
    await Promise.all([...clients.map((c) => c.end()), probe.close()]);
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  expect(await client.flush({ timeoutMs: 10_000 })).toBe(true);
  const conns = await latest(stack, 'postgres_connections', ['db', 'state']);
  // The three clients and the probe's own connection.
  expect(conns['pg-embedded|open']).toBe(4);
  expect(Object.keys(conns).filter((k) => k.startsWith('pg-embedded|'))).toEqual(['pg-embedded|open']);
});
