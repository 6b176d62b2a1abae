import type { Logger } from 'pino';

/**
 * The narrow Kafka interface of Tidemark (issue 17): exactly what the
 * collector's sink and consumer, the monitor's probe and the tests use, and
 * nothing of any one client library. Only the adapter behind
 * createKafkaClient imports a Kafka client; a second client is one more
 * adapter file.
 *
 * Offsets are decimal strings (they exceed 2^53 in principle).
 */

export interface KafkaClientOptions {
  /** Bootstrap brokers, "host:port,host:port". */
  brokers: string;
  clientId: string;
  /** The adapters' log lines go here (child logger of the component). */
  logger: Logger;
  /** Connection and request timeout (ms); the client's defaults when absent. */
  timeoutMs?: number;
  /** Retries of one request inside the client (default 8, jittered backoff 100 ms .. 5 s). */
  retries?: number;
}

/** One record to produce. Without `partition` the key picks it (murmur2, Kafka's default partitioner). */
export interface OutgoingRecord {
  key?: string | Buffer;
  value: string | Buffer;
  partition?: number;
  headers?: Record<string, string>;
}

/** One record as consumed. `headers` values are raw bytes (or strings) as the client decoded them. */
export interface ConsumedRecord {
  offset: string;
  /** The record's timestamp (epoch ms, decimal), as the producer or the broker set it. */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

export interface ProducerOptions {
  /** Whether producing to a missing topic creates it (broker default rules); default true. */
  allowAutoTopicCreation?: boolean;
}

/**
 * An idempotent producer with one request in flight and acks=all on every
 * send: the broker drops a retry of a batch it already appended, and a send
 * resolves only when every record is acknowledged by all in-sync replicas.
 * After a failed send its sequence numbers are unknown; callers abandon it
 * and make a new one (a new producer id).
 */
export interface KafkaProducer {
  connect(): Promise<void>;
  /** One produce request holding every topic's records. */
  send(batches: { topic: string; records: OutgoingRecord[] }[], opts?: { compression?: 'none' | 'gzip' }): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ConsumerOptions {
  groupId: string;
  /** Fetch size per partition: the upper bound of one batch. */
  maxBytesPerPartition: number;
  /** Fetch size of one request over all partitions. */
  maxBytes: number;
  /** The broker answers a fetch once this many bytes are there, or maxWaitMs passed. */
  minBytes: number;
  maxWaitMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
}

/** One partition's fetched records, handed to the batch handler. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  /** Empty when the fetch held nothing to process (then the handler has nothing to do). */
  records: ConsumedRecord[];
  /** Offset of the first and last record of the fetch (set when records is not empty). */
  firstOffset: string;
  lastOffset: string;
  /** Marks records up to `offset` processed in this process: the next fetch starts after it. Not a commit. */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True once this partition was reassigned (a rebalance): the batch must not be committed. */
  isStale(): boolean;
}

/**
 * A consumer group member with manual commits only: nothing is committed
 * unless commit() is called, batches are handled one partition at a time,
 * and a handler that throws leaves its batch uncommitted, to be fetched
 * again.
 */
export interface KafkaConsumer {
  /** Connects, subscribes and starts handing batches to `eachBatch`; resolves once running. Called again after a crash. */
  run(opts: { topics: string[]; fromBeginning: boolean; eachBatch: (batch: ConsumedBatch) => Promise<void> }): Promise<void>;
  /** Commits the next offset to read (last handled + 1) of each partition. */
  commit(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  /** Stops fetching these topics until resume; batches in hand carry on. */
  pause(topics: string[]): void;
  resume(topics: string[]): void;
  /** The consumer stopped on an error; `restart` says whether the client restarts it itself. */
  onCrash(listener: (e: { error: Error; restart: boolean }) => void): void;
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  config?: Record<string, string>;
}

export interface KafkaAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  /** Creates the topics and waits for their partition leaders. */
  createTopics(topics: TopicSpec[]): Promise<void>;
  deleteTopics(topics: string[]): Promise<void>;
  /** Partitions of each topic with their leader's node id. */
  topicMetadata(topics: string[]): Promise<{ topic: string; partitions: { partition: number; leader: number }[] }[]>;
  /** Log start (low) and end (high) offset of each partition. */
  topicOffsets(topic: string): Promise<{ partition: number; low: string; high: string }[]>;
  /** A group's committed offsets ("-1" where it committed none), of these topics or of every topic it committed to. */
  committedOffsets(groupId: string, topics?: string[]): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  /** Brokers of the cluster as the metadata names them. */
  brokers(): Promise<{ nodeId: number; host: string; port: number }[]>;
  /** Groups the cluster knows; protocolType "consumer" (or "") for consumer groups. */
  listGroups(): Promise<{ groupId: string; protocolType: string }[]>;
}

export interface KafkaClient {
  producer(opts?: ProducerOptions): KafkaProducer;
  consumer(opts: ConsumerOptions): KafkaConsumer;
  admin(): KafkaAdmin;
}
