/** HTTP → Kafka (acks=all) → consumer group → ClickHouse, against the real Kafka, chDB over HTTP and Postgres. */
import crypto from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createKafkaClient, createMetricsRegistry, type KafkaClient } from '@tidemark/core';
import {
  COLUMNS_HEADER,
  compactLine,
  ensureTopics,
  FORMAT_HEADER,
  IngestConsumer,
  KafkaSink,
  ROWS_FORMAT,
  SIGNAL_SPECS,
  topicNames,
  type Topics,
} from '../src';
import { insertSettings } from '../src/clickhouse/writer';
import { directKafka } from './direct-kafka';
import { bearer, kafkaBrokers, logger, post, startCollector, startStack, unique, type RunningCollector, type Stack } from './harness';

let stack: Stack;
/** The test's own client (direct producer, DLQ reader, admin); `client` is what the code under test uses. */
let kafka: Kafka;
let client: KafkaClient;
let topics: Topics;
let sink: KafkaSink;
let collector: RunningCollector;
let consumer: IngestConsumer;

async function waitFor<T>(what: string, fn: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!done(last)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await fn();
  }
  return last;
}

const count = async (sql: string, params: Record<string, unknown> = {}): Promise<number> => Number((await stack.rows<{ c: string }>(sql, params))[0]?.c ?? 0);

beforeAll(async () => {
  stack = await startStack();
  client = createKafkaClient({ brokers: kafkaBrokers, clientId: unique('tm-test'), logger });
  kafka = directKafka();
  topics = topicNames(`${unique('tmk')}.`);
  await ensureTopics(client, topics, 3, 1);
  sink = await KafkaSink.connect(client, { topics, compression: 'gzip', maxMessageBytes: 256 * 1024 }, logger);
  collector = await startCollector(stack, sink);
  consumer = new IngestConsumer({
    kafka: client,
    clickhouse: stack.ch,
    meta: stack.meta,
    logger,
    metrics: createMetricsRegistry(),
    topics,
    groupId: unique('tm-group'),
    maxBytesPerPartition: 1024 * 1024,
    minBytes: 1,
    maxWaitMs: 100,
    futureToleranceMs: 300_000,
    retentionMs: 90 * 86_400_000,
    sessionTimeoutMs: 6_000,
  });
  await consumer.start();
}, 120_000);

afterAll(async () => {
  await consumer?.stop();
  await collector?.close();
  await sink?.close();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
  await stack?.close();
});

test('every event acknowledged over HTTP lands exactly once, with rollups equal to the raw total', async () => {
  const batches = 20;
  const perBatch = 250;
  const replies = await Promise.all(
    Array.from({ length: batches }, (_, b) =>
      post(
        `${collector.url}/v1/events`,
        JSON.stringify(
          Array.from({ length: perBatch }, (_, i) => ({
            event_id: crypto.randomUUID(),
            name: 'kafka.rt',
            distinct_id: `u${(b * perBatch + i) % 97}`,
            properties: { ms: i },
          })),
        ),
        bearer(stack.keys.ingest),
      ),
    ),
  );
  expect(replies.every((r) => r.status === 200 && r.json.accepted === perBatch)).toBe(true);
  const total = batches * perBatch;
  await waitFor(
    'all events in ClickHouse',
    () => count("SELECT count() AS c FROM events_raw_v1 WHERE name = 'kafka.rt'"),
    (c) => c >= total,
  );
  await new Promise((r) => setTimeout(r, 1000)); // nothing more may arrive
  expect(await count("SELECT count() AS c FROM events_raw_v1 WHERE name = 'kafka.rt'")).toBe(total);
  expect(await count("SELECT uniqExact(event_id) AS c FROM events_raw_v1 WHERE name = 'kafka.rt'")).toBe(total);
  for (const g of ['1m', '1h', '1d']) expect(await count(`SELECT sum(events) AS c FROM events_${g}_v1 WHERE name = 'kafka.rt'`)).toBe(total);
  expect(await count("SELECT sum(count) AS c FROM event_measures_1h_v1 WHERE name = 'kafka.rt' AND measure = 'ms'")).toBe(total);
});

