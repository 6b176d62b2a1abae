import { pgOne, type ClickHouse, type Queryable } from '@tidemark/core';
import type { Pool } from 'pg';
import { z } from 'zod';
import { cached, TTL } from '../analytics/cached';
import { addDays, intParam, percent, round, timezoneParam, todayIn } from '../analytics/dates';
import { dailyEvents, todayVersusYesterday } from '../analytics/events';
import { route, type AnyRoute } from '../http/route';
import type { QueryCache } from '../query/cache';

/**
 * The efficiency dashboard of the requirements (/api/analytics-monitoring/dashboard/...):
 * today, the daily trend and the satisfaction distribution, from product
 * events (see analytics/events.ts for the conventions).
 */

const localeParam = z
  .string()
  .max(35)
  .refine((l) => {
    try {
      return Intl.DateTimeFormat.supportedLocalesOf([l]).length > 0;
    } catch {
      return false;
    }
  }, 'a BCP 47 locale such as en or zh-CN')
  .default('en')
  .describe('language of the weekday names (default en; zh-CN gives 周一)');

const n = z.number();
const nn = z.number().nullable();
const todayResponse = z.object({
  date: z.string(),
  timezone: z.string(),
  total_sessions: n,
  ai_messages: n,
  transferred: n,
  ai_resolved: n,
  avg_response_time: nn,
  ratings: n,
  avg_rating: nn,
  satisfaction_rate: nn,
  quality_pass_rate: nn,
  quality_rating: z.enum(['excellent', 'good', 'fair', 'poor']).nullable(),
  yesterday: z.object({ total_sessions: n, ai_messages: n, transferred: n, avg_response_time: nn, ratings: n, satisfaction_rate: nn }),
  changes: z.object({ sessions_percent: nn, ai_messages_percent: nn, response_time: nn, satisfaction_points: nn }),
});
const trendResponse = z.object({
  timezone: z.string(),
  start_date: z.string(),
  end_date: z.string(),
  points: z.array(
    z.object({
      date: z.string(),
      name: z.string(),
      sessions: n,
      ai_messages: n,
      transferred: n,
      avg_response_time: nn,
      ratings: n,
      avg_rating: nn,
      satisfaction_rate: nn,
    }),
  ),
});
const satisfactionResponse = z.object({
  timezone: z.string(),
  start_date: z.string(),
  end_date: z.string(),
  total_ratings: n,
  avg_rating: nn,
  satisfaction_rate: nn,
  distribution: z.array(z.object({ key: z.enum(['very_satisfied', 'satisfied', 'needs_improvement']), label: z.string(), count: n, value: n })),
  ratings: z.array(z.object({ rating: n, count: n, percent: n })),
});

/** A label for a pass rate of quality audits. */
export function qualityLabel(passRate: number | null): string | null {
  if (passRate === null) return null;
  return passRate >= 95 ? 'excellent' : passRate >= 85 ? 'good' : passRate >= 70 ? 'fair' : 'poor';
}

const avg = (sum: number, count: number): number | null => (count > 0 ? round(sum / count) : null);
const diff = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : round(a - b));
const change = (a: number, b: number): number | null => (b > 0 ? round(((a - b) / b) * 100) : null);

/** Audits passed and failed between two instants (the quality rating of the day so far); count(*) is bigint, sent as text. */
const AUDITS_BETWEEN = {
  name: 'dashboard.audits_between',
  sql: `SELECT count(*) FILTER (WHERE status = 'passed') AS passed, count(*) FILTER (WHERE status = 'failed') AS failed
        FROM quality_audits WHERE project_id = $1 AND audited_at >= $2 AND audited_at <= $3`,
  row: z.object({ passed: z.coerce.number(), failed: z.coerce.number() }),
};

/** Today so far against yesterday up to the same time, with the day's quality pass rate. */
async function todaySoFar(today: ReturnType<typeof todayVersusYesterday>, meta: Queryable, projectId: string, query: { timezone: string }) {
  const now = Date.now();
  const { counts: c, responseTimes: rt, ratings: s } = await today({ project: projectId, tz: query.timezone, now });
  const audits = await pgOne(meta, AUDITS_BETWEEN, [projectId, new Date(c.day_start), new Date(now)]);
  const passed = audits.passed;
  const decided = passed + audits.failed;
  const passRate = percent(passed, decided);
  const satisfaction = percent(s.satisfied, s.ratings);
  const satisfactionY = percent(s.satisfied_y, s.ratings_y);
  const responseTime = rt.rt === null ? null : round(rt.rt);
  const responseTimeY = rt.rt_y === null ? null : round(rt.rt_y);
  return {
    date: todayIn(query.timezone, now),
    timezone: query.timezone,
    total_sessions: c.sessions,
    ai_messages: c.messages,
    transferred: c.transfers,
    ai_resolved: Math.max(0, c.sessions - c.transfers),
    avg_response_time: responseTime,
    ratings: s.ratings,
    avg_rating: avg(s.rating_sum, s.ratings),
    satisfaction_rate: satisfaction,
    quality_pass_rate: passRate,
    quality_rating: qualityLabel(passRate),
    yesterday: {
      total_sessions: c.sessions_y,
      ai_messages: c.messages_y,
      transferred: c.transfers_y,
      avg_response_time: responseTimeY,
      ratings: s.ratings_y,
      satisfaction_rate: satisfactionY,
    },
    changes: {
      sessions_percent: change(c.sessions, c.sessions_y),
      ai_messages_percent: change(c.messages, c.messages_y),
      response_time: diff(responseTime, responseTimeY),
      satisfaction_points: diff(satisfaction, satisfactionY),
    },
  };
}

