import type { AddressInfo } from 'node:net';
import { ApiKeyVerifier, createGracefulServer, createKafkaClient, groupLag, listProjectIds, Scheduler, type Role, type RoleContext } from '@tidemark/core';
import type { CollectorRoleConfig } from './settings';
import { z } from 'zod';
import { createCollectorApp } from './http/app';
import { IngestConsumer } from './kafka/consumer';
import { topicNames } from './kafka/topics';
import { ClickHouseSink } from './sink/clickhouse';
import { ResendWindow } from './dedup/resend-window';
import { IngestAudit } from './audit/ingest-audit';
import { ensureTopics, KafkaSink } from './sink/kafka';
import type { Sink } from './sink/types';

const DAY_MS = 86_400_000;
/**
 * A minute is audited once it is this old: consumer lag (seconds normally,
 * minutes while ClickHouse or Kafka recovers) and late events settle first.
 */
const AUDIT_GRACE_MS = 5 * 60_000;

/**
 * End-to-end freshness: seconds since the newest row each raw table received.
 * NULL for a signal with no row in the last day: max() of no rows is the
 * epoch, which read as a lag of 56 years (1,796,396,618 s for logs never sent).
 */
function freshnessQuery(ctx: RoleContext) {
  const lag = (table: string) =>
    `if(count() = 0, NULL, dateDiff('millisecond', max(received_at), now64(3)) / 1000) AS seconds FROM ${table} WHERE received_at > now() - INTERVAL 1 DAY`;
  return ctx.clickhouse.query({
    name: 'collector.freshness',
    sql: `SELECT 'events' AS signal, ${lag('events_raw_v1')}
          UNION ALL SELECT 'metrics', ${lag('metrics_raw_v1')}
          UNION ALL SELECT 'logs', ${lag('logs_raw_v1')}`,
    params: z.object({}),
    row: z.object({ signal: z.string(), seconds: z.coerce.number().nullable() }),
  });
}

/** /v1/status lag figures: a number per signal, or null with the reason in endToEndLagReasons. */
export function lagStatus(rows: { signal: string; seconds: number | null }[]): {
  endToEndLagSeconds: Record<string, number | null>;
  endToEndLagReasons?: Record<string, string>;
} {
  const none = rows.filter((r) => r.seconds === null);
  return {
    endToEndLagSeconds: Object.fromEntries(rows.map((r) => [r.signal, r.seconds])),
    ...(none.length
      ? { endToEndLagReasons: Object.fromEntries(none.map((r) => [r.signal, `no ${r.signal} received in the last 24 hours: there is no lag to measure`])) }
      : {}),
  };
}

/** The HTTP ingest API. Writes to Kafka when KAFKA_BROKERS is set, else straight to ClickHouse. */

