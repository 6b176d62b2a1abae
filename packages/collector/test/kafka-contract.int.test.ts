/**
 * The Kafka topic contract of docs/ingestion.md, from a producer team's side:
 * the doc's kcat blocks, read from the markdown so the doc cannot drift, are
 * run as written with the real `kcat` against the real broker, and what lands
 * in ClickHouse is what the doc says (fields, the key the collector would
 * use, the partition murmur2 gives it, a retry landing once). Then the same
 * events twice straight into Kafka, twice over HTTP and once each way: every
 * rollup equals the number of distinct events.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { partitionOfKey, SIGNAL_SPECS, type MetricRow } from '../src';
import { bearer, kafkaBrokers, post } from './harness';
import { startKafkaPath, type KafkaPath } from './kafka-contract.kit';

const KCAT = process.env.TIDEMARK_KCAT ?? '/usr/bin/kcat';
const DOC = path.resolve(__dirname, '../../../docs/ingestion.md');
const haveKcat = fs.existsSync(KCAT);
// Without kcat the doc's examples cannot run: outside CI they are skipped, in CI that is a failure.
const kcatTest = haveKcat || process.env.CI === 'true' ? test : test.skip;

/** The bash block following `<!-- kcat-example:<name> -->` in docs/ingestion.md. */
function docBlock(name: string): string {
  const doc = fs.readFileSync(DOC, 'utf8');
  const m = new RegExp(`<!-- kcat-example:${name} -->\\n\`\`\`bash\\n([\\s\\S]*?)\`\`\``).exec(doc);
  if (!m) throw new Error(`docs/ingestion.md has no kcat-example:${name} block`);
  return m[1]!;
}

let k: KafkaPath;

