/**
 * The demo's generator and configuration (src/demo): what it sends must
 * follow the conventions the dashboard and the demo rules read, at rates a
 * laptop keeps up with. A seeded random source makes the figures exact.
 */
import type { TidemarkClient } from '@tidemark/sdk';
import { loadPlatformConfig } from '../src/config';
import { DEMO_RULES, demoConfig } from '../src/demo';
import { backfill, dailyRhythm, DEMO_RATES, DEMO_ROUTES, DemoTraffic, requestsOfSecond, sessionEvents, slowdown, type DemoRequest } from '../src/demo/traffic';

/** mulberry32: a small seeded PRNG. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Records what a TidemarkClient would be asked to send. */
function fakeClient() {
  const sent = {
    events: [] as { name: string; props: Record<string, unknown>; opts: Record<string, unknown> }[],
    samples: [] as { name: string; value: number; opts: Record<string, unknown> }[],
    logs: [] as { level: string; message: string }[],
    flushes: 0,
  };
  const client = {
    track: (name: string, props: Record<string, unknown>, opts: Record<string, unknown>) => void sent.events.push({ name, props, opts }),
    counter: (name: string) => ({ inc: (labels: Record<string, string>) => void sent.samples.push({ name, value: 1, opts: { labels } }) }),
    histogram: (name: string) => ({ observe: (labels: Record<string, string>, value: number) => void sent.samples.push({ name, value, opts: { labels } }) }),
    metric: (name: string, value: number, opts: Record<string, unknown>) => void sent.samples.push({ name, value, opts }),
    log: (level: string, message: string) => void sent.logs.push({ level, message }),
    flush: async () => {
      sent.flushes++;
      return true;
    },
  };
  return { client: client as unknown as TidemarkClient, sent };
}

test('a session is ordered, starts and ends, and carries the properties the dashboard reads', () => {
  const r = seeded(1);
  for (let i = 0; i < 50; i++) {
    const events = sessionEvents(1_700_000_000_000, r);
    expect(events[0]!.name).toBe('session.start');
    expect(events[events.length - 1]!.name).toBe('session.end');
    expect(events.map((e) => e.at)).toEqual([...events.map((e) => e.at)].sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.sessionId)).size).toBe(1);
    for (const e of events) {
      if (e.name === 'message.ai') expect(e.properties.response_time).toEqual(expect.any(Number));
      if (e.name === 'llm.usage')
        expect(e.properties).toMatchObject({ model: expect.any(String), prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
      if (e.name === 'feedback') expect([1, 2, 3, 4, 5]).toContain(e.properties.rating);
      expect(['web', 'ios', 'android', 'wechat']).toContain(e.context.channel);
    }
    expect(events.filter((e) => e.name === 'session.transfer').length).toBeLessThanOrEqual(1);
  }
});

test('requests: payments fail far above the 5% the rule fires at, the rest rarely; checkout slows down 4 minutes in 20', () => {
  const r = seeded(2);
  const all: DemoRequest[] = [];
  // An hour of the busiest time of day, at full rate.
  const noon = new Date(2026, 0, 5, 14, 0, 0).getTime();
  for (let s = 0; s < 3600; s++) all.push(...requestsOfSecond(noon + s * 1000, r));
  const share = (service: string) => {
    const of = all.filter((q) => q.service === service);
    return of.filter((q) => q.status >= 500).length / of.length;
  };
  expect(share('payments')).toBeGreaterThan(0.12);
  expect(share('payments')).toBeLessThan(0.22);
  expect(share('shop-api')).toBeLessThan(0.02);
  expect(all.every((q) => DEMO_ROUTES.some((d) => d.route === q.route && d.service === q.service))).toBe(true);
  const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;
  const checkout = all.filter((q) => q.route === '/api/checkout' && q.status < 500);
  const slow = checkout.filter((q) => slowdown(q.at)).map((q) => q.durationMs);
  const normal = checkout.filter((q) => !slowdown(q.at)).map((q) => q.durationMs);
  expect(p95(normal)).toBeLessThan(1000); // DemoCheckoutLatency's WARNING threshold
  expect(p95(slow)).toBeGreaterThan(1000);
  expect(slowdown(Date.UTC(2026, 0, 1, 0, 3))).toBe(true);
  expect(slowdown(Date.UTC(2026, 0, 1, 0, 4))).toBe(false);
});

test('the daily rhythm stays between a quarter and the full rate', () => {
  const day = new Date(2026, 0, 5).getTime();
  const values = Array.from({ length: 96 }, (_, i) => dailyRhythm(day + i * 900_000));
  expect(Math.min(...values)).toBeCloseTo(0.25, 2);
  expect(Math.max(...values)).toBeGreaterThan(0.95);
});

