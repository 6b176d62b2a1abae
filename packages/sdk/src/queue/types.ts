import type { TidemarkSdkError, SignalName } from '../errors';
import type { BackoffOptions } from '../retry/backoff';

/** The shapes a delivery pipeline is configured with, reports through, and counts in (pipeline.ts). */

export interface PipelineOptions {
  /** Items held at most (queued plus being sent). */
  maxQueueSize: number;
  /** Items per request at most. */
  maxBatchSize: number;
  /** JSON characters per request at most (a batch always holds at least one item). */
  maxBatchBytes: number;
  /** A partial batch is sent once its oldest item waited this long (ms). */
  flushIntervalMs: number;
  /** Requests of this signal in flight at once. */
  maxConcurrentRequests: number;
  /** A request that has not answered after this long is aborted and retried (ms). */
  requestTimeoutMs: number;
  retry: BackoffOptions;
}

export interface PipelineStats {
  /** Waiting to be sent. */
  queued: number;
  /** In a request that has not answered yet. */
  inflight: number;
  /** Acknowledged by the collector (or Kafka). */
  sent: number;
  /** Dropped because the queue was full (the oldest go first). */
  dropped: number;
  /** Refused for good by the receiver (invalid rows, 4xx) or too large. */
  rejected: number;
  /** Still unsent when shutdown's timeout ran out, or after a shutdown. */
  failed: number;
  /** Requests that failed retriably and were resent later. */
  retries: number;
  /** Requests made. */
  requests: number;
}

export interface RetryInfo {
  signal: SignalName;
  /** Consecutive failures so far (1 for the first retry). */
  attempt: number;
  /** Wait before the next request (ms): backoff, or more when the receiver's Retry-After asks for it. */
  delayMs: number;
  status: number | undefined;
  retryAfterMs: number | undefined;
  error: Error;
}

export interface PipelineHooks {
  /** Never throws (the client wraps the user's callback). */
  onError(err: TidemarkSdkError): void;
  onRetry?(info: RetryInfo): void;
}
