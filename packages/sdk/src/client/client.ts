import crypto from 'node:crypto';
import { TidemarkSdkError, type SignalName } from '../errors';
import { MetricRegistry, type Counter, type Gauge, type Histogram, type Labels, type MetricType } from '../metrics/registry';
import type { PipelineStats, RetryInfo } from '../queue/pipeline';
import { Delivery, SIGNALS } from './delivery';
import { DEFAULTS, resolveOptions, type TidemarkOptions } from './options';
import { Session } from './session';
import type { ClientStats, EventContext, LogLevel, TrackOptions, Tracker } from './types';

const LOG_LEVELS = new Set(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']);

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
 *
 * This file is the public API (events, metrics, logs) and the client's
 * lifecycle (metrics timer, flush on exit, shutdown); options are checked in
 * options.ts, items are delivered by delivery.ts.
 */
export class TidemarkClient implements Tracker {
  /** Undefined when the options were invalid (the client is disabled). */
  private readonly delivery: Delivery | undefined;
  private readonly registry: MetricRegistry;
  private readonly onErrorUser: ((err: TidemarkSdkError) => void) | undefined;
  private readonly context: EventContext;
  private readonly service: string | undefined;
  private readonly servicePrefix: string | undefined;
  private distinctId: string | undefined;
  private metricsTimer: NodeJS.Timeout | undefined;
  private exitFlushMs = 0;
  private exitFlushTried = false;
  private shuttingDown: Promise<ClientStats> | undefined;
  private readonly disabled: string | undefined;
  private droppedReported: Record<SignalName, number> = { events: 0, metrics: 0, logs: 0 };

  constructor(opts: TidemarkOptions = {}) {
    this.onErrorUser = opts.onError;
    this.context = { ...opts.context };
    this.service = opts.service;
    this.servicePrefix = opts.service !== undefined ? `{"service":${JSON.stringify(opts.service)},` : undefined;
    this.distinctId = opts.distinctId;
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
      const resolved = resolveOptions(opts);
      const hooks = {
        onError: (e: TidemarkSdkError) => this.report(e),
        ...(opts.onRetry ? { onRetry: (i: RetryInfo) => this.safeCall(() => opts.onRetry?.(i)) } : {}),
      };
      this.delivery = new Delivery(resolved.transport, resolved.pipeline, hooks, resolved.maxItemBytes, (e) => this.report(e));
      const metricsIntervalMs = resolved.metricsIntervalMs;
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

  private readonly onBeforeExit = (): void => {
    if (this.exitFlushTried || this.shuttingDown || !this.delivery) return;
    if (!this.delivery.pending()) return;
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
    if (!this.delivery) return undefined;
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

  private enqueueJson(signal: SignalName, json: string, key: string): number | undefined {
    return this.delivery?.enqueueJson(signal, json, key);
  }

  private enqueueSample(json: string, name: string, seriesKey: string): void {
    // The partition key is only used by Kafka; over HTTP it is not built at all.
    this.enqueueJson('metrics', json, this.delivery?.keyed === true ? `${name}:${seriesKey}` : '');
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
      if (this.disabled || !this.delivery) return;
      const now = Date.now();
      this.registry.snapshot(now);
      // The SDK's own losses, as a counter per signal, once there are any.
      for (const s of SIGNALS) {
        const dropped = this.delivery.signalStats(s).dropped;
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
    if (!this.delivery) return { events: emptyStats(), metrics: emptyStats(), logs: emptyStats(), ...(this.disabled ? { disabled: this.disabled } : {}) };
    return this.delivery.stats();
  }

  /**
   * Sends everything queued so far (counters and gauges included) and
   * resolves true once all of it was acknowledged or refused, false if
   * `timeoutMs` (default 30 s) passed first. Never rejects.
   */
  async flush(opts: { timeoutMs?: number } = {}): Promise<boolean> {
    try {
      if (!this.delivery) return this.disabled === undefined;
      this.snapshotMetrics();
      return await this.delivery.flush(opts.timeoutMs ?? 30_000);
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
    if (!this.delivery) return this.stats();
    this.snapshotMetrics();
    await this.delivery.shutdown(deadline, timeoutMs);
    return this.stats();
  }
}

/** Same as `new TidemarkClient(options)`. */
export function createClient(options: TidemarkOptions): TidemarkClient {
  return new TidemarkClient(options);
}