test('live traffic: events only when due, request counters and durations, agent gauges, a trickle', () => {
  const { client, sent } = fakeClient();
  const traffic = new DemoTraffic(client, { rand: seeded(3) });
  const t0 = new Date(2026, 0, 5, 15, 0, 0).getTime();
  for (let s = 0; s < 600; s++) traffic.tick(t0 + s * 1000);
  expect(sent.events.every((e) => (e.opts.timestamp as number) <= t0 + 599_000)).toBe(true);
  const perSecond = sent.events.length / 600;
  // About 9 events per session at DEMO_RATES.sessionsPerSecond near the peak (minus the sessions still open).
  expect(perSecond).toBeGreaterThan(0.3);
  expect(perSecond).toBeLessThan(3);
  const durations = sent.samples.filter((x) => x.name === 'http_request_duration_ms');
  expect(durations.length / 600).toBeGreaterThan(1);
  expect(durations.length / 600).toBeLessThan(DEMO_ROUTES.reduce((n, d) => n + d.rate, 0) * DEMO_RATES.requestScale * 1.3);
  expect(sent.samples.filter((x) => x.name === 'http_requests_total')).toHaveLength(durations.length);
  expect(sent.samples.filter((x) => x.name === 'agents_online')).toHaveLength(40);
  expect(sent.logs.filter((l) => l.level === 'error').every((l) => /failed/.test(l.message))).toBe(true);
  traffic.stop();
});

test('history: two days of sessions and two hours of requests, flushed slice by slice, never in the future', async () => {
  const { client, sent } = fakeClient();
  const until = new Date(2026, 0, 5, 15, 0, 0).getTime();
  const done = await backfill(client, { until, rand: seeded(4) });
  expect(done.events).toBe(sent.events.length);
  expect(sent.flushes).toBe(8);
  const times = sent.events.map((e) => e.opts.timestamp as number);
  expect(Math.min(...times)).toBeGreaterThanOrEqual(until - 2 * 86_400_000);
  expect(Math.max(...times)).toBeLessThan(until);
  // History is marked, so the live figures (events/s, 15-minute delivery p95) leave it out.
  expect(sent.events.every((e) => e.props.backfill === true)).toBe(true);
  const reqTimes = sent.samples.filter((x) => x.name === 'http_request_duration_ms').map((x) => x.opts.timestamp as number);
  expect(reqTimes.length).toBe(done.requests);
  expect(Math.min(...reqTimes)).toBeGreaterThanOrEqual(until - 2 * 3_600_000);
  // Sized for a laptop: tens of thousands of events, not millions.
  expect(done.events).toBeGreaterThan(10_000);
  expect(done.events).toBeLessThan(300_000);
});

test('demo configuration: the ETL demo source, and health checks of the platform itself on fixed ports only', () => {
  const base = { CLICKHOUSE_URL: '', META_DATABASE_URL: '', KAFKA_BROKERS: '', REDIS_URL: '', MONITOR_HEALTHCHECK_TARGETS: '' };
  const off = loadPlatformConfig({ ...base });
  expect(demoConfig(off)).toBe(off);
  const on = demoConfig(loadPlatformConfig({ ...base, TIDEMARK_DEMO: 'true', API_PORT: '4000', COLLECTOR_PORT: '4318' }));
  expect(on.ETL_DEMO).toBe(true);
  expect(on.MONITOR_HEALTHCHECK_TARGETS).toBe(
    'collector=http://127.0.0.1:4318/health,api=http://127.0.0.1:4000/health,clickhouse=http://127.0.0.1:8123/ping,postgres=tcp://127.0.0.1:5433',
  );
  const anyPort = demoConfig(
    loadPlatformConfig({ ...base, TIDEMARK_DEMO: 'true', API_PORT: '0', COLLECTOR_PORT: '0', EMBEDDED_CLICKHOUSE_PORT: '0', EMBEDDED_POSTGRES_PORT: '0' }),
  );
  expect(anyPort.MONITOR_HEALTHCHECK_TARGETS).toBe('');
  const configured = demoConfig(loadPlatformConfig({ ...base, TIDEMARK_DEMO: 'true', MONITOR_HEALTHCHECK_TARGETS: 'shop=http://shop/health' }));
  expect(configured.MONITOR_HEALTHCHECK_TARGETS).toBe('shop=http://shop/health');
  expect(DEMO_RULES.map((r) => r.name)).toEqual(['DemoPaymentErrors', 'DemoCheckoutLatency']);
});
