/**
 * The SDK's Kafka transport against the real Kafka and the collector's own
 * consumer group: items written with the topic contract land in ClickHouse
 * under the producer's project, nothing goes to the dead-letter topic, and a
 * topic that does not exist yet is retried until it does.
 */
import { createKafkaClient, createMetricsRegistry, type KafkaClient } from '@tidemark/core';
import { ensureTopics, IngestConsumer, topicNames, type Topics } from '@tidemark/collector';
import { TidemarkClient, type RetryInfo } from '../src';
import { kafkaBrokers, logger, startStack, unique, type Stack } from './harness';

let stack: Stack;
let kafka: KafkaClient;
let prefix: string;
let topics: Topics;
let consumer: IngestConsumer | undefined;

beforeAll(async () => {
  stack = await startStack();
  kafka = createKafkaClient({ brokers: kafkaBrokers, clientId: unique('tm-sdk-test'), logger });
  prefix = `${unique('tmsdk')}.`;
  topics = topicNames(prefix);
}, 60_000);

afterAll(async () => {
  await consumer?.stop();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
  await admin.disconnect();
  await stack?.close();
});

test('events, metrics and logs sent straight to Kafka land once under the project; a missing topic is retried until it exists', async () => {
  const retries: RetryInfo[] = [];
  const client = new TidemarkClient({
    kafka: { brokers: kafkaBrokers, projectId: stack.project, topicPrefix: prefix, clientId: unique('sdk') },
    flushIntervalMs: 50,
    metricsIntervalMs: 0,
    flushOnExit: false,
    service: 'worker',
    retry: { initialDelayMs: 200, maxDelayMs: 1_000 },
    onRetry: (i) => retries.push(i),
  });
  try {
    // The topics do not exist yet (the platform creates them): the first sends fail retriably.
    for (let i = 0; i < 1_000; i++) client.track('kafka.sdk', { i }, { distinctId: `u${i % 13}` });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(retries.length).toBeGreaterThan(0);
    expect(client.stats().events.sent).toBe(0);

    await ensureTopics(kafka, topics, 3, 1);
    consumer = new IngestConsumer({
      kafka,
      clickhouse: stack.ch,
      meta: stack.meta,
      logger,
      metrics: createMetricsRegistry(),
      topics,
      groupId: unique('tm-sdk-group'),
      maxBytesPerPartition: 1024 * 1024,
      minBytes: 1,
      maxWaitMs: 100,
      futureToleranceMs: 300_000,
      retentionMs: 90 * 86_400_000,
      sessionTimeoutMs: 6_000,
    });
    await consumer.start();
    client.counter('jobs_total').inc({ queue: 'mail' }, 5);
    client.histogram('job_ms').observe({ queue: 'mail' }, 42);
    client.log('error', 'job failed', { job: 'j-1' });
    expect(await client.flush({ timeoutMs: 30_000 })).toBe(true);
    expect(client.stats().events).toMatchObject({ sent: 1_000, rejected: 0, dropped: 0 });

    expect(await stack.waitFor("SELECT count() AS n FROM events_raw_v1 WHERE name = 'kafka.sdk'", 1_000, 60_000)).toBe(1_000);
    await stack.waitFor('SELECT count() AS n FROM logs_raw_v1', 1, 30_000);
    await stack.waitFor("SELECT count() AS n FROM metrics_raw_v1 WHERE name IN ('jobs_total', 'job_ms')", 2, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    const ev = await stack.rows<{ n: string; ids: string; projects: string[] }>(
      "SELECT count() AS n, uniqExact(event_id) AS ids, groupUniqArray(project_id) AS projects FROM events_raw_v1 WHERE name = 'kafka.sdk'",
    );
    expect(ev[0]).toEqual({ n: '1000', ids: '1000', projects: [stack.project] });
    const metrics = await stack.rows<{ name: string; type: string; value: number; project_id: string }>(
      "SELECT name, toString(type) AS type, value, project_id FROM metrics_raw_v1 WHERE name IN ('jobs_total', 'job_ms') ORDER BY name",
    );
    expect(metrics).toEqual([
      { name: 'job_ms', type: 'histogram', value: 42, project_id: stack.project },
      { name: 'jobs_total', type: 'counter', value: 5, project_id: stack.project },
    ]);
    const logs = await stack.rows<Record<string, unknown>>('SELECT project_id, level, service, message FROM logs_raw_v1');
    expect(logs).toEqual([{ project_id: stack.project, level: 'ERROR', service: 'worker', message: 'job failed' }]);
    // Every item followed the contract: nothing was dead-lettered.
    const admin = kafka.admin();
    await admin.connect();
    const dlq = await admin.topicOffsets(topics.dlq);
    await admin.disconnect();
    expect(dlq.reduce((sum, p) => sum + Number(p.high), 0)).toBe(0);
  } finally {
    await client.shutdown(5_000);
  }
}, 120_000);
