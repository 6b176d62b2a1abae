import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { SignalName } from '../errors';
import { parseRetryAfter } from '../retry/backoff';
import { SDK_VERSION } from '../version';
import type { QueueEntry, SendOutcome, Transport } from './types';

const gzip = promisify(zlib.gzip);

export interface HttpTransportOptions {
  /** Base URL of the collector, e.g. http://127.0.0.1:4318 (a path prefix is kept). */
  endpoint: string;
  /** Ingest key of the project. */
  apiKey: string;
  /** true (default): gzip request bodies at level 1; a number picks the level (1-9); false: uncompressed. */
  gzip?: boolean | number;
  /** Sockets kept per host; enough for every signal's concurrent requests. */
  maxSockets?: number;
  /** Extra request headers (a proxy's auth, for example). */
  headers?: Record<string, string>;
}

/** Most of an answer body read: the collector's answers are small; anything else is truncated. */
const MAX_ANSWER_BYTES = 256 * 1024;

/** Statuses worth resending the same batch for. */
function retriableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * Sends batches to the collector's HTTP API (docs/ingestion.md): POST
 * /v1/{events,metrics,logs} with an envelope {"sent_at", "batch"} so the
 * collector corrects the client's clock, gzip-compressed, over keep-alive
 * sockets (node:http, no dependency).
 */
export class HttpTransport implements Transport {
  readonly name = 'http';
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly client: typeof http | typeof https;
  private readonly level: number | undefined;
  private readonly headers: Record<string, string>;

  constructor(opts: HttpTransportOptions) {
    this.base = new URL(opts.endpoint);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new Error(`endpoint must be an http:// or https:// URL, got ${opts.endpoint}`);
    const secure = this.base.protocol === 'https:';
    this.client = secure ? https : http;
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? 8, keepAliveMsecs: 10_000 };
    this.agent = secure ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
    this.level = opts.gzip === false ? undefined : opts.gzip === true || opts.gzip === undefined ? 1 : Math.min(9, Math.max(1, Math.round(opts.gzip)));
    this.headers = {
      ...opts.headers,
      authorization: `Bearer ${opts.apiKey}`,
      'content-type': 'application/json',
      'user-agent': `tidemark-sdk-node/${SDK_VERSION}`,
      ...(this.level !== undefined ? { 'content-encoding': 'gzip' } : {}),
    };
  }

  private url(signal: SignalName): URL {
    const u = new URL(this.base.href);
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/v1/${signal}`;
    return u;
  }

  async send(signal: SignalName, batch: readonly QueueEntry[], abort: AbortSignal): Promise<SendOutcome> {
    // sent_at is the client clock at send time (per attempt): the collector corrects timestamps by it.
    let text = `{"sent_at":${Date.now()},"batch":[`;
    for (let i = 0; i < batch.length; i++) text += (i === 0 ? '' : ',') + batch[i]!.json;
    text += ']}';
    let body: Buffer;
    try {
      // zlib runs on the libuv pool: the host's event loop is not held up by compression.
      body = this.level !== undefined ? await gzip(text, { level: this.level }) : Buffer.from(text);
    } catch (err) {
      return { kind: 'fail', error: new Error(`gzip failed: ${(err as Error).message}`) };
    }
    let answer: Answer;
    try {
      answer = await this.post(this.url(signal), body, abort);
    } catch (err) {
      const e = err as Error & { code?: string };
      const reason = abort.aborted
        ? `request aborted (${abort.reason instanceof Error ? abort.reason.message : 'timeout'})`
        : `${e.code ?? e.name}: ${e.message}`;
      return { kind: 'retry', error: new Error(`POST ${this.url(signal).href}: ${reason}`, { cause: err }) };
    }
    return this.outcome(signal, answer);
  }

  private outcome(signal: SignalName, a: Answer): SendOutcome {
    if (a.status >= 200 && a.status < 300) {
      let rejected: { index: number; reason: string }[] = [];
      try {
        const parsed = JSON.parse(a.body) as { rejected?: { index: number; reason: string }[] };
        if (Array.isArray(parsed.rejected)) rejected = parsed.rejected;
      } catch {
        // A 2xx without a JSON body (a proxy) still means stored.
      }
      return { kind: 'ok', rejected };
    }
    const message = errorMessage(a.body);
    const error = new Error(`POST /v1/${signal}: ${a.status}${message ? ` ${message}` : ''}`);
    if (retriableStatus(a.status)) {
      const retryAfterMs = parseRetryAfter(a.headers['retry-after']);
      return { kind: 'retry', error, status: a.status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    }
    if (a.status === 413) return { kind: 'too_large', error, status: a.status };
    return { kind: 'fail', error, status: a.status };
  }

  private post(url: URL, body: Buffer, abort: AbortSignal): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const req = this.client.request(
        url,
        { method: 'POST', agent: this.agent, headers: { ...this.headers, 'content-length': String(body.length) }, signal: abort },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < MAX_ANSWER_BYTES) chunks.push(c);
            size += c.length;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

/** The collector's error message ({"error": {"message"}}), or the start of whatever else answered. */
function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    // not JSON
  }
  return body.slice(0, 200).trim();
}