export const collectorRole: Role<'collector', CollectorRoleConfig> = {
  name: 'collector',
  description: 'HTTP ingest API for events, metrics and logs',
  async start(ctx) {
    const { config, logger, lifecycle } = ctx;
    const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
    let sink: Sink;
    let lag: (() => Promise<unknown>) | undefined;
    if (config.KAFKA_BROKERS) {
      const kafka = createKafkaClient({
        brokers: config.KAFKA_BROKERS,
        clientId: `${config.KAFKA_CLIENT_ID}-collector`,
        logger: logger.child({ component: 'kafka' }),
      });
      await ensureTopics(kafka, topics, config.KAFKA_TOPIC_PARTITIONS, config.KAFKA_REPLICATION_FACTOR);
      sink = await KafkaSink.connect(kafka, { topics, compression: config.KAFKA_COMPRESSION, maxMessageBytes: 1024 * 1024 }, logger);
      lag = async () => {
        const admin = kafka.admin();
        await admin.connect();
        try {
          return await groupLag(admin, config.CONSUMER_GROUP_ID, [topics.events, topics.metrics, topics.logs]);
        } finally {
          await admin.disconnect();
        }
      };
    } else {
      sink = new ClickHouseSink(ctx.clickhouse, logger, {
        maxRows: config.COLLECTOR_FLUSH_MAX_ROWS,
        maxDelayMs: config.COLLECTOR_FLUSH_INTERVAL_MS,
        maxPendingRows: config.COLLECTOR_MAX_PENDING_ROWS,
        maxConcurrentFlushes: 2,
      });
    }
    // Registered first, stopped last: the server stops taking requests before the sink drains.
    lifecycle.onStop('collector-sink', () => sink.close());
    const freshness = freshnessQuery(ctx);
    // Acknowledged vs landed, per project and minute, every minute for the last hour (issue 12).
    const auditLog = logger.child({ component: 'ingest-audit' });
    const audit = new IngestAudit(ctx.kv, ctx.clickhouse, {
      graceMs: AUDIT_GRACE_MS,
      horizonMs: 60 * 60_000,
      projects: () => listProjectIds(ctx.meta),
      logger: auditLog,
      metrics: ctx.metrics,
    });
    // On the roles' one scheduler: a slow audit (a ClickHouse under load) is never run twice at once, a failed
    // run is logged with the job's name, and stopping waits for the run in flight.
    const auditSchedule = new Scheduler([{ name: 'ingest-audit', everyMs: 60_000, runAtStart: false, run: async () => void (await audit.run()) }], auditLog);
    void auditSchedule.start();
    lifecycle.onStop('collector-audit', () => auditSchedule.stop());
    const app = createCollectorApp({
      sink,
      keys: new ApiKeyVerifier(ctx.meta),
      kv: ctx.kv,
      logger,
      metrics: ctx.metrics,
      limits: {
        maxBodyBytes: config.COLLECTOR_MAX_BODY_BYTES,
        maxItemBytes: config.COLLECTOR_MAX_ITEM_BYTES,
        maxItems: config.COLLECTOR_MAX_ITEMS,
        ratePerSecond: config.COLLECTOR_RATE_LIMIT_PER_SEC,
        futureToleranceMs: config.COLLECTOR_FUTURE_TOLERANCE_MS,
        retentionMs: config.RAW_RETENTION_DAYS * DAY_MS,
      },
      audit,
      resends: new ResendWindow(
        ctx.kv,
        { windowMs: config.COLLECTOR_RESEND_WINDOW_MS, maxIdsPerBucket: config.COLLECTOR_RESEND_MAX_IDS },
        logger.child({ component: 'resend-window' }),
      ),
      status: async () => ({
        ...lagStatus(await freshness({})),
        ...(lag ? { kafkaConsumerLag: await lag() } : {}),
      }),
      ready: async () => {
        if (!(await ctx.clickhouse.ping())) throw new Error('ClickHouse does not answer');
      },
    });
    // From the signal on, new requests (keep-alive ones too) get a retriable 503 with
    // Connection: close and in-flight ones finish: the SDK resends to a collector that is up.
    const server = createGracefulServer(app.callback(), { name: 'collector', lifecycle, logger });
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.COLLECTOR_PORT, config.TIDEMARK_HOST, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const url = `http://${config.TIDEMARK_HOST}:${port}`;
    logger.info({ url, sink: sink.kind }, 'collector listening');
    return [{ name: `Collector ingest API (${sink.kind === 'kafka' ? 'via Kafka' : 'direct to ClickHouse'})`, url }];
  },
};

/** The consumer group that lands Kafka batches in ClickHouse. Idle in embedded mode. */
export const consumerRole: Role<'consumer', CollectorRoleConfig> = {
  name: 'consumer',
  description: 'Kafka consumer group landing events, metrics and logs in ClickHouse exactly once',
  async start(ctx) {
    const { config, logger, lifecycle } = ctx;
    if (!config.KAFKA_BROKERS) {
      logger.info('no KAFKA_BROKERS: embedded mode, the collector writes to ClickHouse directly and this role has nothing to do');
      return [];
    }
    const kafka = createKafkaClient({
      brokers: config.KAFKA_BROKERS,
      clientId: `${config.KAFKA_CLIENT_ID}-consumer`,
      logger: logger.child({ component: 'kafka' }),
    });
    const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
    await ensureTopics(kafka, topics, config.KAFKA_TOPIC_PARTITIONS, config.KAFKA_REPLICATION_FACTOR);
    const consumer = new IngestConsumer({
      kafka,
      clickhouse: ctx.clickhouse,
      meta: ctx.meta,
      logger,
      metrics: ctx.metrics,
      topics,
      groupId: config.CONSUMER_GROUP_ID,
      maxBytesPerPartition: config.CONSUMER_MAX_BYTES_PER_PARTITION,
      minBytes: config.CONSUMER_MIN_BYTES,
      maxWaitMs: config.CONSUMER_MAX_WAIT_MS,
      futureToleranceMs: config.COLLECTOR_FUTURE_TOLERANCE_MS,
      // One item limit for both paths: a direct producer's item is held to the HTTP rule.
      maxItemBytes: config.COLLECTOR_MAX_ITEM_BYTES,
      retentionMs: config.RAW_RETENTION_DAYS * DAY_MS,
      sessionTimeoutMs: config.CONSUMER_SESSION_TIMEOUT_MS,
      // The same window length and memory bound as the collector's resend window, in sets of its own.
      landed: new ResendWindow(
        ctx.kv,
        { windowMs: config.COLLECTOR_RESEND_WINDOW_MS, maxIdsPerBucket: config.COLLECTOR_RESEND_MAX_IDS, prefix: 'landed' },
        logger.child({ component: 'landed-window' }),
      ),
    });
    await consumer.start();
    lifecycle.onStop('ingest-consumer', () => consumer.stop());
    return [];
  },
};
