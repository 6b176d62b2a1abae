import type { TidemarkSdkError } from '../errors';
import type { Labels } from '../metrics/registry';
import type { PipelineOptions, RetryInfo } from '../queue/pipeline';
import { HttpTransport } from '../transport/http';
import { KafkaTransport, type KafkaTransportOptions } from '../transport/kafka';
import type { Transport } from '../transport/types';
import type { EventContext } from './types';

export interface TidemarkOptions {
  /** Collector base URL, e.g. http://127.0.0.1:4318. With `apiKey`: the HTTP transport. */
  endpoint?: string;
  /** Ingest key of the project (it decides the project). */
  apiKey?: string;
  /** Send straight into Kafka instead (high-volume producers): your client or producer, or brokers (then the kafkajs package is needed). */
  kafka?: KafkaTransportOptions;
  /** Any other transport (tests, proxies). */
  transport?: Transport;
  /** Items each signal holds at most while the collector is slow or away (default 10,000); the oldest are dropped beyond. */
  maxQueueSize?: number;
  /** Items per request at most (default 500). */
  maxBatchSize?: number;
  /** JSON characters per request at most (default 1 MiB; the collector takes 8 MiB). */
  maxBatchBytes?: number;
  /** Largest single item (default 256 KiB, the collector's limit); larger items are dropped and reported. */
  maxItemBytes?: number;
  /** A partial batch goes out after this long (ms, default 1000). */
  flushIntervalMs?: number;
  /** Requests in flight per signal (default 2). */
  maxConcurrentRequests?: number;
  /** Requests not answered after this long are aborted and retried (ms, default 10,000). */
  requestTimeoutMs?: number;
  /** Backoff between resends: first wait and longest wait (ms, defaults 250 and 15,000), with jitter. */
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  /** gzip request bodies (default true: level 1, cheap on CPU); a number picks the level. HTTP only. */
  gzip?: boolean | number;
  /** Counters and gauges are sent every this many ms (default 10,000); 0: only on flush()/shutdown(). */
  metricsIntervalMs?: number;
  /** Labels every metric sample carries (service, host, ...). */
  defaultLabels?: Labels;
  /** Counter/gauge series kept at most (default 10,000): protects memory from unbounded label values. */
  maxSeries?: number;
  /** Context merged into every event. */
  context?: EventContext;
  /** Service name of log lines (and of the request middleware's labels). */
  service?: string;
  /** Default distinct id of events tracked without one (see identify()). */
  distinctId?: string;
  /** Every problem (dropped, rejected, retried, bad input) is reported here; the SDK never throws. */
  onError?: (err: TidemarkSdkError) => void;
  /** Called before each resend wait. */
  onRetry?: (info: RetryInfo) => void;
  /**
   * When the host's event loop runs empty ('beforeExit'), queued items are
   * flushed once, for at most this many ms (true = 5000, false = off).
   * process.exit() and signals skip 'beforeExit': call shutdown() there.
   */
  flushOnExit?: boolean | number;
}

export const DEFAULTS = {
  maxQueueSize: 10_000,
  maxBatchSize: 500,
  maxBatchBytes: 1024 * 1024,
  maxItemBytes: 256 * 1024,
  flushIntervalMs: 1_000,
  maxConcurrentRequests: 2,
  requestTimeoutMs: 10_000,
  initialDelayMs: 250,
  maxDelayMs: 15_000,
  metricsIntervalMs: 10_000,
  maxSeries: 10_000,
  exitFlushMs: 5_000,
};

function positiveInt(name: string, v: unknown, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

/** What the client runs with once its options are checked. */
export interface ResolvedOptions {
  pipeline: PipelineOptions;
  maxItemBytes: number;
  metricsIntervalMs: number;
  transport: Transport;
}

/**
 * Checks the numeric options, in a fixed order (the first invalid one
 * throws, naming it), and builds the transport. The client turns a throw
 * into one INVALID_OPTIONS report and stays disabled.
 */
export function resolveOptions(opts: TidemarkOptions): ResolvedOptions {
  const pipeline: PipelineOptions = {
    maxQueueSize: positiveInt('maxQueueSize', opts.maxQueueSize, DEFAULTS.maxQueueSize),
    maxBatchSize: positiveInt('maxBatchSize', opts.maxBatchSize, DEFAULTS.maxBatchSize),
    maxBatchBytes: positiveInt('maxBatchBytes', opts.maxBatchBytes, DEFAULTS.maxBatchBytes),
    flushIntervalMs: positiveInt('flushIntervalMs', opts.flushIntervalMs, DEFAULTS.flushIntervalMs),
    maxConcurrentRequests: positiveInt('maxConcurrentRequests', opts.maxConcurrentRequests, DEFAULTS.maxConcurrentRequests),
    requestTimeoutMs: positiveInt('requestTimeoutMs', opts.requestTimeoutMs, DEFAULTS.requestTimeoutMs),
    retry: {
      initialDelayMs: positiveInt('retry.initialDelayMs', opts.retry?.initialDelayMs, DEFAULTS.initialDelayMs),
      maxDelayMs: positiveInt('retry.maxDelayMs', opts.retry?.maxDelayMs, DEFAULTS.maxDelayMs),
    },
  };
  const maxItemBytes = positiveInt('maxItemBytes', opts.maxItemBytes, DEFAULTS.maxItemBytes);
  const metricsIntervalMs = positiveInt('metricsIntervalMs', opts.metricsIntervalMs, DEFAULTS.metricsIntervalMs, 0);
  return { pipeline, maxItemBytes, metricsIntervalMs, transport: makeTransport(opts) };
}

function makeTransport(opts: TidemarkOptions): Transport {
  if (opts.transport) return opts.transport;
  if (opts.kafka) return new KafkaTransport(opts.kafka);
  if (!opts.endpoint) throw new Error('endpoint (the collector URL) is required, or kafka, or transport');
  if (!opts.apiKey) throw new Error('apiKey (an ingest key) is required with endpoint');
  return new HttpTransport({ endpoint: opts.endpoint, apiKey: opts.apiKey, ...(opts.gzip !== undefined ? { gzip: opts.gzip } : {}) });
}
