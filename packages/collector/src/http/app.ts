import Router, { type RouterMiddleware } from '@koa/router';
import Koa from 'koa';
import {
  ApiKeyVerifier,
  counter,
  decodeUtf8,
  histogram,
  PayloadTooLargeError,
  presentedKey,
  RateLimitedError,
  readBody,
  sendError,
  ValidationError,
  type KeyValueStore,
  type Logger,
  type Registry,
} from '@tidemark/core';
import { normalizeBatch, parseBatch, type NormalizedBatch } from '../signals/batch';
import { SIGNALS, type SignalName } from '../signals';
import type { ResendWindow } from '../dedup/resend-window';
import type { IngestAudit } from '../audit/ingest-audit';
import type { Sink } from '../sink/types';

export interface CollectorAppOptions {
  sink: Sink;
  keys: ApiKeyVerifier;
  kv: KeyValueStore;
  logger: Logger;
  metrics: Registry;
  limits: {
    /** Largest request body, after decompression. */
    maxBodyBytes: number;
    /** Largest single item (JSON bytes). */
    maxItemBytes: number;
    /** Most items in one request. */
    maxItems: number;
    /** Items per second per project (0 = no limit). */
    ratePerSecond: number;
    futureToleranceMs: number;
    retentionMs: number;
  };
  /** Drops client resends of events accepted shortly before (same event_id); absent: no window. */
  resends?: ResendWindow;
  /** Counts acknowledged rows per project and minute for the acknowledgement audit; absent: no audit. */
  audit?: IngestAudit;
  /** Extra status for GET /v1/status (lag and the like). */
  status?: () => Promise<Record<string, unknown>>;
  /** Dependencies checked by GET /ready. */
  ready?: () => Promise<void>;
}

/** The JSON error body every failure gets: { error: { code, message, retriable, context } }. */
function errorMiddleware(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (raw) {
      sendError(ctx, raw, logger);
    }
  };
}

/**
 * The collector's HTTP API: POST /v1/{events,metrics,logs}.
 *
 * The row rule (docs/ingestion.md): items are validated one by one; valid
 * items are stored, invalid ones are listed in `rejected` with their index
 * and reason, and the answer is 200. If no item is valid the answer is 400
 * and nothing is stored. Whole-request problems (auth, size, rate, a body
 * that is not JSON) refuse the whole request and store nothing. A 200 is
 * sent only after the sink made the rows durable.
 */
