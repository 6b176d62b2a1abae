/**
 * The demo traffic generator: what a small online shop with a support chat
 * bot would send to Tidemark, through the SDK like any application.
 *
 * - Product events: sessions (session.start ... session.end) with page
 *   views, chat messages answered by the AI (message.ai with response_time
 *   and tokens, llm.usage), hand-overs to people (session.transfer),
 *   ratings (feedback), sign-ups and checkouts, on a few channels, OSes and
 *   app versions, from a pool of users.
 * - Service metrics as the SDK middleware records them: http_requests_total
 *   and http_request_duration_ms per service, route, method and status, and
 *   the agents_online / agents_total gauges of the realtime overview.
 * - Log lines: a "request completed" line per request (a sample of the
 *   successful ones), warnings for 4xx, errors for 5xx.
 *
 * The shape is steady with a daily rhythm, payments fail about 17% of the
 * time (the DemoPaymentErrors rule fires on that, far enough above its 5%
 * that a quiet night's few requests do not let it resolve), and checkout slows down
 * for 4 minutes of every 20 (DemoCheckoutLatency goes pending and fires).
 * `backfill` writes the same kind of data into the past so that charts over
 * days have history on the first start.
 */
import crypto from 'node:crypto';
import type { Counter, Histogram, TidemarkClient } from '@tidemark/sdk';

type Rand = () => number;

const CHANNELS = [
  { channel: 'web', os: ['macOS', 'Windows', 'Linux'], weight: 5 },
  { channel: 'ios', os: ['iOS'], weight: 3 },
  { channel: 'android', os: ['Android'], weight: 3 },
  { channel: 'wechat', os: ['iOS', 'Android'], weight: 2 },
];
const VERSIONS = [
  { v: '1.6.0', weight: 6 },
  { v: '1.5.2', weight: 3 },
  { v: '1.4.9', weight: 1 },
];
const PAGES = ['/', '/products', '/products/:id', '/cart', '/checkout', '/help', '/account'];
const MODELS = [
  { model: 'gpt-4o-mini-2024-07-18', weight: 6 },
  { model: 'gpt-4o-2024-08-06', weight: 2 },
  { model: 'deepseek-chat', weight: 2 },
];

interface RouteDef {
  service: string;
  method: string;
  route: string;
  /** Requests per second at the daily peak. */
  rate: number;
  /** Median latency in ms. */
  median: number;
  /** Share answered with 5xx. */
  errors: number;
  /** Share answered with 4xx. */
  clientErrors: number;
  /** Slower during the periodic slowdown. */
  slows?: boolean;
}

export const DEMO_ROUTES: RouteDef[] = [
  { service: 'shop-api', method: 'GET', route: '/api/products', rate: 4, median: 45, errors: 0.002, clientErrors: 0.01 },
  { service: 'shop-api', method: 'GET', route: '/api/products/:id', rate: 3, median: 30, errors: 0.002, clientErrors: 0.03 },
  { service: 'shop-api', method: 'POST', route: '/api/cart', rate: 1.5, median: 60, errors: 0.004, clientErrors: 0.02 },
  { service: 'shop-api', method: 'POST', route: '/api/checkout', rate: 1.6, median: 320, errors: 0.01, clientErrors: 0.02, slows: true },
  { service: 'payments', method: 'POST', route: '/api/v1/payments', rate: 2, median: 240, errors: 0.2, clientErrors: 0.02 },
  { service: 'payments', method: 'GET', route: '/api/v1/payments/:id', rate: 1.5, median: 25, errors: 0.14, clientErrors: 0.01 },
  { service: 'chat-api', method: 'POST', route: '/api/chat/messages', rate: 1.2, median: 850, errors: 0.005, clientErrors: 0.005 },
];

const PAYMENT_ERRORS = ['upstream timeout from the card processor', 'card processor answered 502', 'idempotency conflict'];

function weighted<T extends { weight: number }>(items: T[], r: Rand): T {
  const total = items.reduce((n, i) => n + i.weight, 0);
  let x = r() * total;
  for (const i of items) {
    x -= i.weight;
    if (x <= 0) return i;
  }
  return items[items.length - 1]!;
}

/** Log-normal around a median (a long right tail, like real latencies). */
function lognormal(median: number, sigma: number, r: Rand): number {
  return median * Math.exp(sigma * gaussian(r));
}

function gaussian(r: Rand): number {
  const u = Math.max(r(), 1e-9);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

function poisson(mean: number, r: Rand): number {
  if (mean <= 0) return 0;
  // Large means: the normal approximation (Knuth's loop would take `mean` steps).
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(r)));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= r();
  } while (p > l);
  return k - 1;
}

/** Traffic through the day: quiet at night, busiest in the afternoon (0.25 to 1). */
export function dailyRhythm(at: number): number {
  const hour = new Date(at).getHours() + new Date(at).getMinutes() / 60;
  return 0.25 + 0.75 * Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI)) ** 1.3;
}

/** Checkout is slow for 4 minutes of every 20 (the latency rule's pending → firing → resolved). */
export function slowdown(at: number): boolean {
  return Math.floor(at / 60_000) % 20 < 4;
}

