/**
 * The efficiency dashboard (/api/analytics-monitoring/dashboard/...) over
 * product events ingested through the collector's normalisation: today so
 * far against yesterday up to the same time, the daily trend (hourly rollups
 * in whole-hour zones, minute rollups in Asia/Kolkata), the rating
 * distribution. Expected numbers are computed here from the generated
 * events; another project's events must change nothing.
 */
import { comfortableZone, localDate, localMidnight, pct, round2, shiftDate, startApi, type ApiEnv } from './helpers';
import { DAY, rng } from './fixtures/biz';

let env: ApiEnv;
const NOW = Date.now();
const TZ = comfortableZone(NOW);
const T0 = localMidnight(NOW, TZ);
const ELAPSED = NOW - T0;
const MIN = 60_000;
const D = '/api/analytics-monitoring/dashboard';
const r = rng(7);
const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

interface Ev {
  name: string;
  timestamp: number;
  session_id: string;
  properties: Record<string, unknown>;
}
const events: Ev[] = [];
let n = 0;
function gen(count: number, from: number, to: number, name: string, props: () => Record<string, unknown> = () => ({})): void {
  for (let i = 0; i < count; i++) events.push({ name, timestamp: Math.floor(from + r() * (to - from)), session_id: `s${n++}`, properties: props() });
}
/** Ratings as sent: 1-5, plus values the dashboard must ignore (0, 7, a string). */
const rating = () => ({ rating: int(1, 5) });
function window(from: number, to: number, sizes: [number, number, number, number]): void {
  gen(sizes[0], from, to, 'session.start');
  gen(sizes[1], from, to, 'session.transfer');
  gen(sizes[2], from, to, 'message.ai', () => ({ response_time: int(100, 3000), model: 'gpt-4o' }));
  gen(sizes[3], from, to, 'feedback', rating);
}
// Today so far (5 minutes clear of now), yesterday up to the same time, yesterday after it, two and ten days ago.
window(T0, NOW - 5 * MIN, [40, 9, 60, 25]);
window(T0 - DAY, NOW - DAY - 5 * MIN, [30, 5, 50, 20]);
window(NOW - DAY + 5 * MIN, T0 - 5 * MIN, [10, 2, 4, 6]);
window(T0 - 2 * DAY, T0 - 1.2 * DAY, [20, 3, 10, 8]);
gen(12, NOW - 10.5 * DAY, NOW - 9.5 * DAY, 'feedback', rating);
for (const bad of [0, 7, '5']) events.push({ name: 'feedback', timestamp: NOW - 30 * MIN, session_id: 'bad', properties: { rating: bad } });

const today = (e: Ev) => e.timestamp >= T0 && e.timestamp <= NOW;
const yesterdaySoFar = (e: Ev) => e.timestamp >= T0 - DAY && e.timestamp <= NOW - DAY;
const valid = (e: Ev) => e.name === 'feedback' && typeof e.properties.rating === 'number' && e.properties.rating >= 1 && e.properties.rating <= 5;
const mean = (xs: number[]): number | null => (xs.length ? round2(xs.reduce((a, b) => a + b, 0) / xs.length) : null);

function figures(sel: (e: Ev) => boolean) {
  const of = (name: string) => events.filter((e) => e.name === name && sel(e));
  const ratings = events.filter((e) => valid(e) && sel(e)).map((e) => e.properties.rating as number);
  return {
    sessions: of('session.start').length,
    transfers: of('session.transfer').length,
    messages: of('message.ai').length,
    rt: mean(of('message.ai').map((e) => e.properties.response_time as number)),
    ratings,
    satisfaction: pct(ratings.filter((x) => x >= 4).length, ratings.length),
  };
}

beforeAll(async () => {
  env = await startApi();
  await env.ingest(env.stack.project, events);
  // The other project, at the same times: none of it may show.
  await env.ingest(env.other.project, [
    ...Array.from({ length: 50 }, (_, i) => ({ name: 'session.start', timestamp: T0 + 1000 * i, session_id: `x${i}` })),
    ...Array.from({ length: 30 }, (_, i) => ({ name: 'message.ai', timestamp: T0 + 1000 * i, properties: { response_time: 99_999 } })),
    ...Array.from({ length: 50 }, (_, i) => ({ name: 'feedback', timestamp: T0 - DAY + 1000 * i, properties: { rating: 1 } })),
  ]);
  // Quality audits of today: 3 passed, 1 failed (75 % → "fair"); the other project's don't count.
  for (const score of [90, 95, 85])
    expect((await env.call('POST', '/api/analytics-monitoring/quality/records', env.stack.keys.ingest, { session_id: 'q', score })).status).toBe(201);
  await env.call('POST', '/api/analytics-monitoring/quality/records', env.stack.keys.ingest, { session_id: 'q', score: 40, status: 'failed' });
  for (let i = 0; i < 5; i++)
    await env.call('POST', '/api/analytics-monitoring/quality/records', env.other.ingest, { session_id: 'q', score: 10, status: 'failed' });
}, 120_000);