/** One point per day of the window, today included; a day without events is zeros (or null averages). */
async function dailyTrend(daily: ReturnType<typeof dailyEvents>, projectId: string, query: { days: number; timezone: string; locale: string }) {
  const end = todayIn(query.timezone);
  const start = addDays(end, -(query.days - 1));
  const args = { project: projectId, tz: query.timezone, start, end };
  const [activity, ratings] = await Promise.all([daily.activity(args), daily.ratings(args)]);
  const weekday = new Intl.DateTimeFormat(query.locale, { weekday: 'short', timeZone: 'UTC' });
  const points = Array.from({ length: query.days }, (_, i) => {
    const date = addDays(start, i);
    const a = activity.get(date);
    const r = ratings.get(date);
    return {
      date,
      name: weekday.format(new Date(`${date}T12:00:00Z`)),
      sessions: a?.sessions ?? 0,
      ai_messages: a?.messages ?? 0,
      transferred: a?.transfers ?? 0,
      avg_response_time: a ? avg(a.response_time_sum, a.response_time_count) : null,
      ratings: r?.ratings ?? 0,
      avg_rating: r ? avg(r.rating_sum, r.ratings) : null,
      satisfaction_rate: r ? percent(r.satisfied, r.ratings) : null,
    };
  });
  return { timezone: query.timezone, start_date: start, end_date: end, points };
}

/** Ratings of the window grouped as very satisfied (5), satisfied (4) and needs improvement (1-3), and per rating. */
async function satisfactionFigures(daily: ReturnType<typeof dailyEvents>, projectId: string, query: { days: number; timezone: string }) {
  const end = todayIn(query.timezone);
  const start = addDays(end, -(query.days - 1));
  const rows = await daily.ratingDistribution({ project: projectId, tz: query.timezone, start, end });
  const count = (r: number) => rows.find((x) => x.rating === r)?.count ?? 0;
  const total = rows.reduce((n, x) => n + x.count, 0);
  const sum = rows.reduce((n, x) => n + x.rating * x.count, 0);
  const groups = [
    { key: 'very_satisfied', label: 'Very satisfied', ratings: [5] },
    { key: 'satisfied', label: 'Satisfied', ratings: [4] },
    { key: 'needs_improvement', label: 'Needs improvement', ratings: [1, 2, 3] },
  ];
  return {
    timezone: query.timezone,
    start_date: start,
    end_date: end,
    total_ratings: total,
    avg_rating: avg(sum, total),
    satisfaction_rate: percent(count(4) + count(5), total),
    distribution: groups.map((g) => {
      const n = g.ratings.reduce((s, r) => s + count(r), 0);
      return { key: g.key, label: g.label, count: n, value: percent(n, total) ?? 0 };
    }),
    ratings: [1, 2, 3, 4, 5].map((r) => ({ rating: r, count: count(r), percent: percent(count(r), total) ?? 0 })),
  };
}

export function dashboardRoutes(deps: { clickhouse: ClickHouse; meta: Pool; cache: QueryCache }): AnyRoute[] {
  const base = '/api/analytics-monitoring/dashboard';
  const today = todayVersusYesterday(deps.clickhouse);
  const daily = dailyEvents(deps.clickhouse);

  return [
    route({
      method: 'get',
      path: `${base}/today`,
      summary:
        'Today so far: sessions, AI messages, transfers to humans, average response time, satisfaction, quality rating; changes against yesterday up to the same time',
      tag: 'dashboard',
      auth: 'read',
      response: todayResponse,
      query: z.object({ timezone: timezoneParam }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'dashboard.today', query, TTL.dashboard, () =>
          todaySoFar(today, deps.meta, principal.projectId, query),
        );
      },
    }),
    route({
      method: 'get',
      path: `${base}/trend`,
      summary: 'Per day of the last N days (today included): sessions, AI messages, transfers, average response time, ratings and satisfaction',
      tag: 'dashboard',
      auth: 'read',
      response: trendResponse,
      query: z.object({ days: intParam(1, 90, 7).describe('days, today included (default 7)'), timezone: timezoneParam, locale: localeParam }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'dashboard.trend', query, TTL.dashboard, () => dailyTrend(daily, principal.projectId, query));
      },
    }),
    route({
      method: 'get',
      path: `${base}/satisfaction`,
      summary: 'Customer ratings (feedback events, 1-5) of the last N days: very satisfied (5), satisfied (4), needs improvement (1-3), per rating, average',
      tag: 'dashboard',
      auth: 'read',
      response: satisfactionResponse,
      query: z.object({ days: intParam(1, 365, 30).describe('days, today included (default 30)'), timezone: timezoneParam }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'dashboard.satisfaction', query, TTL.dashboard, () =>
          satisfactionFigures(daily, principal.projectId, query),
        );
      },
    }),
  ];
}
