#!/usr/bin/env node
// kafkajs against @platformatic/kafka on the collector's workload (issue 17),
// against a running broker. Each run makes a fresh uniquely named topic of
// --partitions partitions, produces --messages rows-v2 messages of --rows
// event rows each the way the collector's KafkaSink does (rows normalised by
// the collector's own code, each row's partition chosen by murmur2 of its
// key, one message per partition, headers tidemark-format/-columns/
// -received-at; an idempotent producer, acks=all, one produce request in
// flight, --per-send messages per request, no compression), then consumes
// them back in a consumer group with manual commits (kafkajs: eachBatch and a
// commit per batch, as the IngestConsumer; platformatic: its message stream,
// a commit of every partition's last offset each --commit-every messages; it
// has no batch API). Clients alternate run by run; the median of the runs is
// reported per client, with the platformatic/kafkajs ratio. A warm-up round
// of both clients (--warmup rounds, 1/5 of the messages) comes first and is
// not counted: the first run of a process otherwise measures the JIT.
//
//   node scripts/bench-kafka-clients.mjs [--brokers 127.0.0.1:19092] [--messages 20000] [--rows 50] [--per-send 6] [--partitions 6] [--runs 3] [--warmup 1] [--commit-every 50]
//
// Needs `npm run build` (it loads @tidemark/collector's dist for the rows and
// the partitioner) and a broker (`npm run services:up`).
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { normalizeItem, SIGNAL_SPECS, partitionOfKey, FORMAT_HEADER, ROWS_FORMAT, COLUMNS_HEADER, RECEIVED_AT_HEADER } = require('@tidemark/collector');
const kafkajs = require('kafkajs');

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map((a) => a.trim().split(/\s+/)),
);
const BROKERS = args.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:19092';
const MESSAGES = Number(args.messages ?? 20000);
const ROWS = Number(args.rows ?? 50);
const PER_SEND = Number(args['per-send'] ?? 6);
const PARTITIONS = Number(args.partitions ?? 6);
const RUNS = Number(args.runs ?? 3);
const WARMUP = Number(args.warmup ?? 1);
const COMMIT_EVERY = Number(args['commit-every'] ?? 50);
const log = (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

/** The workload, built once: MESSAGES messages of ROWS rows each, grouped into produce requests of PER_SEND messages. */
function workload() {
  const spec = SIGNAL_SPECS.events;
  const receivedAt = Date.now();
  const ctx = { projectId: 'bench', receivedAt, futureToleranceMs: 300_000, retentionMs: 90 * 86_400_000 };
  const headersOf = { [FORMAT_HEADER]: ROWS_FORMAT, [COLUMNS_HEADER]: spec.columns.join(','), [RECEIVED_AT_HEADER]: String(receivedAt) };
  const open = new Map();
  const messages = [];
  let bytes = 0;
  for (let i = 0; messages.length < MESSAGES; i++) {
    const item = {
      event_id: crypto.randomUUID(),
      name: ['page_view', 'checkout', 'signup', 'search'][i % 4],
      distinct_id: `user-${(i * 7919) % 10_000}`,
      session_id: `s-${i % 997}`,
      properties: { path: `/products/${i % 500}`, referrer: 'https://example.com/', plan: i % 3 ? 'pro' : 'free', cart_items: i % 9 },
      measures: { ms: i % 1000, amount: (i % 50) * 1.5 },
    };
    const n = normalizeItem('events', item, ctx);
    if (!n.ok) throw new Error(n.reason);
    const partition = partitionOfKey(spec.key(n.row), PARTITIONS);
    let m = open.get(partition);
    if (!m) open.set(partition, (m = []));
    m.push(n.line);
    if (m.length === ROWS) {
      const value = Buffer.from(m.join(''));
      bytes += value.length;
      messages.push({ partition, headers: headersOf, value });
      open.delete(partition);
    }
  }
  const sends = [];
  for (let i = 0; i < messages.length; i += PER_SEND) sends.push(messages.slice(i, i + PER_SEND));
  return { messages, sends, bytes };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Times every send (one in flight), then the consume of all of them back. */
async function measure(client, work, topic, produce, consume) {
  const latencies = [];
  let sent = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const batch of work.sends) {
    const s = performance.now();
    await produce(batch);
    latencies.push(performance.now() - s);
    sent += batch.length;
    if (latencies.length % 200 === 0) log(`  ${client} produced ${sent}/${work.messages.length}`);
  }
  const produceS = (performance.now() - t0) / 1000;
  const cpu1 = process.cpuUsage(cpu0);
  const cpuc0 = process.cpuUsage();
  const c0 = performance.now();
  const got = await consume(work.messages.length, (n) => log(`  ${client} consumed ${n}/${work.messages.length}`));
  const end = performance.now();
  const cpu2 = process.cpuUsage(cpuc0);
  // CPU of this process (user + system) per message: what the client costs the cores it shares with the platform.
  const cpuPerMsg = (u) => (u.user + u.system) / work.messages.length;
  // Every byte back, or the figures mean nothing.
  if (got.bytes !== work.bytes) throw new Error(`${client}: consumed ${got.bytes} value bytes, produced ${work.bytes}`);
  // The rate counts from the first record to the last; joining the group is reported apart.
  const consumeS = (end - got.firstAt) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    client,
    produceMsgs: work.messages.length / produceS,
    produceMB: work.bytes / 1e6 / produceS,
    consumeMsgs: work.messages.length / consumeS,
    joinMs: got.firstAt - c0,
    produceCpuUs: cpuPerMsg(cpu1),
    consumeCpuUs: cpuPerMsg(cpu2),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

async function runKafkajs(work, topic) {
  const kafka = new kafkajs.Kafka({ clientId: `bench-kafkajs-${process.pid}`, brokers: BROKERS.split(','), logLevel: kafkajs.logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const consumer = kafka.consumer({
    groupId: `${topic}-kafkajs`,
    maxBytesPerPartition: 1024 * 1024,
    maxBytes: 3 * 1024 * 1024,
    minBytes: 1,
    maxWaitTimeInMs: 100,
  });
  try {
    return await measure(
      'kafkajs',
      work,
      topic,
      (batch) => producer.sendBatch({ acks: -1, compression: kafkajs.CompressionTypes.None, topicMessages: [{ topic, messages: batch }] }),
      async (total, progress) => {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        let seen = 0;
        let bytes = 0;
        let firstAt = 0;
        await new Promise((resolve, reject) => {
          consumer
            .run({
              autoCommit: false,
              eachBatchAutoResolve: false,
              partitionsConsumedConcurrently: 1,
              eachBatch: async ({ batch, resolveOffset }) => {
                if (batch.isEmpty()) return;
                firstAt ||= performance.now();
                for (const m of batch.messages) bytes += m.value.length;
                const last = batch.lastOffset();
                resolveOffset(last);
                await consumer.commitOffsets([{ topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
                const before = seen;
                seen += batch.messages.length;
                if (Math.floor(seen / 1000) > Math.floor(before / 1000)) progress(seen);
                if (seen >= total) resolve();
              },
            })
            .catch(reject);
        });
        return { firstAt, bytes };
      },
    );
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  }
}

async function runPlatformatic(work, topic) {
  const plt = await import('@platformatic/kafka');
  const base = { clientId: `bench-platformatic-${process.pid}`, bootstrapBrokers: BROKERS.split(',') };
  const producer = new plt.Producer({
    ...base,
    idempotent: true,
    acks: -1,
    compression: 'none',
    autocreateTopics: false,
    serializers: { headerKey: plt.stringSerializer, headerValue: plt.stringSerializer },
  });
  const consumer = new plt.Consumer({ ...base, groupId: `${topic}-platformatic` });
  try {
    return await measure(
      '@platformatic/kafka',
      work,
      topic,
      (batch) => producer.send({ messages: batch.map((m) => ({ topic, partition: m.partition, value: m.value, headers: m.headers })) }),
      async (total, progress) => {
        const stream = await consumer.consume({
          topics: [topic],
          mode: 'earliest',
          autocommit: false,
          maxBytesPerPartition: 1024 * 1024,
          maxBytes: 3 * 1024 * 1024,
          minBytes: 1,
          maxWaitTime: 100,
        });
        let seen = 0;
        let bytes = 0;
        let firstAt = 0;
        const pending = new Map();
        for await (const message of stream) {
          firstAt ||= performance.now();
          bytes += message.value.length;
          pending.set(message.partition, message);
          seen++;
          if (seen % COMMIT_EVERY === 0 || seen >= total) {
            await Promise.all([...pending.values()].map((m) => m.commit()));
            pending.clear();
          }
          if (seen % 1000 === 0) progress(seen);
          if (seen >= total) break;
        }
        await stream.close().catch(() => undefined);
        return { firstAt, bytes };
      },
    );
  } finally {
    await consumer.close(true).catch(() => undefined);
    await producer.close().catch(() => undefined);
  }
}

const admin = new kafkajs.Kafka({ clientId: `bench-admin-${process.pid}`, brokers: BROKERS.split(','), logLevel: kafkajs.logLevel.NOTHING }).admin();
await admin.connect();
const work = workload();
log(
  `workload: ${work.messages.length} messages of ${ROWS} event rows (${(work.bytes / work.messages.length / 1024).toFixed(1)} KiB avg, ${(work.bytes / 1e6).toFixed(1)} MB), ${work.sends.length} produce requests of ${PER_SEND}, ${PARTITIONS} partitions, broker ${BROKERS}, node ${process.version}`,
);
const results = [];
try {
  const warmSends = work.sends.slice(0, Math.ceil(work.sends.length / 5));
  const warm = { sends: warmSends, messages: warmSends.flat(), bytes: warmSends.flat().reduce((n, m) => n + m.value.length, 0) };
  for (let run = 1 - WARMUP; run <= RUNS; run++) {
    // Alternate which client goes first, so neither always meets a warmer broker.
    const order = run % 2 ? [runKafkajs, runPlatformatic] : [runPlatformatic, runKafkajs];
    for (const fn of order) {
      const topic = `tm-bench-kafka-${Date.now()}-${crypto.randomBytes(3).toString('hex')}`;
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }] });
      try {
        log(`${run < 1 ? 'warm-up' : `run ${run}/${RUNS}`}: ${fn === runKafkajs ? 'kafkajs' : '@platformatic/kafka'} on ${topic}`);
        const r = await fn(run < 1 ? warm : work, topic);
        if (run >= 1) results.push(r);
        log(
          `  produce ${r.produceMsgs.toFixed(0)} msg/s ${r.produceMB.toFixed(1)} MB/s, ack p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms, ${r.produceCpuUs.toFixed(0)} CPU µs/msg; consume ${r.consumeMsgs.toFixed(0)} msg/s, ${r.consumeCpuUs.toFixed(0)} CPU µs/msg, after ${r.joinMs.toFixed(0)} ms to the first record`,
        );
      } finally {
        await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      }
    }
  }
} finally {
  await admin.disconnect();
}

const summary = {};
for (const client of ['kafkajs', '@platformatic/kafka']) {
  const mine = results.filter((r) => r.client === client);
  summary[client] = Object.fromEntries(
    ['produceMsgs', 'produceMB', 'consumeMsgs', 'joinMs', 'p50', 'p99', 'produceCpuUs', 'consumeCpuUs'].map((k) => [k, median(mine.map((r) => r[k]))]),
  );
}
const fmt = (v, d = 0) => v.toFixed(d).padStart(12);
const W = 28;
process.stdout.write(
  `\nmedian of ${RUNS} runs; ${work.messages.length} messages x ${ROWS} rows, ${PER_SEND} per request, ${PARTITIONS} partitions, node ${process.version}\n`,
);
process.stdout.write(
  `${'client'.padEnd(W)}${['prod msg/s', 'prod MB/s', 'ack p50 ms', 'ack p99 ms', 'prod µs/msg', 'cons msg/s', 'cons µs/msg', 'join ms'].map((h) => h.padStart(12)).join('')}\n`,
);
for (const [client, s] of Object.entries(summary))
  process.stdout.write(
    `${client.padEnd(W)}${fmt(s.produceMsgs)}${fmt(s.produceMB, 1)}${fmt(s.p50, 1)}${fmt(s.p99, 1)}${fmt(s.produceCpuUs)}${fmt(s.consumeMsgs)}${fmt(s.consumeCpuUs)}${fmt(s.joinMs)}\n`,
  );
const a = summary.kafkajs;
const b = summary['@platformatic/kafka'];
process.stdout.write(
  `${'ratio platformatic/kafkajs'.padEnd(W)}${fmt(b.produceMsgs / a.produceMsgs, 2)}${fmt(b.produceMB / a.produceMB, 2)}${fmt(b.p50 / a.p50, 2)}${fmt(b.p99 / a.p99, 2)}${fmt(b.produceCpuUs / a.produceCpuUs, 2)}${fmt(b.consumeMsgs / a.consumeMsgs, 2)}${fmt(b.consumeCpuUs / a.consumeCpuUs, 2)}${fmt(b.joinMs / a.joinMs, 2)}\n`,
);
process.stdout.write(`${JSON.stringify({ runs: results })}\n`);