afterAll(async () => {
  await env?.close();
});

test('today so far against yesterday up to the same time of day', async () => {
  const res = await env.get(`${D}/today?timezone=${encodeURIComponent(TZ)}`);
  expect(res.status).toBe(200);
  const t = figures(today);
  const y = figures(yesterdaySoFar);
  expect(res.json).toEqual({
    date: localDate(NOW, TZ),
    timezone: TZ,
    total_sessions: t.sessions,
    ai_messages: t.messages,
    transferred: t.transfers,
    ai_resolved: t.sessions - t.transfers,
    avg_response_time: t.rt,
    ratings: t.ratings.length,
    avg_rating: mean(t.ratings),
    satisfaction_rate: t.satisfaction,
    quality_pass_rate: 75,
    quality_rating: 'fair',
    yesterday: {
      total_sessions: y.sessions,
      ai_messages: y.messages,
      transferred: y.transfers,
      avg_response_time: y.rt,
      ratings: y.ratings.length,
      satisfaction_rate: y.satisfaction,
    },
    changes: {
      sessions_percent: round2(((t.sessions - y.sessions) / y.sessions) * 100),
      ai_messages_percent: round2(((t.messages - y.messages) / y.messages) * 100),
      response_time: round2(t.rt! - y.rt!),
      satisfaction_points: round2(t.satisfaction! - y.satisfaction!),
    },
  });
  expect(ELAPSED).toBeGreaterThan(3_600_000);
});

test.each([TZ, 'Asia/Kolkata'])('daily trend in %s, with weekday names in the locale', async (zone) => {
  const res = await env.get(`${D}/trend?days=3&timezone=${encodeURIComponent(zone)}&locale=zh-CN`);
  expect(res.status).toBe(200);
  const end = localDate(Date.now(), zone);
  const dates = [shiftDate(end, -2), shiftDate(end, -1), end];
  expect(res.json.points.map((p: { date: string }) => p.date)).toEqual(dates);
  for (const p of res.json.points) {
    const f = figures((e) => localDate(e.timestamp, zone) === p.date);
    expect(p).toEqual({
      date: p.date,
      name: new Intl.DateTimeFormat('zh-CN', { weekday: 'short', timeZone: 'UTC' }).format(new Date(`${p.date}T12:00:00Z`)),
      sessions: f.sessions,
      ai_messages: f.messages,
      transferred: f.transfers,
      avg_response_time: f.rt,
      ratings: f.ratings.length,
      avg_rating: mean(f.ratings),
      satisfaction_rate: f.satisfaction,
    });
    expect(p.name).toMatch(/^周/);
  }
  expect(res.json.points.reduce((s: number, p: { sessions: number }) => s + p.sessions, 0)).toBeGreaterThan(0);
});

test('satisfaction distribution of the last 30 days; bad ratings ignored', async () => {
  const res = await env.get(`${D}/satisfaction?days=30&timezone=${encodeURIComponent(TZ)}`);
  expect(res.status).toBe(200);
  const ratings = events.filter(valid).map((e) => e.properties.rating as number);
  const count = (k: number) => ratings.filter((x) => x === k).length;
  const total = ratings.length;
  expect(res.json).toMatchObject({ total_ratings: total, avg_rating: mean(ratings), satisfaction_rate: pct(count(4) + count(5), total) });
  expect(res.json.distribution).toEqual([
    { key: 'very_satisfied', label: 'Very satisfied', count: count(5), value: pct(count(5), total) },
    { key: 'satisfied', label: 'Satisfied', count: count(4), value: pct(count(4), total) },
    { key: 'needs_improvement', label: 'Needs improvement', count: count(1) + count(2) + count(3), value: pct(count(1) + count(2) + count(3), total) },
  ]);
  expect(res.json.ratings).toEqual([1, 2, 3, 4, 5].map((k) => ({ rating: k, count: count(k), percent: pct(count(k), total) })));
  // The last 7 days leave out the ratings of ten days ago.
  const week = await env.get(`${D}/satisfaction?days=7&timezone=${encodeURIComponent(TZ)}`);
  expect(week.json.total_ratings).toBe(total - 12);
});

test('bad input names the field', async () => {
  const days = await env.get(`${D}/trend?days=0`);
  expect(days.status).toBe(400);
  expect(days.json.error.context.issues[0].path).toBe('query.days');
  const locale = await env.get(`${D}/trend?locale=${encodeURIComponent('not a locale!')}`);
  expect(locale.status).toBe(400);
  expect(locale.json.error.message).toMatch(/query\.locale/);
});
