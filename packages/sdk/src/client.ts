import crypto from 'node:crypto';
import { TidemarkSdkError, type SignalName } from './errors';
import { MetricRegistry, type Counter, type Gauge, type Histogram, type Labels, type MetricType } from './metrics/registry';
import { Pipeline, type PipelineStats, type RetryInfo } from './queue/pipeline';
import { HttpTransport } from './transport/http';
import { KafkaTransport, type KafkaTransportOptions } from './transport/kafka';
import type { Transport } from './transport/types';
import { wellFormedJson } from './wellformed';

/** Product context of events (stored as columns and rolled up by). */
export interface EventContext {
  product?: string;
  channel?: string;
  os?: string;
  app_version?: string;
  user_agent?: string;
}

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

export interface TrackOptions {
  /** Who did it (user id or anonymous id). Default: the client's/scope's distinct id. */
  distinctId?: string;
  userId?: string;
  anonymousId?: string;
  sessionId?: string;
  /** When it happened: Date, epoch ms or ISO text (default now). */
  timestamp?: Date | number | string;
  context?: EventContext;
  /** Client-generated id (default a random UUID); resend the same id to let queries count it once. */
  eventId?: string;
}

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL' | 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface ClientStats {
  events: PipelineStats;
  metrics: PipelineStats;
  logs: PipelineStats;
  /** Why the client is off (invalid options), if it is. */
  disabled?: string;
}

/** Anything events can be tracked on: the client, a scope, a session. */
export interface Tracker {
  track(name: string, properties?: Record<string, unknown>, options?: TrackOptions): string | undefined;
}

