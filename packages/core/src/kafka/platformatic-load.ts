import type { KafkaClientOptions } from './types';

/**
 * Loads @platformatic/kafka, and names the part of it the adapters use: its
 * typings are ESM-only, so a CommonJS file cannot import them. The package is
 * ESM-only too: it is loaded with import() on first use (jest runs in its
 * ES-module mode for it, scripts/jest.sh).
 */

export interface PltProducer {
  send(opts: {
    messages: { topic: string; key?: Buffer; value: Buffer; partition?: number; headers?: Map<Buffer, Buffer> }[];
    compression?: 'none' | 'gzip';
  }): Promise<unknown>;
  metadata(opts: { topics: string[] }): Promise<unknown>;
  close(): Promise<void>;
}

export interface PltMetadata {
  brokers: Map<number, { host: string; port: number }>;
  topics: Map<string, { id: string; partitionsCount: number; partitions: { leader: number; leaderEpoch: number }[] }>;
}

export interface PltRecordsBatch {
  firstOffset: bigint;
  lastOffsetDelta: number;
  attributes: number;
  firstTimestamp: bigint;
  records: { offsetDelta: number; timestampDelta: bigint; key: Buffer | null; value: Buffer | null; headers: [Buffer | null, Buffer | null][] }[];
}

export interface PltFetchResponse {
  responses: { topicId: string; partitions: { partitionIndex: number; errorCode: number; records?: PltRecordsBatch[] }[] }[];
}

export interface PltConsumer {
  groupId: string;
  generationId: number;
  assignments: { topic: string; partitions: number[] }[] | null;
  topics: { trackAll(...topics: string[]): void };
  on(event: 'consumer:group:join', listener: (p: { generationId?: number; assignments?: { topic: string; partitions: number[] }[] }) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  joinGroup(opts?: Record<string, unknown>): Promise<string>;
  metadata(opts: { topics: string[]; forceUpdate?: boolean }): Promise<PltMetadata>;
  clearMetadata(): void;
  fetch(opts: {
    node: number;
    topics: {
      topicId: string;
      partitions: { partition: number; fetchOffset: bigint; partitionMaxBytes: number; currentLeaderEpoch: number; lastFetchedEpoch: number }[];
    }[];
    minBytes?: number;
    maxBytes?: number;
    maxWaitTime?: number;
  }): Promise<PltFetchResponse>;
  commit(opts: { offsets: { topic: string; partition: number; offset: bigint; leaderEpoch: number }[] }): Promise<void>;
  listCommittedOffsets(opts: { topics: { topic: string; partitions: number[] }[] }): Promise<Map<string, bigint[]>>;
  listOffsets(opts: { topics: string[]; partitions?: Record<string, number[]>; timestamp?: bigint }): Promise<Map<string, bigint[]>>;
  close(force?: boolean): Promise<void>;
}

export interface PltAdmin {
  listTopics(opts?: { includeInternals?: boolean }): Promise<string[]>;
  createTopics(opts: { topics: string[]; partitions?: number; replicas?: number; configs?: { name: string; value: string }[] }): Promise<unknown>;
  deleteTopics(opts: { topics: string[] }): Promise<void>;
  metadata(opts: { topics: string[]; forceUpdate?: boolean }): Promise<PltMetadata>;
  listOffsets(opts: {
    topics: { name: string; partitions: { partitionIndex: number; timestamp: bigint }[] }[];
  }): Promise<{ name: string; partitions: { partitionIndex: number; offset: bigint }[] }[]>;
  listConsumerGroupOffsets(opts: {
    groups: (string | { groupId: string; topics?: { name: string; partitionIndexes: number[] }[] | null })[];
  }): Promise<{ groupId: string; topics: { name: string; partitions: { partitionIndex: number; committedOffset: bigint }[] }[] }[]>;
  listGroups(opts?: Record<string, unknown>): Promise<Map<string, { id: string; protocolType: string }>>;
  close(): Promise<void>;
}

export interface PltModule {
  Admin: new (opts: Record<string, unknown>) => PltAdmin;
  Producer: new (opts: Record<string, unknown>) => PltProducer;
  Consumer: new (opts: Record<string, unknown>) => PltConsumer;
  compatibilityPartitioner: unknown;
  ProduceAcks: { ALL: number };
}

/** The options every client of ours shares: brokers, client id, timeout, and retries with a jittered exponential backoff. */
export function baseOptions(opts: KafkaClientOptions, defaultTimeoutMs: number): Record<string, unknown> {
  return {
    clientId: opts.clientId,
    bootstrapBrokers: opts.brokers.split(',').map((b) => b.trim()),
    retries: opts.retries ?? 8,
    retryDelay: (_client: unknown, _operation: string, attempt: number) => Math.min(5_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2),
    // Without a timeout a connection to an address that drops packets waits indefinitely (seen: over 40 s).
    timeout: opts.timeoutMs ?? defaultTimeoutMs,
  };
}

/** The broker's error names (`apiId`) in a client error, the errors it gathers and its causes. */
export function brokerErrors(err: unknown, depth = 0): string[] {
  if (depth > 4 || typeof err !== 'object' || err === null) return [];
  const e = err as { apiId?: unknown; errors?: unknown; cause?: unknown };
  const own = typeof e.apiId === 'string' ? [e.apiId] : [];
  const inner = Array.isArray(e.errors) ? e.errors.flatMap((x) => brokerErrors(x, depth + 1)) : [];
  return [...own, ...inner, ...brokerErrors(e.cause, depth + 1)];
}

// A variable specifier keeps TypeScript (module Node16, CommonJS output) from resolving the ESM-only package's types.
const PACKAGE = '@platformatic/kafka';
let loaded: Promise<PltModule> | undefined;

export function loadPlatformatic(): Promise<PltModule> {
  loaded ??= (import(PACKAGE) as Promise<PltModule>).catch((err: unknown) => {
    loaded = undefined;
    throw new Error(`could not load @platformatic/kafka, the Kafka client: ${(err as Error).message}`, { cause: err });
  });
  return loaded;
}
