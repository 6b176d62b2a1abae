import type { SignalName } from '../errors';

/**
 * One queued item: its JSON text (serialised when the caller handed it over,
 * so later mutation of the caller's objects cannot change what is sent), the
 * partition key the Kafka contract orders it by, and its size.
 */
export interface QueueEntry {
  json: string;
  /** Without the project prefix: distinct id (events), name + labels (metrics), service (logs). Empty when the transport is not keyed. */
  key: string;
  /** UTF-16 length of `json`: a cheap stand-in for bytes when batching. */
  size: number;
  /** Position in the order items were queued; flush() waits for sequence numbers. */
  seq: number;
}

/** What became of one batch. A transport reports, it never throws. */
export type SendOutcome =
  /** Stored. `rejected` lists items the collector refused for good (the row rule): not resent. */
  | { kind: 'ok'; rejected: { index: number; reason: string }[] }
  /** Nothing was stored and the same batch may succeed later (network error, timeout, 5xx, 429). */
  | { kind: 'retry'; error: Error; status?: number; retryAfterMs?: number }
  /** The batch is too large for the receiver: the pipeline splits it. */
  | { kind: 'too_large'; error: Error; status?: number }
  /** Refused for good (4xx other than 408/413/429): the batch is dropped and reported. */
  | { kind: 'fail'; error: Error; status?: number };

/** Where batches go: the collector's HTTP API, Kafka, or anything implementing this. */
export interface Transport {
  readonly name: string;
  /** True when the transport uses QueueEntry.key (Kafka partitioning); otherwise the client may leave keys empty. */
  readonly keyed?: boolean;
  send(signal: SignalName, batch: readonly QueueEntry[], abort: AbortSignal): Promise<SendOutcome>;
  /** Releases sockets and connections; bounded by the caller. */
  close(): Promise<void>;
}