const DEFAULTS = {
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

const SIGNALS: readonly SignalName[] = ['events', 'metrics', 'logs'];
const LOG_LEVELS = new Set(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']);

function positiveInt(name: string, v: unknown, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

function toEpochMs(t: Date | number | string | undefined): number | string | undefined {
  if (t === undefined) return undefined;
  if (t instanceof Date) return t.getTime();
  return t;
}

const emptyStats = (): PipelineStats => ({ queued: 0, inflight: 0, sent: 0, dropped: 0, rejected: 0, failed: 0, retries: 0, requests: 0 });

/**
 * The Tidemark producer client: events (track, identify, sessions), metrics
 * (counter, gauge, histogram, raw samples) and log lines, each through its
 * own bounded, batching, retrying pipeline.
 *
 * Contract with the host application: no method throws, no method waits on
 * the network (track() serialises the item and queues it; everything else
 * happens on later event-loop turns), memory is bounded by maxQueueSize per
 * signal, and timers never keep the process alive on their own.
 */
export class TidemarkClient implements Tracker {
  private readonly transport: Transport | undefined;
  private readonly pipelines: Record<SignalName, Pipeline> | undefined;
  private readonly registry: MetricRegistry;
  private readonly onErrorUser: ((err: TidemarkSdkError) => void) | undefined;
  private readonly maxItemBytes: number;
  private readonly context: EventContext;
  private readonly service: string | undefined;
  private readonly servicePrefix: string | undefined;
  private distinctId: string | undefined;
  private metricsTimer: NodeJS.Timeout | undefined;
  private exitFlushMs = 0;
  private exitFlushTried = false;
  private shuttingDown: Promise<ClientStats> | undefined;
  private readonly disabled: string | undefined;
  private keyed = false;
  private droppedReported: Record<SignalName, number> = { events: 0, metrics: 0, logs: 0 };

  constructor(opts: TidemarkOptions = {}) {
    this.onErrorUser = opts.onError;
    this.context = { ...opts.context };
    this.service = opts.service;
    this.servicePrefix = opts.service !== undefined ? `{"service":${JSON.stringify(opts.service)},` : undefined;
    this.distinctId = opts.distinctId;
    this.maxItemBytes = DEFAULTS.maxItemBytes;
    this.registry = new MetricRegistry(
      (json, name, seriesKey) => this.enqueueSample(json, name, seriesKey),
      (e) => this.report(e),
      {
        defaultLabels: opts.defaultLabels ?? {},
        maxSeries: typeof opts.maxSeries === 'number' && opts.maxSeries > 0 ? opts.maxSeries : DEFAULTS.maxSeries,
      },
    );
    let disabled: string | undefined;
    try {
      const pipelineOpts = {
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
      this.maxItemBytes = positiveInt('maxItemBytes', opts.maxItemBytes, DEFAULTS.maxItemBytes);
      const metricsIntervalMs = positiveInt('metricsIntervalMs', opts.metricsIntervalMs, DEFAULTS.metricsIntervalMs, 0);
      this.transport = this.makeTransport(opts);
      this.keyed = this.transport.keyed === true;
      const hooks = {
        onError: (e: TidemarkSdkError) => this.report(e),
        ...(opts.onRetry ? { onRetry: (i: RetryInfo) => this.safeCall(() => opts.onRetry?.(i)) } : {}),
      };
      const transport = this.transport;
      this.pipelines = {
        events: new Pipeline('events', transport, pipelineOpts, hooks),
        metrics: new Pipeline('metrics', transport, pipelineOpts, hooks),
        logs: new Pipeline('logs', transport, pipelineOpts, hooks),
      };
      if (metricsIntervalMs > 0) {
        this.metricsTimer = setInterval(() => this.snapshotMetrics(), metricsIntervalMs);
        this.metricsTimer.unref();
      }
      const exit = opts.flushOnExit ?? true;
      if (exit !== false) {
        this.exitFlushMs = exit === true ? DEFAULTS.exitFlushMs : Math.max(0, exit);
        process.on('beforeExit', this.onBeforeExit);
      }
    } catch (err) {
      disabled = (err as Error).message;
      this.report(new TidemarkSdkError('INVALID_OPTIONS', `Tidemark client disabled: ${disabled}`, { cause: err }));
    }
    this.disabled = disabled;
  }

  /** The `service` option: log lines' service and the request middleware's label. */
  get serviceName(): string | undefined {
    return this.service;
  }

  private makeTransport(opts: TidemarkOptions): Transport {
    if (opts.transport) return opts.transport;
    if (opts.kafka) return new KafkaTransport(opts.kafka);
    if (!opts.endpoint) throw new Error('endpoint (the collector URL) is required, or kafka, or transport');
    if (!opts.apiKey) throw new Error('apiKey (an ingest key) is required with endpoint');
    return new HttpTransport({ endpoint: opts.endpoint, apiKey: opts.apiKey, ...(opts.gzip !== undefined ? { gzip: opts.gzip } : {}) });
  }

  private readonly onBeforeExit = (): void => {
    if (this.exitFlushTried || this.shuttingDown || !this.pipelines) return;
    const pending = SIGNALS.some((s) => {
      const st = this.pipelines![s].stats();
      return st.queued + st.inflight > 0;
    });
    if (!pending) return;
    // Once: if the collector is away the flush times out, and trying again on the next
    // 'beforeExit' would keep the process from ever exiting.
    this.exitFlushTried = true;
    void this.flush({ timeoutMs: this.exitFlushMs });
  };

  private safeCall(fn: () => void): void {
    try {
      fn();
    } catch {
      // The host's own callback threw: nothing the SDK can do, and it must not propagate.
    }
  }

  private report(err: TidemarkSdkError): void {
    if (this.onErrorUser) this.safeCall(() => this.onErrorUser?.(err));
  }

  /** Serialises and queues; undefined (and reported) when the item cannot be sent. */
  private enqueue(signal: SignalName, item: unknown, key: string): number | undefined {
    if (!this.pipelines) return undefined;
    let json: string;
    try {
      json = JSON.stringify(item);
    } catch (err) {
      this.report(
        new TidemarkSdkError('SERIALIZE_FAILED', `${signal}: item is not JSON-serialisable (${(err as Error).message})`, { signal, items: 1, cause: err }),
      );
      return undefined;
    }
    return this.enqueueJson(signal, json, key);
  }

  private enqueueJson(signal: SignalName, raw: string, key: string): number | undefined {
    if (!this.pipelines) return undefined;
    // Lone surrogates would make ClickHouse refuse the insert: U+FFFD, as the collector does.
    const json = wellFormedJson(raw);
    // Byte length only when the character count says it could matter (UTF-8 is at most 3 bytes per UTF-16 unit).
    if (json.length * 3 > this.maxItemBytes && Buffer.byteLength(json) > this.maxItemBytes) {
      this.report(
        new TidemarkSdkError('ITEM_TOO_LARGE', `${signal}: item of ${Buffer.byteLength(json)} bytes exceeds maxItemBytes (${this.maxItemBytes}); dropped`, {
          signal,
          items: 1,
        }),
      );
      return undefined;
    }
    return this.pipelines[signal].enqueue(json, key);
  }

  private enqueueSample(json: string, name: string, seriesKey: string): void {
    // The partition key is only used by Kafka; over HTTP it is not built at all.
    this.enqueueJson('metrics', json, this.keyed ? `${name}:${seriesKey}` : '');
  }

  // --- events --------------------------------------------------------------

  /**
   * Tracks an event. Returns its event id, or undefined when it was refused
   * (reported to onError). Never throws, never waits.
   */
  track(name: string, properties?: Record<string, unknown>, options: TrackOptions = {}): string | undefined {
    try {
      if (this.disabled) return undefined;
      if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
        this.report(
          new TidemarkSdkError('INVALID_INPUT', `track: event name must be a string of 1-200 characters, got ${JSON.stringify(name)?.slice(0, 80)}`, {
            signal: 'events',
            items: 1,
          }),
        );
        return undefined;
      }
      if (properties !== undefined && (typeof properties !== 'object' || properties === null || Array.isArray(properties))) {
        this.report(new TidemarkSdkError('INVALID_INPUT', `track ${name}: properties must be an object`, { signal: 'events', items: 1 }));
        return undefined;
      }
      const eventId = options.eventId ?? crypto.randomUUID();
      const distinct = options.distinctId ?? options.userId ?? this.distinctId;
      const item: Record<string, unknown> = { event_id: eventId, name, timestamp: toEpochMs(options.timestamp) ?? Date.now() };
      if (distinct !== undefined) item.distinct_id = distinct;
      if (options.anonymousId !== undefined) item.anonymous_id = options.anonymousId;
      if (options.sessionId !== undefined) item.session_id = options.sessionId;
      if (properties !== undefined) item.properties = properties;
      const context = options.context ? { ...this.context, ...options.context } : this.context;
      if (Object.keys(context).length > 0) item.context = context;
      const seq = this.enqueue('events', item, distinct ?? options.anonymousId ?? options.sessionId ?? eventId);
      return seq === undefined ? undefined : eventId;
    } catch (err) {
      this.report(new TidemarkSdkError('INVALID_INPUT', `track: ${(err as Error).message}`, { signal: 'events', items: 1, cause: err }));
      return undefined;
    }
  }

  /**
   * Says who the current user is: sends a `$identify` event with `traits`
   * and makes `distinctId` the default of later track() calls on this
   * client. Servers handling many users pass distinctId per call or use
   * with({ distinctId }) instead.
   */
  identify(distinctId: string, traits?: Record<string, unknown>): string | undefined {
    if (typeof distinctId !== 'string' || distinctId.length === 0 || distinctId.length > 256) {
      this.report(new TidemarkSdkError('INVALID_INPUT', 'identify: distinctId must be a string of 1-256 characters', { signal: 'events', items: 1 }));
      return undefined;
    }
    this.distinctId = distinctId;
    return this.track('$identify', traits ?? {}, { distinctId });
  }

  /** A tracker whose events carry these defaults (a request's user and session, say). */
  with(defaults: Pick<TrackOptions, 'distinctId' | 'sessionId' | 'anonymousId' | 'context'>): Tracker {
    return {
      track: (name, properties, options = {}) =>
        this.track(name, properties, {
          ...defaults,
          ...options,
          ...(defaults.context || options.context ? { context: { ...defaults.context, ...options.context } } : {}),
        }),
    };
  }

  /**
   * Starts a session: a `session.start` event now, a `session.end` event
   * (with duration_ms) on end(); events tracked on it carry its session id.
   */
  session(opts: { sessionId?: string; distinctId?: string; properties?: Record<string, unknown> } = {}): Session {
    return new Session(this, opts.sessionId ?? crypto.randomUUID(), opts.distinctId ?? this.distinctId, opts.properties);
  }

  // --- metrics -------------------------------------------------------------

  counter(name: string): Counter {
    return this.registry.counter(name);
  }

  gauge(name: string): Gauge {
    return this.registry.gauge(name);
  }

  histogram(name: string): Histogram {
    return this.registry.histogram(name);
  }

  /** Sends one metric sample as it is (probes, scrapes). */
  metric(name: string, value: number, opts: { type?: MetricType; labels?: Labels; timestamp?: number } = {}): void {
    try {
      if (!this.disabled) this.registry.sample(name, value, opts);
    } catch (err) {
      this.report(new TidemarkSdkError('INVALID_INPUT', `metric ${String(name)}: ${(err as Error).message}`, { signal: 'metrics', items: 1, cause: err }));
    }
  }

  private snapshotMetrics(): void {
    try {
      if (this.disabled || !this.pipelines) return;
      const now = Date.now();
      this.registry.snapshot(now);
      // The SDK's own losses, as a counter per signal, once there are any.
      for (const s of SIGNALS) {
        const dropped = this.pipelines[s].stats().dropped;
        if (dropped > 0 && dropped !== this.droppedReported[s]) {
          this.droppedReported[s] = dropped;
          this.registry.sample('tidemark_sdk_dropped_total', dropped, { type: 'counter', labels: { signal: s }, timestamp: now });
        }
      }
    } catch (err) {
      this.report(new TidemarkSdkError('INVALID_INPUT', `metrics snapshot failed: ${(err as Error).message}`, { signal: 'metrics', cause: err }));
    }
  }

  // --- logs ----------------------------------------------------------------

  /** Queues one log line. */
  log(
    level: LogLevel,
    message: string,
    attributes?: Record<string, unknown>,
    opts: { service?: string; traceId?: string; requestId?: string; timestamp?: number } = {},
  ): void {
    try {
      if (this.disabled) return;
      const lvl = String(level).toUpperCase();
      if (!LOG_LEVELS.has(lvl)) {
        this.report(
          new TidemarkSdkError('INVALID_INPUT', `log: level ${JSON.stringify(level)} is not one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL`, {
            signal: 'logs',
            items: 1,
          }),
        );
        return;
      }
      const service = opts.service ?? this.service;
      const item: Record<string, unknown> = { level: lvl, message: String(message), timestamp: opts.timestamp ?? Date.now() };
      if (service !== undefined) item.service = service;
      if (attributes) item.attributes = attributes;
      if (opts.traceId) item.trace_id = opts.traceId;
      if (opts.requestId) item.request_id = opts.requestId;
      this.enqueue('logs', item, service ?? '');
    } catch (err) {
      this.report(new TidemarkSdkError('INVALID_INPUT', `log: ${(err as Error).message}`, { signal: 'logs', items: 1, cause: err }));
    }
  }

  /**
   * Queues a log line that already is JSON text (a pino line), without
   * parsing it: the collector reads pino's fields (msg, time, numeric level,
   * name) itself. The client's `service`, when set, is added in front, so a
   * `service` field of the line itself still wins.
   */
  logLine(line: string): void {
    try {
      if (this.disabled) return;
      const text = line.trim();
      if (text.length === 0) return;
      let json: string;
      if (text.startsWith('{') && text.endsWith('}')) {
        json = this.servicePrefix === undefined ? text : text === '{}' ? `${this.servicePrefix.slice(0, -1)}}` : this.servicePrefix + text.slice(1);
      } else {
        // Not a JSON object (a stray console line): shipped as the message.
        json = JSON.stringify({ level: 'INFO', message: text, ...(this.service !== undefined ? { service: this.service } : {}), timestamp: Date.now() });
      }
      this.enqueueJson('logs', json, this.service ?? '');
    } catch (err) {
      this.report(new TidemarkSdkError('INVALID_INPUT', `log line: ${(err as Error).message}`, { signal: 'logs', items: 1, cause: err }));
    }
  }

  // --- delivery ------------------------------------------------------------

  stats(): ClientStats {
    if (!this.pipelines) return { events: emptyStats(), metrics: emptyStats(), logs: emptyStats(), ...(this.disabled ? { disabled: this.disabled } : {}) };
    return { events: this.pipelines.events.stats(), metrics: this.pipelines.metrics.stats(), logs: this.pipelines.logs.stats() };
  }

  /**
   * Sends everything queued so far (counters and gauges included) and
   * resolves true once all of it was acknowledged or refused, false if
   * `timeoutMs` (default 30 s) passed first. Never rejects.
   */
  async flush(opts: { timeoutMs?: number } = {}): Promise<boolean> {
    try {
      if (!this.pipelines) return this.disabled === undefined;
      this.snapshotMetrics();
      const timeoutMs = opts.timeoutMs ?? 30_000;
      const results = await Promise.all(SIGNALS.map((s) => this.pipelines![s].flush(timeoutMs)));
      return results.every(Boolean);
    } catch (err) {
      this.report(new TidemarkSdkError('GAVE_UP', `flush failed: ${(err as Error).message}`, { cause: err }));
      return false;
    }
  }

  /**
   * Stops taking items and delivers what is held, for at most `timeoutMs`
   * (default 5000): resolves by then, in every case, with the final stats.
   * What could not be sent in time is counted as `failed` and reported
   * (GAVE_UP). Later calls return the same promise.
   */
  shutdown(timeoutMs = 5_000): Promise<ClientStats> {
    this.shuttingDown ??= this.runShutdown(timeoutMs).catch((err: unknown) => {
      this.report(new TidemarkSdkError('GAVE_UP', `shutdown failed: ${(err as Error).message}`, { cause: err }));
      return this.stats();
    });
    return this.shuttingDown;
  }

  private async runShutdown(timeoutMs: number): Promise<ClientStats> {
    const start = Date.now();
    const deadline = start + Math.max(0, timeoutMs);
    process.off('beforeExit', this.onBeforeExit);
    clearInterval(this.metricsTimer);
    if (!this.pipelines || !this.transport) return this.stats();
    this.snapshotMetrics();
    // A margin before the deadline: aborted requests unwind and sockets close within it.
    const margin = Math.min(100, Math.floor(timeoutMs * 0.1));
    await Promise.all(SIGNALS.map((s) => this.pipelines![s].shutdown(deadline - margin)));
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.transport.close().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, left));
      }),
    ]);
    clearTimeout(timer);
    return this.stats();
  }
}

/** A session: `session.start` when created, `session.end` with its duration on end(). */
export class Session implements Tracker {
  private readonly startedAt = Date.now();
  private ended = false;

  constructor(
    private readonly client: TidemarkClient,
    readonly id: string,
    readonly distinctId: string | undefined,
    properties?: Record<string, unknown>,
  ) {
    client.track('session.start', { session_id: id, ...properties }, this.options());
  }

  private options(extra: TrackOptions = {}): TrackOptions {
    return { ...(this.distinctId !== undefined ? { distinctId: this.distinctId } : {}), ...extra, sessionId: this.id };
  }

  track(name: string, properties?: Record<string, unknown>, options: TrackOptions = {}): string | undefined {
    return this.client.track(name, properties, this.options(options));
  }

  /** Ends the session once; later calls do nothing. */
  end(properties?: Record<string, unknown>): string | undefined {
    if (this.ended) return undefined;
    this.ended = true;
    return this.client.track('session.end', { session_id: this.id, duration_ms: Date.now() - this.startedAt, ...properties }, this.options());
  }
}

/** Same as `new TidemarkClient(options)`. */
export function createClient(options: TidemarkOptions): TidemarkClient {
  return new TidemarkClient(options);
}