export interface DemoEvent {
  name: string;
  at: number;
  properties: Record<string, unknown>;
  distinctId: string;
  sessionId: string;
  context: { product: string; channel: string; os: string; app_version: string };
}

/** One visit: its events over the next minutes, in order. */
export function sessionEvents(start: number, r: Rand, users = 600): DemoEvent[] {
  const ch = weighted(CHANNELS, r);
  const context = {
    product: r() < 0.7 ? 'shop' : 'support-bot',
    channel: ch.channel,
    os: ch.os[Math.floor(r() * ch.os.length)]!,
    app_version: weighted(VERSIONS, r).v,
  };
  const distinctId = `user-${Math.floor(r() ** 1.4 * users) + 1}`;
  const sessionId = crypto.randomUUID();
  const out: DemoEvent[] = [];
  let t = start;
  const add = (name: string, properties: Record<string, unknown> = {}, gapMs = 0): void => {
    t += gapMs;
    out.push({ name, at: Math.round(t), properties, distinctId, sessionId, context });
  };
  add('session.start');
  const views = 1 + poisson(3, r);
  for (let i = 0; i < views; i++)
    add('page_view', { path: PAGES[Math.floor(r() * PAGES.length)], duration_ms: Math.round(lognormal(9000, 0.8, r)) }, lognormal(8000, 0.6, r));
  if (context.product === 'support-bot' || r() < 0.3) {
    const turns = 1 + poisson(2, r);
    for (let i = 0; i < turns; i++) {
      add('message.user', { length: Math.round(lognormal(60, 0.6, r)) }, lognormal(12_000, 0.5, r));
      const model = weighted(MODELS, r).model;
      const prompt = Math.round(lognormal(700, 0.4, r));
      const completion = Math.round(lognormal(160, 0.5, r));
      add('llm.usage', { model, prompt_tokens: prompt, completion_tokens: completion }, lognormal(600, 0.4, r));
      add('message.ai', { response_time: Math.round(lognormal(900, 0.45, r)), model }, 50);
    }
    if (r() < 0.18) add('session.transfer', { reason: r() < 0.5 ? 'asked for a person' : 'low confidence' }, 3000);
    if (r() < 0.45) add('feedback', { rating: r() < 0.62 ? 5 : r() < 0.6 ? 4 : 1 + Math.floor(r() * 3) }, 5000);
  }
  if (r() < 0.04) add('signup', { plan: r() < 0.2 ? 'pro' : 'free' }, lognormal(20_000, 0.4, r));
  if (context.product === 'shop' && r() < 0.22)
    add('checkout.completed', { amount: Math.round(lognormal(68, 0.7, r) * 100) / 100, items: 1 + poisson(1.2, r) }, lognormal(30_000, 0.5, r));
  add('session.end', { duration_ms: Math.round(t - start) }, lognormal(10_000, 0.5, r));
  return out;
}

export interface DemoRequest {
  service: string;
  method: string;
  route: string;
  status: number;
  durationMs: number;
  at: number;
}

/** The requests of one second at `at` (a fraction of the peak rate with `scale`). */
export function requestsOfSecond(at: number, r: Rand, scale = 1): DemoRequest[] {
  const out: DemoRequest[] = [];
  const rhythm = dailyRhythm(at) * scale;
  const slow = slowdown(at);
  for (const d of DEMO_ROUTES) {
    const n = poisson(d.rate * rhythm, r);
    for (let i = 0; i < n; i++) {
      const x = r();
      const status =
        x < d.errors
          ? r() < 0.7
            ? 500
            : 502
          : x < d.errors + d.clientErrors
            ? r() < 0.6
              ? 404
              : 422
            : d.method === 'POST' && d.route !== '/api/cart'
              ? 201
              : 200;
      const durationMs = Math.max(1, Math.round(lognormal(d.median * (d.slows && slow ? 3.2 : 1) * (status >= 500 ? 2.5 : 1), 0.45, r)));
      out.push({ ...d, status, durationMs, at: at + Math.floor(r() * 1000) });
    }
  }
  return out;
}

/** Sends the generated data through an SDK client. */
export class DemoEmitter {
  private readonly requests: Counter;
  private readonly durations: Histogram;

  /**
   * `backfill`: the events are history written now (the first start's two days). They carry the property
   * `backfill: true`, the convention the live figures use to leave replayed history out (docs/api.md).
   */
  constructor(
    private readonly client: TidemarkClient,
    private readonly opts: { backfill?: boolean } = {},
  ) {
    this.requests = client.counter('http_requests_total');
    this.durations = client.histogram('http_request_duration_ms');
  }

  event(e: DemoEvent): void {
    const properties = this.opts.backfill ? { ...e.properties, backfill: true } : e.properties;
    this.client.track(e.name, properties, { distinctId: e.distinctId, sessionId: e.sessionId, timestamp: e.at, context: e.context });
  }

  /** A live request: the counter and histogram (the SDK stamps them), and its log line. */
  request(q: DemoRequest, r: Rand): void {
    const labels = { service: q.service, method: q.method, route: q.route, status: String(q.status) };
    this.requests.inc(labels);
    this.durations.observe(labels, q.durationMs);
    this.log(q, r);
  }