/** Runs a doc block as a producer team would: bash, with the three settings the doc names. */
function runDocBlock(name: string): Promise<string> {
  if (!haveKcat)
    throw new Error(`${KCAT} is missing: the topic contract test runs Debian's kcat (apt-get install -y kcat; npm test installs it), or TIDEMARK_KCAT=<path>`);
  const script = docBlock(name);
  const env = {
    ...process.env,
    PATH: `${path.dirname(KCAT)}:${process.env.PATH ?? ''}`,
    KAFKA_BROKERS: kafkaBrokers,
    KAFKA_TOPIC_PREFIX: k.prefix,
    PROJECT: k.stack.project,
  };
  return new Promise((resolve, reject) => {
    execFile('bash', ['-euo', 'pipefail', '-c', script], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat-example:${name} failed (${err.message}): ${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Message counts per partition of a topic (high watermarks). */
async function highs(topic: string): Promise<number[]> {
  const admin = k.kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
  } finally {
    await admin.disconnect();
  }
}

/** The one partition that grew between two highs() readings, and its new message's offset. */
function grown(before: number[], after: number[]): { partition: number; offset: number } {
  const grew = after.map((h, p) => ({ partition: p, by: h - (before[p] ?? 0), offset: before[p] ?? 0 })).filter((x) => x.by > 0);
  expect(grew.map((x) => x.by)).toEqual([1]);
  return grew[0]!;
}

/** The key of the message at `offset`, read back with kcat. */
function keyAt(topic: string, partition: number, offset: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      KCAT,
      ['-C', '-b', kafkaBrokers, '-t', topic, '-p', String(partition), '-o', String(offset), '-c', '1', '-e', '-q', '-f', '%k'],
      { timeout: 30_000 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
}

const count = async (sql: string, params: Record<string, unknown> = {}): Promise<number> => Number((await k.stack.rows<{ c: string }>(sql, params))[0]?.c ?? 0);

beforeAll(async () => {
  if (!haveKcat && process.env.CI === 'true')
    throw new Error(`${KCAT} is missing: the topic contract test runs Debian's kcat (apt-get install -y kcat; npm test installs it), or TIDEMARK_KCAT=<path>`);
  k = await startKafkaPath({ name: 'tmkc' });
}, 120_000);

afterAll(async () => {
  await k?.close();
});

kcatTest(
  "the doc's kcat blocks produce an event, a metric sample and a log line that land as documented, keyed and partitioned as the collector does",
  async () => {
    const { topics, stack } = k;
    const before = { events: await highs(topics.events), metrics: await highs(topics.metrics), logs: await highs(topics.logs) };
    const startedAt = Date.now();
    await runDocBlock('event');
    await runDocBlock('metric');
    await runDocBlock('log');
    await k.drained();

    // The event: every documented field stored, a measure per number, counted once in every rollup.
    const events = await stack.rows<Record<string, unknown>>(
      "SELECT *, toUnixTimestamp64Milli(timestamp) AS ms FROM events_raw_v1 WHERE name = 'checkout.completed'",
    );
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event).toMatchObject({
      project_id: stack.project,
      event_id: '0b7f2c1e-5d4a-4e8b-9c3f-6a1d2e3f4a5b',
      distinct_id: 'user-42',
      session_id: 's-9',
      product: 'shop',
      channel: 'web',
      measures: { amount: 49.5, duration_ms: 840 },
    });
    expect(JSON.parse(event.properties as string)).toEqual({ plan: 'pro', amount: 49.5, duration_ms: 840 });
    // The block's own timestamp (date -u, milliseconds) is the stored time.
    expect(Number(event.ms)).toBeGreaterThanOrEqual(Math.floor(startedAt / 1000) * 1000);
    expect(Number(event.ms)).toBeLessThanOrEqual(Date.now());
    for (const g of ['1m', '1h', '1d']) expect(await count(`SELECT sum(events) AS c FROM events_${g}_v1 WHERE name = 'checkout.completed'`)).toBe(1);
    expect(await count("SELECT sum(count) AS c FROM event_measures_1m_v1 WHERE name = 'checkout.completed' AND measure = 'duration_ms'")).toBe(1);

    // The metric: labels stored as strings, labels_key = the <labels> part of the documented key.
    const metrics = await stack.rows<MetricRow>(
      "SELECT project_id, name, type, labels, labels_key, value FROM metrics_raw_v1 WHERE name = 'http_requests_total'",
    );
    expect(metrics).toEqual([
      {
        project_id: stack.project,
        name: 'http_requests_total',
        type: 'counter',
        labels: { method: 'GET', route: '/api/orders', status: '200' },
        labels_key: 'method="GET",route="/api/orders",status="200"',
        value: 1027,
      },
    ]);
    expect(await count("SELECT sum(count) AS c FROM metrics_1m_v1 WHERE name = 'http_requests_total'")).toBe(1);

    const logs = await stack.rows<Record<string, unknown>>(
      "SELECT project_id, level, service, message, attributes, request_id FROM logs_raw_v1 WHERE service = 'checkout'",
    );
    expect(logs).toEqual([
      { project_id: stack.project, level: 'WARN', service: 'checkout', message: 'payment retried', attributes: { attempt: '2' }, request_id: 'r-77' },
    ]);

    // Each message carries the key the collector computes for the stored row, on the partition
    // the collector's murmur2 gives that key: the two paths share partitions and order.
    const rowKeys = {
      events: SIGNAL_SPECS.events.key(
        (await stack.rows<Parameters<typeof SIGNAL_SPECS.events.key>[0]>("SELECT * FROM events_raw_v1 WHERE name = 'checkout.completed'"))[0]!,
      ),
      metrics: SIGNAL_SPECS.metrics.key(metrics[0]!),
      logs: SIGNAL_SPECS.logs.key((await stack.rows<Parameters<typeof SIGNAL_SPECS.logs.key>[0]>("SELECT * FROM logs_raw_v1 WHERE service = 'checkout'"))[0]!),
    };
    expect(rowKeys.metrics).toBe(`${stack.project}:http_requests_total:method="GET",route="/api/orders",status="200"`);
    for (const signal of ['events', 'metrics', 'logs'] as const) {
      const { partition, offset } = grown(before[signal], await highs(topics[signal]));
      expect({ signal, key: await keyAt(topics[signal], partition, offset) }).toEqual({ signal, key: rowKeys[signal] });
      expect({ signal, partition }).toEqual({ signal, partition: partitionOfKey(rowKeys[signal], 3) });
    }
    expect(k.dead).toEqual([]);
  },
);

kcatTest("a producer retry of the doc's event block lands once; the metric block run again stores a second sample, as documented", async () => {
  await runDocBlock('event');
  await runDocBlock('metric');
  await k.drained();
  expect(await count("SELECT count() AS c FROM events_raw_v1 WHERE name = 'checkout.completed'")).toBe(1);
  for (const g of ['1m', '1h', '1d']) expect(await count(`SELECT sum(events) AS c FROM events_${g}_v1 WHERE name = 'checkout.completed'`)).toBe(1);
  expect(await count("SELECT count() AS c FROM metrics_raw_v1 WHERE name = 'http_requests_total'")).toBe(2);
});

kcatTest("the doc's DLQ block shows a refused message with its key, reason and value", async () => {
  const producer = k.kafka.producer();
  await producer.connect();
  const value = `{"project_id":"${k.stack.project}","name":"jobs_total","type":"counter","value":-3}`;
  let at: { partition: number; offset: string };
  try {
    const [meta] = await producer.send({ topic: k.topics.metrics, acks: -1, messages: [{ key: `${k.stack.project}:jobs_total:`, value }] });
    at = { partition: meta!.partition, offset: meta!.baseOffset! };
  } finally {
    await producer.disconnect();
  }
  await k.waitForDead((d) => d.sourceTopic === k.topics.metrics, 1);
  const out = await runDocBlock('dlq');
  expect(out).toContain(`${k.topics.metrics}:${at.partition}:${at.offset} `);
  expect(out).toContain('tidemark-reason=value: a counter cannot be negative (got -3)');
  expect(out).toContain(`\n${value}\n`);
});

test('the same events twice straight into Kafka, twice over HTTP, and once each way: every rollup equals the number of distinct events', async () => {
  const { stack, topics } = k;
  const name = 'contract.twice';
  const group = (tag: string) =>
    Array.from({ length: 25 }, (_, i) => ({ event_id: crypto.randomUUID(), name, distinct_id: `${tag}-${i % 7}`, properties: { ms: i } }));
  const [kafkaTwice, httpTwice, httpThenKafka, kafkaThenHttp] = ['kk', 'hh', 'hk', 'kh'].map(group) as [
    ReturnType<typeof group>,
    ReturnType<typeof group>,
    ReturnType<typeof group>,
    ReturnType<typeof group>,
  ];
  const producer = k.kafka.producer({ idempotent: true });
  await producer.connect();
  // A direct producer as the doc describes it: one message per event, keyed <project>:<user>, murmur2 (kafkajs' default).
  const direct = async (events: typeof kafkaTwice): Promise<void> => {
    await producer.send({
      topic: topics.events,
      acks: -1,
      messages: events.map((e) => ({ key: `${stack.project}:${e.distinct_id}`, value: JSON.stringify({ ...e, project_id: stack.project }) })),
    });
  };
  const http = async (events: typeof kafkaTwice) => {
    const r = await post(`${k.collector.url}/v1/events`, JSON.stringify(events), bearer(stack.keys.ingest));
    expect(r.status).toBe(200);
    return r.json;
  };
  try {
    await direct(kafkaTwice);
    expect(await http(httpTwice)).toMatchObject({ accepted: 25, duplicates: 0 });
    await http(httpThenKafka);
    await direct(kafkaThenHttp);
    // The second copies: a producer retry, a client resend, and the crossed ones.
    await direct(kafkaTwice);
    expect(await http(httpTwice)).toMatchObject({ accepted: 0, duplicates: 25 });
    await direct(httpThenKafka);
    // The collector cannot know the first copy came straight into Kafka: the consumer drops this one at landing.
    expect(await http(kafkaThenHttp)).toMatchObject({ accepted: 25, duplicates: 0 });
  } finally {
    await producer.disconnect();
  }
  await k.drained();
  const distinct = 100;
  expect(await count('SELECT count() AS c FROM events_raw_v1 WHERE name = {name:String}', { name })).toBe(distinct);
  expect(await count('SELECT uniqExact(event_id) AS c FROM events_raw_v1 WHERE name = {name:String}', { name })).toBe(distinct);
  for (const g of ['1m', '1h', '1d']) {
    expect({ rollup: `events_${g}_v1`, total: await count(`SELECT sum(events) AS c FROM events_${g}_v1 WHERE name = {name:String}`, { name }) }).toEqual({
      rollup: `events_${g}_v1`,
      total: distinct,
    });
    expect({
      rollup: `event_measures_${g}_v1`,
      total: await count(`SELECT sum(count) AS c FROM event_measures_${g}_v1 WHERE name = {name:String} AND measure = 'ms'`, { name }),
    }).toEqual({
      rollup: `event_measures_${g}_v1`,
      total: distinct,
    });
  }
  expect(k.dead.filter((d) => d.value.toString().includes(name))).toEqual([]);
});