export function createCollectorApp(opts: CollectorAppOptions): Koa {
  const app = new Koa();
  app.proxy = false;
  const router = new Router();
  const { limits, logger } = opts;
  const m = {
    accepted: counter(opts.metrics, 'tidemark_ingest_accepted_total', 'Items accepted by the collector', ['signal']),
    rejected: counter(opts.metrics, 'tidemark_ingest_rejected_total', 'Items refused by the collector', ['signal', 'reason']),
    duplicates: counter(
      opts.metrics,
      'tidemark_ingest_resends_dropped_total',
      'Events dropped as client resends (event_id accepted within the resend window)',
      ['signal'],
    ),
    requests: counter(opts.metrics, 'tidemark_http_requests_total', 'HTTP requests', ['role', 'route', 'status']),
    duration: histogram(
      opts.metrics,
      'tidemark_http_request_duration_seconds',
      'HTTP request duration',
      ['role', 'route'],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ),
  };

  app.use(async (ctx, next) => {
    const end = m.duration.startTimer({ role: 'collector', route: ctx.path });
    try {
      await next();
    } finally {
      end();
      m.requests.inc({ role: 'collector', route: ctx.path, status: String(ctx.status) });
    }
  });
  app.use(errorMiddleware(logger));

  async function rateLimit(projectId: string, items: number): Promise<void> {
    if (limits.ratePerSecond <= 0) return;
    const second = Math.floor(Date.now() / 1000);
    const used = await opts.kv.incr(`ratelimit:${projectId}:${second}`, items, 2_000);
    if (used > limits.ratePerSecond) {
      throw new RateLimitedError(`project ${projectId} is over its rate limit of ${limits.ratePerSecond} items per second`, { retryAfterMs: 1_000 });
    }
  }

  const ingest =
    (signal: SignalName): RouterMiddleware =>
    async (ctx) => {
      const principal = await opts.keys.require(presentedKey(ctx.headers), 'ingest');
      const receivedAt = Date.now();
      const body = await readBody(ctx.req, limits.maxBodyBytes);
      if (body.length === 0) throw new ValidationError('request body is empty; send a JSON array of items, an envelope object, or NDJSON');
      const text = decodeUtf8(body);
      const parsed = parseBatch(text, ctx.get('content-type'), signal);
      if (parsed.items.length > limits.maxItems) {
        throw new PayloadTooLargeError(`batch of ${parsed.items.length} items exceeds the limit of ${limits.maxItems} items per request`, {
          context: { limitBytes: limits.maxBodyBytes, maxItems: limits.maxItems },
        });
      }
      await rateLimit(principal.projectId, parsed.items.length);
      const batch = normalizeBatch(signal, parsed, {
        projectId: principal.projectId,
        receivedAt,
        futureToleranceMs: limits.futureToleranceMs,
        retentionMs: limits.retentionMs,
      });
      if (batch.rejected.length > 0) m.rejected.inc({ signal, reason: 'invalid' }, batch.rejected.length);
      if (batch.rows.length === 0) {
        const first = batch.rejected[0];
        throw new ValidationError(`all ${parsed.items.length} item(s) were rejected; nothing was stored (item ${first?.index}: ${first?.reason})`, {
          context: { rejected: batch.rejected.slice(0, 100) },
        });
      }
      // The per-item cap applies to each row as it is stored and sent to Kafka
      // (its serialised line), so a message always fits; checked for every row
      // before anything is written. A line's UTF-8 size is at most 3 bytes per
      // UTF-16 unit, which skips the byte count for nearly every row.
      const oversized: { index: number; size: number }[] = [];
      for (let i = 0; i < batch.lines.length; i++) {
        const line = batch.lines[i]!;
        if (line.length * 3 <= limits.maxItemBytes) continue;
        const size = Buffer.byteLength(line);
        if (size > limits.maxItemBytes) oversized.push({ index: batch.indexes[i]!, size });
      }
      if (oversized.length > 0) {
        throw new PayloadTooLargeError(
          `${oversized.length} item(s) exceed the limit of ${limits.maxItemBytes} bytes per item as stored (first: index ${oversized[0]!.index}, ${oversized[0]!.size} bytes); nothing was stored`,
          { context: { limitBytes: limits.maxItemBytes, items: oversized.slice(0, 20) } },
        );
      }
      const kept =
        signal === 'events' && opts.resends?.enabled
          ? await opts.resends.dropResends(principal.projectId, parsed.items, batch as NormalizedBatch<'events'>)
          : { ...batch, duplicates: 0, newIds: [] as string[] };
      const { rows, lines, warnings, duplicates } = kept;
      if (duplicates > 0) m.duplicates.inc({ signal }, duplicates);
      if (rows.length > 0) await opts.sink.write(signal, rows, lines, warnings);
      // Remembered only now: a write that failed must stay resendable.
      if (kept.newIds.length > 0) await opts.resends!.remember(principal.projectId, kept.newIds);
      m.accepted.inc({ signal }, rows.length);
      // Counted only once durable: the audit compares this with what lands.
      if (opts.audit && rows.length > 0) await opts.audit.acknowledged(principal.projectId, signal, rows);
      // Realtime counter per project and minute (the query API's realtime overview reads it).
      void opts.kv.incr(`rt:${principal.projectId}:${signal}:${Math.floor(receivedAt / 60_000)}`, rows.length, 2 * 3_600_000).catch(() => undefined);
      ctx.status = 200;
      ctx.body = { accepted: rows.length, duplicates, rejected: batch.rejected.slice(0, 1000), warnings: warnings.length };
    };

  for (const signal of SIGNALS) router.post(`/v1/${signal}`, ingest(signal));

  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/ready', async (ctx) => {
    try {
      await opts.ready?.();
      ctx.body = { status: 'ready', sink: opts.sink.kind };
    } catch (err) {
      ctx.status = 503;
      ctx.body = { status: 'not ready', error: (err as Error).message };
    }
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = opts.metrics.contentType;
    ctx.body = await opts.metrics.metrics();
  });
  router.get('/v1/status', async (ctx) => {
    const principal = await opts.keys.verify(presentedKey(ctx.headers));
    const audit = opts.audit ? await opts.audit.result(principal.projectId).catch(() => undefined) : undefined;
    ctx.body = { project: principal.projectId, sink: opts.sink.kind, ...(opts.status ? await opts.status() : {}), ...(audit ? { audit } : {}) };
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = {
      error: {
        code: 'NOT_FOUND',
        message: `no route ${ctx.method} ${ctx.path}; ingest with POST /v1/events, /v1/metrics or /v1/logs`,
        retriable: false,
        context: {},
      },
    };
  });
  return app;
}
