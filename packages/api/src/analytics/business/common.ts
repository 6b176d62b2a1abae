import { z } from 'zod';
import { bucketEnd, percent, resolvePeriodRange, resolveRange, todayIn, type DateRange, type Period } from '../dates';

/**
 * What the business statistics' queries share (analytics/business/*.ts, one
 * module per domain). Every statement reads `<table> FINAL WHERE project_id =
 * {project:String} AND is_deleted = 0` (bizRows): the caller's project, each
 * row once, in its latest version.
 */

export const num = z.coerce.number();
/** avg* of no rows is nan, sent as null or "nan". */
export const maybeNum = z
  .union([z.number(), z.string(), z.null()])
  .transform((v) => (v === null || v === '' || !Number.isFinite(Number(v)) ? null : Number(v)));
export const project = z.string();
/** Parameters of a statement over calendar days start..end in tz (inDates). */
export const dayWindowParams = z.object({ project, tz: z.string(), start: z.string(), end: z.string() });
export type DayWindow = z.input<typeof dayWindowParams>;

/** Group expression of a timestamp column per period, in {tz:String}. */
export function bucketSql(period: Period, column: string): string {
  const day = `toDate(${column}, {tz:String})`;
  return { day, week: `toMonday(${day})`, month: `toStartOfMonth(${day})` }[period];
}

/** Decimal text (sum of Decimal(14,2)) as integer cents, so sums in JS stay exact. */
export const cents = (s: string): number => Math.round(Number(s) * 100);
export const money = (c: number): number => c / 100;

/** Rows of a "count per value of several dimensions" statement (ARRAY JOIN over tuples). */
export const DIST_ROW = z.object({ dimension: z.string(), value: z.string(), count: num });
export type Share = { value: string; count: number; percent: number | null };
export function distribution(rows: z.output<typeof DIST_ROW>[], dimension: string, total: number): Share[] {
  return rows.filter((r) => r.dimension === dimension).map((r) => ({ value: r.value, count: r.count, percent: percent(r.count, total) }));
}

/**
 * The window of a per-period series: the buckets are whole periods (a week
 * from Monday, a month from the 1st) but the rows counted are exactly those of
 * start_date..end_date, so the series' totals equal any other figure of the
 * same window (the Orders and Revenue panels of a page agree). A bucket the
 * window cuts, or one that contains today (still filling), is `partial`.
 */
export function periodWindow(
  q: { start_date?: string | undefined; end_date?: string | undefined },
  period: Period,
  opts: { tz: string; defaultBuckets: number; maxBuckets: number },
): { window: DateRange; buckets: string[]; partial: (bucket: string) => boolean } {
  const r = resolvePeriodRange(q, period, opts);
  const window = resolveRange(
    { start_date: q.start_date ?? r.start, end_date: q.end_date ?? todayIn(opts.tz) },
    { tz: opts.tz, defaultDays: 1, maxDays: 100_000 },
  );
  const today = todayIn(opts.tz);
  const partial = (bucket: string): boolean =>
    bucket < window.start || bucketEnd(bucket, period) > window.end || (bucket <= today && today <= bucketEnd(bucket, period));
  return { window, buckets: r.buckets, partial };
}

/** The window of a series of `period` buckets with the API's defaults: 30 days, or 12 weeks or months. */
export function seriesWindow(
  q: { start_date?: string | undefined; end_date?: string | undefined; timezone: string },
  period: Period,
): ReturnType<typeof periodWindow> {
  return periodWindow(q, period, { tz: q.timezone, defaultBuckets: period === 'day' ? 30 : 12, maxBuckets: 1000 });
}