  /** A past request: its duration sample with its own time (counters only go forward, so none for the past). */
  pastRequest(q: DemoRequest, r: Rand): void {
    this.client.metric('http_request_duration_ms', q.durationMs, {
      type: 'histogram',
      labels: { service: q.service, method: q.method, route: q.route, status: String(q.status) },
      timestamp: q.at,
    });
    if (q.status >= 500) this.log(q, r);
  }

  private log(q: DemoRequest, r: Rand): void {
    const attributes = {
      method: q.method,
      route: q.route,
      path: q.route.replace(':id', String(1000 + Math.floor(r() * 9000))),
      status_code: q.status,
      duration_ms: q.durationMs,
      request_id: crypto.randomUUID(),
    };
    if (q.status >= 500) {
      const message = q.service === 'payments' ? `payment failed: ${PAYMENT_ERRORS[Math.floor(r() * PAYMENT_ERRORS.length)]}` : 'request failed';
      this.client.log('error', message, attributes, { service: q.service, timestamp: q.at });
    } else if (q.status >= 400) this.client.log('warn', 'request completed', attributes, { service: q.service, timestamp: q.at });
    else if (r() < 0.25) this.client.log('info', 'request completed', attributes, { service: q.service, timestamp: q.at });
  }

  agents(at: number): void {
    const online = Math.round(4 + 8 * dailyRhythm(at));
    this.client.metric('agents_online', online, { type: 'gauge', timestamp: at });
    this.client.metric('agents_total', 12, { type: 'gauge', timestamp: at });
  }
}

/** Rates of the demo: sessions per second and the share of DEMO_ROUTES' request rates, at the daily peak. */
export const DEMO_RATES = { sessionsPerSecond: 0.12, requestScale: 0.25 };

/**
 * Live traffic: once a second, new sessions start (their events are sent
 * when their time comes), the second's requests are recorded, and every
 * 15 s the agents gauges. The timer is unref'd: it never keeps the process up.
 */
export class DemoTraffic {
  private timer: NodeJS.Timeout | null = null;
  private pending: DemoEvent[] = [];
  private seconds = 0;
  private readonly emitter: DemoEmitter;

  constructor(
    client: TidemarkClient,
    private readonly opts: { rand?: Rand } = {},
  ) {
    this.emitter = new DemoEmitter(client);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(Date.now()), 1000);
    this.timer.unref();
    this.tick(Date.now());
  }

  tick(now: number): void {
    const r = this.opts.rand ?? Math.random;
    const starts = poisson(DEMO_RATES.sessionsPerSecond * dailyRhythm(now), r);
    for (let i = 0; i < starts; i++) this.pending.push(...sessionEvents(now + Math.floor(r() * 1000), r));
    this.pending.sort((a, b) => a.at - b.at);
    let due = 0;
    while (due < this.pending.length && this.pending[due]!.at <= now) due++;
    for (const e of this.pending.splice(0, due)) this.emitter.event(e);
    for (const q of requestsOfSecond(now - 1000, r, DEMO_RATES.requestScale)) this.emitter.request(q, r);
    if (this.seconds++ % 15 === 0) this.emitter.agents(now);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * History for a first start, at the live rates so charts join up: sessions
 * over the past `days` days and requests over the past `requestHours`
 * hours, up to `until` (where live traffic takes over). Sent in slices of
 * six hours, each flushed before the next is made, so memory stays small.
 */
export async function backfill(
  client: TidemarkClient,
  opts: { until: number; days?: number; requestHours?: number; rand?: Rand; signal?: AbortSignal },
): Promise<{ events: number; requests: number }> {
  const r = opts.rand ?? Math.random;
  const emitter = new DemoEmitter(client, { backfill: true });
  const sliceMs = 6 * 3_600_000;
  const start = opts.until - (opts.days ?? 2) * 86_400_000;
  const requestsFrom = opts.until - (opts.requestHours ?? 2) * 3_600_000;
  let events = 0;
  let requests = 0;
  for (let from = start; from < opts.until && !opts.signal?.aborted; from += sliceMs) {
    const to = Math.min(opts.until, from + sliceMs);
    // Sessions are started minute by minute: the same process as the live generator, sped up.
    for (let m = from; m < to; m += 60_000) {
      const n = poisson(DEMO_RATES.sessionsPerSecond * 60 * dailyRhythm(m), r);
      for (let i = 0; i < n; i++) {
        for (const e of sessionEvents(m + Math.floor(r() * 60_000), r)) {
          if (e.at >= opts.until) continue;
          emitter.event(e);
          events++;
        }
      }
    }
    for (let t = Math.max(from, requestsFrom); t < to; t += 1000) {
      for (const q of requestsOfSecond(t, r, DEMO_RATES.requestScale)) {
        emitter.pastRequest(q, r);
        requests++;
      }
      if (t % 15_000 < 1000) emitter.agents(t);
    }
    await client.flush({ timeoutMs: 60_000 });
  }
  return { events, requests };
}