/** A row of events_raw_v1 as the collector writes it (fixed times, empty context). */
function eventRow(name: string, distinctId: string, eventId: string = crypto.randomUUID()) {
  return {
    project_id: stack.project,
    event_id: eventId,
    name,
    timestamp: '2026-11-22 00:00:00.000',
    received_at: '2026-11-22 00:00:00.000',
    distinct_id: distinctId,
    session_id: '',
    properties: '{}',
    measures: {},
    product: '',
    channel: '',
    os: '',
    app_version: '',
    user_agent: '',
  };
}

/** Collects what reaches the DLQ topic while `fn` runs. */
async function withDlq(fn: (dead: { reason: string; value: string }[]) => Promise<void>): Promise<void> {
  const dlqConsumer = kafka.consumer({ groupId: unique('tm-dlq') });
  await dlqConsumer.connect();
  await dlqConsumer.subscribe({ topic: topics.dlq, fromBeginning: true });
  const dead: { reason: string; value: string }[] = [];
  await dlqConsumer.run({
    eachMessage: async ({ message }) => {
      dead.push({ reason: String(message.headers?.['tidemark-reason']), value: String(message.value) });
    },
  });
  try {
    await fn(dead);
  } finally {
    await dlqConsumer.disconnect();
  }
}

test('direct producers use the topic contract; poison messages and invalid items go to the DLQ with a reason', async () => {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await withDlq(async (dead) => {
      await producer.send({
        topic: topics.events,
        acks: -1,
        messages: [
          { key: 'd1', value: JSON.stringify({ project_id: stack.project, name: 'direct', distinct_id: 'd1' }) },
          { key: 'd2', value: JSON.stringify([{ project_id: stack.project, name: 'direct', distinct_id: 'd2' }, { name: 'direct-no-project' }]) },
          { key: 'p', value: '{this is not json' },
          { key: 'd3', value: JSON.stringify({ project_id: stack.project, name: 'direct', event_id: 'not-a-uuid' }) },
        ],
      });
      await waitFor(
        'direct events',
        () => count("SELECT count() AS c FROM events_raw_v1 WHERE name = 'direct'"),
        (c) => c >= 2,
      );
      await waitFor(
        'dead letters',
        async () => dead.length,
        (n) => n >= 3,
      );
      expect(await count("SELECT count() AS c FROM events_raw_v1 WHERE name = 'direct'")).toBe(2);
      expect(dead.map((d) => d.reason).sort()).toEqual(
        [expect.stringMatching(/^event_id: /), expect.stringMatching(/^project_id: missing/), expect.stringMatching(/^value is not JSON/)].sort(),
      );
    });
  } finally {
    await producer.disconnect();
  }
});

test('a 1,000-event request becomes at most one message per partition', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const total = async (): Promise<number> => (await admin.fetchTopicOffsets(topics.events)).reduce((n, p) => n + Number(p.high), 0);
    const before = await total();
    const name = unique('packed');
    const r = await post(
      `${collector.url}/v1/events`,
      JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ name, distinct_id: `u${i}` }))),
      bearer(stack.keys.ingest),
    );
    expect(r.status).toBe(200);
    const written = (await total()) - before;
    expect(written).toBeGreaterThanOrEqual(1);
    expect(written).toBeLessThanOrEqual(3); // the topic has 3 partitions
    await waitFor(
      'packed events',
      () => count('SELECT count() AS c FROM events_raw_v1 WHERE name = {name:String}', { name }),
      (c) => c >= 1000,
    );
    expect(await count('SELECT uniqExact(distinct_id) AS c FROM events_raw_v1 WHERE name = {name:String}', { name })).toBe(1000);
  } finally {
    await admin.disconnect();
  }
});

