import type { ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import { tzOffsetMs } from '../query/timeseries';

/**
 * The product-event conventions the dashboard and AI analytics read
 * (docs/api.md, "Event conventions"):
 *
 *   session.start      one per conversation (sessions)
 *   session.transfer   the conversation was handed to a human agent (at most one per session)
 *   message.ai         an AI answer; measure response_time (ms), optional token counts
 *   llm.usage          a model call; properties model, prompt_tokens, completion_tokens
 *   feedback           a customer's rating: property rating, 1-5
 *   tidemark.install.heartbeat  an installation is alive: install_id, os, version
 */
export const EVENTS = {
  sessionStart: 'session.start',
  transfer: 'session.transfer',
  aiMessage: 'message.ai',
  llmUsage: 'llm.usage',
  feedback: 'feedback',
  heartbeat: 'tidemark.install.heartbeat',
} as const;

const num = z.coerce.number();
const maybeNum = z.union([z.number(), z.string(), z.null()]).transform((v) => (v === null || v === '' || !Number.isFinite(Number(v)) ? null : Number(v)));

/**
 * Whether the hourly rollups can be grouped into days of the zone: its UTC
 * offset is a whole number of hours at both ends of the range (else the
 * minute rollups are read).
 */
export function hourlyFits(tz: string, start: string, end: string): boolean {
  return [start, end].every((d) => tzOffsetMs(tz, Date.parse(`${d}T12:00:00Z`)) % 3_600_000 === 0);
}

const DAY_RANGE = `bucket >= toDateTime({start:Date}, {tz:String}) AND bucket < toDateTime(addDays({end:Date}, 1), {tz:String})`;
const RAW_RANGE = `timestamp >= toDateTime({start:Date}, {tz:String}) AND timestamp < toDateTime(addDays({end:Date}, 1), {tz:String})`;
const dayParams = z.object({ project: z.string(), tz: z.string(), start: z.string(), end: z.string() });
export type DayArgs = z.input<typeof dayParams>;

export interface DailyActivity {
  day: string;
  sessions: number;
  transfers: number;
  messages: number;
  response_time_sum: number;
  response_time_count: number;
}

export interface DailyRatings {
  day: string;
  ratings: number;
  rating_sum: number;
  satisfied: number;
}

/** Per-day counts of the conversation events, response times and ratings, in the zone. */
export function dailyEvents(ch: ClickHouse) {
  const counts = (g: '1h' | '1m') =>
    ch.query({
      name: `analytics.events.daily.${g}`,
      sql: `SELECT toString(toDate(bucket, {tz:String})) AS day,
                   sumIf(events, name = '${EVENTS.sessionStart}') AS sessions,
                   sumIf(events, name = '${EVENTS.transfer}') AS transfers,
                   sumIf(events, name = '${EVENTS.aiMessage}') AS messages
            FROM events_${g}_v1
            WHERE project_id = {project:String} AND name IN ('${EVENTS.sessionStart}', '${EVENTS.transfer}', '${EVENTS.aiMessage}') AND ${DAY_RANGE}
            GROUP BY day`,
      params: dayParams,
      row: z.object({ day: z.string(), sessions: num, transfers: num, messages: num }),
    });
  const responses = (g: '1h' | '1m') =>
    ch.query({
      name: `analytics.events.response_time.${g}`,
      sql: `SELECT toString(toDate(bucket, {tz:String})) AS day, sum(sum) AS rt_sum, sum(count) AS rt_count
            FROM event_measures_${g}_v1
            WHERE project_id = {project:String} AND name = '${EVENTS.aiMessage}' AND measure = 'response_time' AND ${DAY_RANGE}
            GROUP BY day`,
      params: dayParams,
      row: z.object({ day: z.string(), rt_sum: num, rt_count: num }),
    });
  const q = { '1h': { counts: counts('1h'), responses: responses('1h') }, '1m': { counts: counts('1m'), responses: responses('1m') } };
  const ratings = ch.query({
    name: 'analytics.events.ratings',
    sql: `SELECT toString(toDate(timestamp, {tz:String})) AS day, count() AS ratings, sum(r) AS rating_sum, countIf(r >= 4) AS satisfied
          FROM (SELECT timestamp, round(measures['rating']) AS r FROM events_raw_v1
                WHERE project_id = {project:String} AND name = '${EVENTS.feedback}' AND mapContains(measures, 'rating') AND ${RAW_RANGE})
          WHERE r BETWEEN 1 AND 5
          GROUP BY day`,
    params: dayParams,
    row: z.object({ day: z.string(), ratings: num, rating_sum: num, satisfied: num }),
  });
  const ratingDistribution = ch.query({
    name: 'analytics.events.rating_distribution',
    sql: `SELECT toUInt8(r) AS rating, count() AS count
          FROM (SELECT round(measures['rating']) AS r FROM events_raw_v1
                WHERE project_id = {project:String} AND name = '${EVENTS.feedback}' AND mapContains(measures, 'rating') AND ${RAW_RANGE})
          WHERE r BETWEEN 1 AND 5
          GROUP BY rating ORDER BY rating`,
    params: dayParams,
    row: z.object({ rating: num, count: num }),
  });
  return {
    async activity(args: DayArgs): Promise<Map<string, DailyActivity>> {
      const g = hourlyFits(args.tz, args.start, args.end) ? '1h' : '1m';
      const [c, r] = await Promise.all([q[g].counts(args), q[g].responses(args)]);
      const out = new Map<string, DailyActivity>();
      const get = (day: string): DailyActivity => {
        let e = out.get(day);
        if (!e) out.set(day, (e = { day, sessions: 0, transfers: 0, messages: 0, response_time_sum: 0, response_time_count: 0 }));
        return e;
      };
      for (const x of c) Object.assign(get(x.day), { sessions: x.sessions, transfers: x.transfers, messages: x.messages });
      for (const x of r) Object.assign(get(x.day), { response_time_sum: x.rt_sum, response_time_count: x.rt_count });
      return out;
    },
    async ratings(args: DayArgs): Promise<Map<string, DailyRatings>> {
      return new Map((await ratings(args)).map((x) => [x.day, x]));
    },
    ratingDistribution: (args: DayArgs) => ratingDistribution(args),
  };
}

/** Today so far against yesterday up to the same time of day, in the zone: one row of sums. */
export function todayVersusYesterday(ch: ClickHouse) {
  const params = z.object({ project: z.string(), tz: z.string(), now: z.number().int() });
  const window = `WITH fromUnixTimestamp64Milli({now:Int64}) AS n, toStartOfDay(n, {tz:String}) AS t0, toStartOfDay(n - INTERVAL 1 DAY, {tz:String}) AS y0`;
  const counts = ch.query({
    name: 'analytics.events.today',
    sql: `${window}
          SELECT toUnixTimestamp(t0) * 1000 AS day_start,
                 sumIf(events, name = '${EVENTS.sessionStart}' AND bucket >= t0) AS sessions,
                 sumIf(events, name = '${EVENTS.sessionStart}' AND bucket < t0 AND bucket <= n - INTERVAL 1 DAY) AS sessions_y,
                 sumIf(events, name = '${EVENTS.transfer}' AND bucket >= t0) AS transfers,
                 sumIf(events, name = '${EVENTS.transfer}' AND bucket < t0 AND bucket <= n - INTERVAL 1 DAY) AS transfers_y,
                 sumIf(events, name = '${EVENTS.aiMessage}' AND bucket >= t0) AS messages,
                 sumIf(events, name = '${EVENTS.aiMessage}' AND bucket < t0 AND bucket <= n - INTERVAL 1 DAY) AS messages_y
          FROM events_1m_v1
          WHERE project_id = {project:String} AND name IN ('${EVENTS.sessionStart}', '${EVENTS.transfer}', '${EVENTS.aiMessage}') AND bucket >= y0 AND bucket <= n`,
    params,
    row: z.object({ day_start: num, sessions: num, sessions_y: num, transfers: num, transfers_y: num, messages: num, messages_y: num }),
  });
  const responses = ch.query({
    name: 'analytics.events.today_response_time',
    sql: `${window}
          SELECT sumIf(sum, bucket >= t0) / sumIf(count, bucket >= t0) AS rt,
                 sumIf(sum, bucket < t0 AND bucket <= n - INTERVAL 1 DAY) / sumIf(count, bucket < t0 AND bucket <= n - INTERVAL 1 DAY) AS rt_y
          FROM event_measures_1m_v1
          WHERE project_id = {project:String} AND name = '${EVENTS.aiMessage}' AND measure = 'response_time' AND bucket >= y0 AND bucket <= n`,
    params,
    row: z.object({ rt: maybeNum, rt_y: maybeNum }),
  });
  const ratings = ch.query({
    name: 'analytics.events.today_ratings',
    sql: `${window}
          SELECT countIf(timestamp >= t0) AS ratings, countIf(timestamp >= t0 AND r >= 4) AS satisfied, sumIf(r, timestamp >= t0) AS rating_sum,
                 countIf(timestamp < t0 AND timestamp <= n - INTERVAL 1 DAY) AS ratings_y,
                 countIf(timestamp < t0 AND timestamp <= n - INTERVAL 1 DAY AND r >= 4) AS satisfied_y
          FROM (SELECT timestamp, round(measures['rating']) AS r FROM events_raw_v1
                WHERE project_id = {project:String} AND name = '${EVENTS.feedback}' AND mapContains(measures, 'rating') AND timestamp >= y0 AND timestamp <= n)
          WHERE r BETWEEN 1 AND 5`,
    params,
    row: z.object({ ratings: num, satisfied: num, rating_sum: num, ratings_y: num, satisfied_y: num }),
  });
  return async (args: z.input<typeof params>) => {
    const [[c], [r], [s]] = await Promise.all([counts(args), responses(args), ratings(args)]);
    return { counts: c!, responseTimes: r ?? { rt: null, rt_y: null }, ratings: s! };
  };
}

const tokenRow = z.object({ day: z.string(), model: z.string(), calls: num, prompt_tokens: num, completion_tokens: num, other_tokens: num });
export type TokenRow = z.output<typeof tokenRow>;

/**
 * Token counts per day and model from message.ai and llm.usage events:
 * prompt_tokens and completion_tokens; an event with neither counts its
 * total_tokens (or tokens) as other_tokens.
 */
export function tokenUsage(ch: ClickHouse) {
  const has = (k: string) => `mapContains(measures, '${k}')`;
  return ch.query({
    name: 'analytics.ai.tokens',
    sql: `SELECT toString(toDate(timestamp, {tz:String})) AS day, JSONExtractString(properties, 'model') AS model, count() AS calls,
                 sum(greatest(measures['prompt_tokens'], 0)) AS prompt_tokens,
                 sum(greatest(measures['completion_tokens'], 0)) AS completion_tokens,
                 sumIf(greatest(if(${has('total_tokens')}, measures['total_tokens'], measures['tokens']), 0), NOT ${has('prompt_tokens')} AND NOT ${has('completion_tokens')}) AS other_tokens
          FROM events_raw_v1
          WHERE project_id = {project:String} AND name IN ('${EVENTS.aiMessage}', '${EVENTS.llmUsage}') AND ${RAW_RANGE}
            AND (${has('prompt_tokens')} OR ${has('completion_tokens')} OR ${has('total_tokens')} OR ${has('tokens')})
          GROUP BY day, model
          ORDER BY day, model`,
    params: dayParams,
    row: tokenRow,
  });
}
