import { z } from 'zod';
import { configFields, configSchema, type Config } from '@tidemark/core';

const { positiveInt } = configFields;

/**
 * This role's settings (ingestion: the collector (HTTP ingest, the Kafka producer and topics) and the consumer landing Kafka into ClickHouse), by environment variable name, with a
 * comment per key. The CLI composes every role's slice with core's into the
 * platform schema (packages/cli/src/config.ts), parsed once at start.
 */
export const collectorSettings = z.object({
  /** Largest ingest request body in bytes, after decompression (answered with 413 above it). */
  COLLECTOR_MAX_BODY_BYTES: positiveInt.default(8 * 1024 * 1024),
  /** Largest single event, metric sample or log line in bytes, measured on the row as stored (413 above it); stays below Kafka's message limit. */
  COLLECTOR_MAX_ITEM_BYTES: positiveInt.default(256 * 1024),
  /** Most items in one ingest request. */
  COLLECTOR_MAX_ITEMS: positiveInt.default(20_000),
  /** Items per second a project may send (429 with Retry-After above it); 0 turns the limit off. */
  COLLECTOR_RATE_LIMIT_PER_SEC: z.coerce.number().int().min(0).default(500_000),
  /** Timestamps further than this in the future (ms, after clock-skew correction) are clamped and a warning recorded. */
  COLLECTOR_FUTURE_TOLERANCE_MS: positiveInt.default(300_000),
  /** Embedded mode: how long concurrent requests are gathered into one ClickHouse insert (ms). */
  COLLECTOR_FLUSH_INTERVAL_MS: positiveInt.default(100),
  /** Embedded mode: an insert is started once this many rows wait. */
  COLLECTOR_FLUSH_MAX_ROWS: positiveInt.default(100_000),
  /** Embedded mode: rows allowed to wait for ClickHouse before requests get 503 (bounds memory). */
  COLLECTOR_MAX_PENDING_ROWS: positiveInt.default(1_000_000),
  /** Events whose client-chosen event_id the collector accepted less than this long ago are dropped as resends, so a retry after a lost answer is not counted twice in the rollups (ms; 0 = off). Shared through Redis when REDIS_URL is set, per process otherwise. */
  COLLECTOR_RESEND_WINDOW_MS: z.coerce.number().int().min(0).default(120_000),
  /** Event ids remembered per project per half-window at most (memory bound: about 100 bytes each in embedded mode); past it the window is shorter for that period. */
  COLLECTOR_RESEND_MAX_IDS: positiveInt.default(500_000),
  /** Compression of the messages the collector produces: none or gzip. */
  KAFKA_COMPRESSION: z.enum(['none', 'gzip']).default('none'),
  /** Partitions of each topic the platform creates (the consumer group scales up to this many consumers). */
  KAFKA_TOPIC_PARTITIONS: positiveInt.default(6),
  /** Replication factor of the topics the platform creates (3 in production; 1 on a single broker). */
  KAFKA_REPLICATION_FACTOR: positiveInt.default(1),
  /** Consumer group of the ClickHouse landing consumers. */
  CONSUMER_GROUP_ID: z.string().min(1).default('tidemark-ingest'),
  /** Bytes fetched per partition at most: the size bound of one batch and one insert. */
  CONSUMER_MAX_BYTES_PER_PARTITION: positiveInt.default(8 * 1024 * 1024),
  /** A fetch returns once this many bytes are there or CONSUMER_MAX_WAIT_MS passed. Larger fetches make larger inserts, and ClickHouse's cost per insert is mostly fixed (docs/ingestion.md): 2 MiB / 500 ms took bench-ingest's Kafka path from 21k to 27k events/s against 512 KiB / 250 ms. */
  CONSUMER_MIN_BYTES: positiveInt.default(2 * 1024 * 1024),
  /** Longest a fetch waits for CONSUMER_MIN_BYTES (ms): the time bound of a batch, and so the added latency at low traffic. */
  CONSUMER_MAX_WAIT_MS: positiveInt.default(500),
  /** Consumer session timeout (ms): how soon a crashed consumer's partitions move to another one. */
  CONSUMER_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).default(10_000),
});

/** The configuration this role runs with: core's settings and its own. */
export const collectorRoleConfigSchema = configSchema.extend(collectorSettings.shape);
export type CollectorRoleConfig = Config & z.output<typeof collectorSettings>;
