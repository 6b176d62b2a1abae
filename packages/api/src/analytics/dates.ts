import { z } from 'zod';
import { ValidationError } from '@tidemark/core';

/**
 * Calendar dates (YYYY-MM-DD) in a time zone, and the query parameters that
 * carry them. Date arithmetic is done on the calendar (as UTC dates), so it
 * knows no DST; turning a date into an instant is ClickHouse's job
 * (toDateTime(date, tz) is midnight of that date in the zone).
 */

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const timezoneParam = z
  .string()
  .max(64)
  .refine(isTimeZone, 'an IANA time zone such as UTC or Asia/Shanghai')
  .default('UTC')
  .describe('IANA time zone of dates and day boundaries (default UTC)');

/** A calendar day ClickHouse's Date and DateTime can hold. */
export const dateParam = z.iso.date('a date as YYYY-MM-DD').refine((d) => d >= '1970-01-01' && d <= '2105-12-31', 'a date from 1970-01-01 to 2105-12-31');
export const PERIODS = ['day', 'week', 'month'] as const;
export type Period = (typeof PERIODS)[number];
export const periodParam = z.enum(PERIODS);

/** An integer query parameter (query strings are text). */
export const intParam = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def);

/** The 400 the route layer sends for bad input, for checks zod cannot express (one field against another). */
export function invalidQuery(field: string, message: string): ValidationError {
  const path = `query.${field}`;
  return new ValidationError(`invalid query: ${path}: ${message}`, { context: { issues: [{ path, message }] } });
}

const DAY_MS = 86_400_000;
const toMs = (date: string): number => Date.parse(`${date}T00:00:00Z`);
const fromMs = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Today's date in the zone. */
export function todayIn(tz: string, now = Date.now()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(now));
}

export function addDays(date: string, days: number): string {
  return fromMs(toMs(date) + days * DAY_MS);
}

/** Same day of month, `months` later; the day must exist in every month (1-28). */
export function addMonths(date: string, months: number): string {
  const d = new Date(toMs(date));
  return fromMs(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, d.getUTCDate()));
}

/** Days from a to b (b - a). */
export function daysBetween(a: string, b: string): number {
  return Math.round((toMs(b) - toMs(a)) / DAY_MS);
}

/** First day of the period containing the date: the date, its Monday, or the 1st of its month. */
export function bucketOf(date: string, period: Period): string {
  if (period === 'day') return date;
  if (period === 'week') return addDays(date, -((new Date(toMs(date)).getUTCDay() + 6) % 7));
  return `${date.slice(0, 7)}-01`;
}

/** Last day of the period containing the date. */
export function bucketEnd(date: string, period: Period): string {
  if (period === 'day') return date;
  if (period === 'week') return addDays(bucketOf(date, 'week'), 6);
  return addDays(addMonths(bucketOf(date, 'month'), 1), -1);
}

/** The first days of every period from start to end, in order. */
export function bucketsBetween(start: string, end: string, period: Period): string[] {
  const out: string[] = [];
  for (let b = bucketOf(start, period); b <= end; b = period === 'month' ? addMonths(b, 1) : addDays(b, period === 'week' ? 7 : 1)) out.push(b);
  return out;
}

export interface DateRange {
  /** First day, inclusive. */
  start: string;
  /** Last day, inclusive. */
  end: string;
  /** Days in the range. */
  days: number;
}

/**
 * A start_date/end_date pair: both optional; end defaults to today in the
 * zone, start to `defaultDays` days up to end. Checked: start <= end, at most
 * `maxDays` days.
 */
export function resolveRange(
  q: { start_date?: string | undefined; end_date?: string | undefined },
  opts: { tz: string; now?: number; defaultDays: number; maxDays: number },
): DateRange {
  const end = q.end_date ?? todayIn(opts.tz, opts.now);
  const start = q.start_date ?? addDays(end, -(opts.defaultDays - 1));
  if (end < start)
    throw q.end_date ? invalidQuery('end_date', `must not be before start_date (${start})`) : invalidQuery('start_date', `must not be after today (${end})`);
  const days = daysBetween(start, end) + 1;
  if (days > opts.maxDays) throw invalidQuery('start_date', `the range may span at most ${opts.maxDays} days (got ${days})`);
  return { start, end, days };
}

/**
 * A range of whole periods: start_date/end_date widened to the first and last
 * day of their periods; by default the last `defaultBuckets` periods up to today.
 */
export function resolvePeriodRange(
  q: { start_date?: string | undefined; end_date?: string | undefined },
  period: Period,
  opts: { tz: string; now?: number; defaultBuckets: number; maxBuckets: number },
): DateRange & { buckets: string[] } {
  const today = todayIn(opts.tz, opts.now);
  const endDay = q.end_date ?? today;
  let startDay = q.start_date;
  if (!startDay) {
    const last = bucketOf(endDay, period);
    startDay = period === 'month' ? addMonths(last, -(opts.defaultBuckets - 1)) : addDays(last, -(opts.defaultBuckets - 1) * (period === 'week' ? 7 : 1));
  }
  if (endDay < startDay)
    throw q.end_date
      ? invalidQuery('end_date', `must not be before start_date (${startDay})`)
      : invalidQuery('start_date', `must not be after today (${endDay})`);
  const start = bucketOf(startDay, period);
  const end = bucketEnd(endDay, period);
  const buckets = bucketsBetween(start, end, period);
  if (buckets.length > opts.maxBuckets) throw invalidQuery('start_date', `the range may span at most ${opts.maxBuckets} ${period}s (got ${buckets.length})`);
  return { start, end, days: daysBetween(start, end) + 1, buckets };
}

/** Rounds to `digits` decimals (percentages, money). */
export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** part / whole in percent, 2 decimals; null when whole is 0. */
export function percent(part: number, whole: number): number | null {
  return whole > 0 ? round((part / whole) * 100) : null;
}
