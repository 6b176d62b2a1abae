/**
 * Crash test of the Kafka ingest path: events are sent over HTTP while the
 * consumer process (`tidemark start --role consumer`) is SIGKILLed at random
 * moments and restarted. Afterwards ClickHouse must hold every event exactly
 * once, every rollup total must equal the raw total, and the dead-letter
 * topic must be empty.
 *
 * CRASH_EVENTS and CRASH_KILLS scale it (scripts/crash-test-ingest.sh runs the
 * issue's 1,000,000 events and 10 kills); the suite's default is smaller.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { createKafka } from '@tidemark/core';
import { ensureTopics, KafkaSink, topicNames, type Topics } from '@tidemark/collector';
import { bearer, kafkaBrokers, logger, post, postgresUrl, startCollector, startStack, unique, type RunningCollector, type Stack } from '../packages/collector/test/harness';

const EVENTS = Number(process.env.CRASH_EVENTS ?? 60_000);
const KILLS = Number(process.env.CRASH_KILLS ?? 4);
/** Restart the Kafka broker (node 1 of scripts/services) once mid-run. */
const KAFKA_RESTART = process.env.CRASH_KAFKA_RESTART === '1';
/** Make ClickHouse unreachable for this many seconds mid-run. */
const CH_OUTAGE_S = Number(process.env.CRASH_CLICKHOUSE_OUTAGE_S ?? 0);
const BATCH = 1000;
const CLI = path.join(__dirname, '..', 'packages', 'cli', 'dist', 'bin.js');

let stack: Stack;
let kafka: Kafka;
let topics: Topics;
let sink: KafkaSink;
let collector: RunningCollector;
let child: ChildProcess | undefined;
let groupId: string;
let output = '';

function startConsumer(): ChildProcess {
  const c = spawn(process.execPath, [CLI, 'start', '--role', 'consumer'], {
    env: {
      ...process.env,
      ...stack.server.configEnv(),
      CLICKHOUSE_DATABASE: stack.database,
      META_DATABASE_URL: `${postgresUrl}?options=${encodeURIComponent(`-c search_path=${stack.schema}`)}`,
      KAFKA_BROKERS: kafkaBrokers,
      KAFKA_TOPIC_PREFIX: topics.events.replace(/events\.v1$/, ''),
      CONSUMER_GROUP_ID: groupId,
      CONSUMER_SESSION_TIMEOUT_MS: '6000',
      OPS_PORT: '0',
      CONSUMER_MAX_WAIT_MS: '100',
      LOG_LEVEL: 'warn',
      REDIS_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  c.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  c.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  return c;
}

async function kill(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await exited;
}

const count = async (sql: string): Promise<number> => Number((await stack.rows<{ c: string }>(sql))[0]?.c ?? 0);

beforeAll(async () => {
  stack = await startStack();
  kafka = createKafka({ brokers: kafkaBrokers, clientId: unique('tm-crash'), logger });
  topics = topicNames(`${unique('tmcrash')}.`);
  groupId = unique('tm-crash-group');
  await ensureTopics(kafka, topics, 3, 1);
  sink = await KafkaSink.connect(kafka, { topics, compression: 'none', maxMessageBytes: 512 * 1024 }, logger);
  collector = await startCollector(stack, sink, { maxItems: BATCH, maxBodyBytes: 4 * 1024 * 1024 });
}, 120_000);

afterAll(async () => {
  if (child) await kill(child);
  await collector?.close();
  await sink?.close();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
  await stack?.close();
});

test(`${EVENTS} events with the consumer SIGKILLed ${KILLS} times: exactly once in raw and rollups, nothing in the DLQ`, async () => {
  child = startConsumer();
  let sent = 0;
  let resent = 0;
  const sender = (async () => {
    const concurrency = 4;
    let next = 0;
    const batches = Math.ceil(EVENTS / BATCH);
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (;;) {
          const b = next++;
          if (b >= batches) return;
          const n = Math.min(BATCH, EVENTS - b * BATCH);
          const body = JSON.stringify(
            Array.from({ length: n }, (_, i) => ({ event_id: crypto.randomUUID(), name: 'crash', distinct_id: `u${(b * BATCH + i) % 5000}`, properties: { v: 1 } })),
          );
          // A producer retries what was not acknowledged (503 while Kafka restarts), as the SDK does.
          for (let attempt = 0; ; attempt++) {
            const r = await post(`${collector.url}/v1/events`, body, bearer(stack.keys.ingest)).catch((err: Error) => ({ status: 0, json: { error: err.message } }));
            if (r.status === 200) break;
            if (attempt > 120 || (r.status !== 503 && r.status !== 0)) throw new Error(`batch ${b}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
            resent++;
            await new Promise((res) => setTimeout(res, 500));
          }
          sent += n;
        }
      }),
    );
  })();

  // Kill at random moments while events flow (and keep killing until KILLS are done).
  const faults = (async () => {
    if (KAFKA_RESTART) {
      await new Promise((r) => setTimeout(r, 3_000));
      execFileSync('bash', [path.join(__dirname, '..', 'scripts', 'services', 'kafka-node.sh'), 'restart', '1'], { stdio: 'ignore' });
    }
    if (CH_OUTAGE_S > 0) {
      await new Promise((r) => setTimeout(r, 2_000));
      await stack.stopClickHouse();
      await new Promise((r) => setTimeout(r, CH_OUTAGE_S * 1000));
      await stack.startClickHouse();
    }
  })();
  for (let k = 0; k < KILLS; k++) {
    await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 3_000));
    await kill(child);
    child = startConsumer();
  }
  await sender;
  await faults;
  expect(sent).toBe(EVENTS);

  const deadline = Date.now() + 25 * 60_000;
  let landed = 0;
  while (Date.now() < deadline) {
    landed = await count("SELECT count() AS c FROM events_raw_v1 WHERE name = 'crash'");
    if (landed >= EVENTS) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await new Promise((r) => setTimeout(r, 3000)); // a late duplicate would show up now
  if (landed < EVENTS) throw new Error(`only ${landed}/${EVENTS} landed; consumer output:\n${output}`);

  const raw = await count("SELECT count() AS c FROM events_raw_v1 WHERE name = 'crash'");
  // Exactly N distinct events; the raw count is N too unless a producer resent a batch whose
  // first send Kafka had taken (possible only while the broker restarts), and then every
  // rollup still equals the raw total.
  expect(await count("SELECT uniqExact(event_id) AS c FROM events_raw_v1 WHERE name = 'crash'")).toBe(EVENTS);
  if (resent === 0) expect(raw).toBe(EVENTS);
  for (const g of ['1m', '1h', '1d']) expect(await count(`SELECT sum(events) AS c FROM events_${g}_v1 WHERE name = 'crash'`)).toBe(raw);
  expect(await count("SELECT sum(count) AS c FROM event_measures_1m_v1 WHERE name = 'crash' AND measure = 'v'")).toBe(raw);
  process.stdout.write(`crash test: ${EVENTS} events, ${KILLS} consumer kills${KAFKA_RESTART ? ', Kafka restarted' : ''}${CH_OUTAGE_S ? `, ClickHouse down ${CH_OUTAGE_S} s` : ''}; raw ${raw}, distinct ${EVENTS}, resent batches ${resent}\n`);

  const admin = kafka.admin();
  await admin.connect();
  const dlq = await admin.fetchTopicOffsets(topics.dlq);
  await admin.disconnect();
  expect(dlq.reduce((n, p) => n + Number(p.high), 0)).toBe(0);
}, 30 * 60_000);