test('rows-v2: a line ClickHouse refuses is found by splitting and dead-lettered; its neighbours land; bad headers are refused', async () => {
  const name = unique('v2');
  const columns = SIGNAL_SPECS.events.columns;
  const lines = [eventRow(name, 'a'), eventRow(name, 'bad', 'not-a-uuid'), eventRow(name, 'c'), eventRow(name, 'd')].map((x) => compactLine(columns, x));
  const producer = kafka.producer();
  await producer.connect();
  try {
    await withDlq(async (dead) => {
      await producer.send({
        topic: topics.events,
        acks: -1,
        messages: [
          { partition: 0, headers: { [FORMAT_HEADER]: ROWS_FORMAT, [COLUMNS_HEADER]: columns.join(',') }, value: lines.join('') },
          { partition: 0, headers: { [FORMAT_HEADER]: 'rows-v9', [COLUMNS_HEADER]: columns.join(',') }, value: lines[0]! },
          { partition: 0, headers: { [FORMAT_HEADER]: ROWS_FORMAT, [COLUMNS_HEADER]: 'project_id,secret_column' }, value: '["x",1]\n' },
        ],
      });
      // The DLQ topic also holds the earlier test's letters: wait for this test's own.
      const mine = () => dead.filter((d) => d.value.includes(name) || d.value.includes('secret') || d.reason.includes('secret_column'));
      await waitFor(
        'dead letters',
        async () => mine().length,
        (n) => n >= 3,
      );
      await waitFor(
        'landed rows',
        () => count('SELECT count() AS c FROM events_raw_v1 WHERE name = {name:String}', { name }),
        (c) => c >= 3,
      );
      expect(await count('SELECT count() AS c FROM events_raw_v1 WHERE name = {name:String}', { name })).toBe(3);
      expect(await count('SELECT sum(events) AS c FROM events_1m_v1 WHERE name = {name:String}', { name })).toBe(3);
      expect(await count("SELECT uniqExact(distinct_id) AS c FROM events_raw_v1 WHERE name = {name:String} AND distinct_id IN ('a', 'c', 'd')", { name })).toBe(
        3,
      );
      const reasons = mine().map((d) => d.reason);
      expect(reasons).toHaveLength(3);
      expect(reasons).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^ClickHouse refused the row: /),
          expect.stringMatching(/unknown tidemark-format "rows-v9"/),
          expect.stringMatching(/names columns events_raw_v1 does not have: secret_column/),
        ]),
      );
      expect(mine().find((d) => d.reason.startsWith('ClickHouse refused'))?.value).toContain('not-a-uuid');
    });
  } finally {
    await producer.disconnect();
  }
}, 120_000);

test('ClickHouse unreachable for a while: the consumer pauses, then lands everything exactly once', async () => {
  await stack.stopClickHouse();
  const n = 2000;
  const r = await post(
    `${collector.url}/v1/events`,
    JSON.stringify(Array.from({ length: n }, (_, i) => ({ name: 'during.outage', distinct_id: `o${i}` }))),
    bearer(stack.keys.ingest),
  );
  // Kafka has it: acknowledged even though ClickHouse is down.
  expect(r.status).toBe(200);
  await new Promise((res) => setTimeout(res, 8_000));
  await stack.startClickHouse();
  await waitFor(
    'events after outage',
    () => count("SELECT count() AS c FROM events_raw_v1 WHERE name = 'during.outage'"),
    (c) => c >= n,
    90_000,
  );
  await new Promise((res) => setTimeout(res, 1000));
  expect(await count("SELECT count() AS c FROM events_raw_v1 WHERE name = 'during.outage'")).toBe(n);
  expect(await count("SELECT sum(events) AS c FROM events_1h_v1 WHERE name = 'during.outage'")).toBe(n);
}, 180_000);

test('a replayed batch (same intent, same token) is not counted twice', async () => {
  // Insert the same rows twice with the token the consumer would use on a replay.
  const rows = Array.from({ length: 10 }, (_, i) => eventRow('replayed', `r${i}`));
  for (let attempt = 0; attempt < 2; attempt++) {
    await stack.ch.client.insert({ table: 'events_raw_v1', values: rows, format: 'JSONEachRow', clickhouse_settings: insertSettings('g:t:0:100-109') });
  }
  expect(await count("SELECT count() AS c FROM events_raw_v1 WHERE name = 'replayed'")).toBe(10);
  expect(await count("SELECT sum(events) AS c FROM events_1m_v1 WHERE name = 'replayed'")).toBe(10);
  expect(await count("SELECT sum(events) AS c FROM events_1d_v1 WHERE name = 'replayed'")).toBe(10);
});
