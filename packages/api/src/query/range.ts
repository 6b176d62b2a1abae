import { parseDuration, ValidationError, type ClickHouse } from '@tidemark/core';
import { INTERVALS, type IntervalName, type TimeseriesRequest } from './schema';

/**
 * A time-series request's time: its range resolved in the request's zone,
 * the zone's offsets over it, the rollup granularity that tiles it exactly,
 * and the starts of its buckets (computed here when the zone keeps one
 * offset, by ClickHouse when it changes, so DST rules are the engine's).
 */

export type Granularity = '1d' | '1h' | '1m';
export const GRANULARITY_MS: Record<Granularity, number> = { '1d': 86_400_000, '1h': 3_600_000, '1m': 60_000 };
export interface ResolvedRange {
  from: number;
  to: number;
  /** The range ends now: its last bucket is still filling. */
  openEnd: boolean;
}

export const UNITS: Record<IntervalName, [number, 'MINUTE' | 'HOUR' | 'DAY' | 'WEEK']> = {
  '1m': [1, 'MINUTE'],
  '5m': [5, 'MINUTE'],
  '15m': [15, 'MINUTE'],
  '30m': [30, 'MINUTE'],
  '1h': [1, 'HOUR'],
  '6h': [6, 'HOUR'],
  '12h': [12, 'HOUR'],
  '1d': [1, 'DAY'],
  '1w': [1, 'WEEK'],
};

// Building an Intl.DateTimeFormat costs far more than using one: one per zone, kept.
const zoneFormats = new Map<string, Intl.DateTimeFormat>();

export function tzOffsetMs(tz: string, at: number): number {
  let format = zoneFormats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (zoneFormats.size < 1000) zoneFormats.set(tz, format);
  }
  const parts = format.formatToParts(new Date(at));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** Longest range a request may ask for (absolute or `last`). */
export const MAX_RANGE_MS = 400 * 86_400_000;

/** Absolute range in ms; a relative range (`last`) starts on an interval boundary and ends now. */
export function resolveRange(req: TimeseriesRequest, interval: IntervalName, now: number): ResolvedRange {
  if ('last' in req.range) {
    // The request schema admits `\d{1,4}[mhdw]`, a subset of core's duration grammar.
    const lastMs = parseDuration(req.range.last);
    if (lastMs === undefined)
      throw new ValidationError(`range.last: ${req.range.last} is not a duration like 15m, 24h, 7d or 4w`, {
        context: { issues: [{ path: 'body.range.last', message: 'like 15m, 24h, 7d or 4w' }] },
      });
    const step = INTERVALS[interval] * 1000;
    const off = tzOffsetMs(req.timezone, now);
    // The same bound as an absolute range: a longer `last` (9999w) would reach before 1970.
    if (lastMs > MAX_RANGE_MS)
      throw new ValidationError(`range.last: at most 400 days (got ${req.range.last})`, {
        context: { issues: [{ path: 'body.range.last', message: 'at most 400 days' }] },
      });
    const rawFrom = now - lastMs;
    // Align the start to the interval in the zone (weeks to days): full first bucket.
    const alignTo = Math.min(step, 86_400_000);
    const from = Math.floor((rawFrom + off) / alignTo) * alignTo - off;
    return { from, to: now, openEnd: true };
  }
  const parse = (v: string | number): number => (typeof v === 'number' ? v : Date.parse(v));
  const from = parse(req.range.from);
  const to = parse(req.range.to);
  if (!Number.isFinite(from) || !Number.isFinite(to) || from < 0)
    throw new ValidationError('range: times must be on or after 1970-01-01T00:00:00Z', {
      context: { issues: [{ path: 'body.range.from', message: 'before 1970' }] },
    });
  if (!(to > from)) throw new ValidationError('range: "to" must be after "from"');
  if (to - from > MAX_RANGE_MS) throw new ValidationError('range: at most 400 days');
  return { from, to, openEnd: to >= now };
}

/**
 * The zone's UTC offsets over a range: at both ends and every week in
 * between. No zone changes its offset and back within a week (DST periods
 * and their suspensions last weeks), so equal samples mean one offset for
 * the whole range, and a rollup boundary check over the samples holds for
 * every instant of it.
 */
export function zoneOffsets(tz: string, from: number, to: number): number[] {
  const offsets = new Set<number>([tzOffsetMs(tz, from), tzOffsetMs(tz, to)]);
  for (let t = from + 7 * 86_400_000; t < to; t += 7 * 86_400_000) offsets.add(tzOffsetMs(tz, t));
  return [...offsets];
}

/** Picks an interval giving at most ~240 buckets. */
export function autoInterval(rangeMs: number): IntervalName {
  for (const name of Object.keys(INTERVALS) as IntervalName[]) if (rangeMs / (INTERVALS[name] * 1000) <= 240) return name;
  return '1w';
}

/** The coarsest rollup granularity whose buckets tile the query's buckets and range exactly. */
export function chooseGranularity(range: ResolvedRange, interval: IntervalName, tz: string): Granularity | undefined {
  const intervalMs = INTERVALS[interval] * 1000;
  for (const g of ['1d', '1h', '1m'] as Granularity[]) {
    const gm = GRANULARITY_MS[g];
    if (intervalMs % gm !== 0) continue;
    // Zone boundaries must fall on rollup boundaries over the whole range, not only at its ends:
    // a daily rollup (UTC days) cannot answer local days of a range reaching into summer time.
    if (zoneOffsets(tz, range.from, range.to).some((o) => o % gm !== 0)) continue;
    if (range.from % gm !== 0) continue;
    if (!range.openEnd && range.to % gm !== 0) continue;
    return g;
  }
  return undefined;
}

const MAX_BUCKETS = 200_000;

/**
 * Bucket starts of the range when the zone keeps one offset over all of it,
 * computed here exactly as ClickHouse's toStartOfInterval does (which the
 * query groups by): minute intervals are aligned on the Unix epoch whatever
 * the zone, hour and day intervals on local midnight. Undefined when the
 * offset changes in the range (DST) or for weeks: then ClickHouse computes
 * them. Saves a ClickHouse round trip on most requests.
 */
export function fixedOffsetBucketStarts(range: ResolvedRange, interval: IntervalName, tz: string): number[] | undefined {
  const [, unit] = UNITS[interval];
  if (unit === 'WEEK') return undefined;
  const offsets = zoneOffsets(tz, range.from, range.to);
  if (offsets.length !== 1) return undefined;
  const off = unit === 'MINUTE' ? 0 : (offsets[0] as number);
  const step = INTERVALS[interval] * 1000;
  const out: number[] = [];
  for (let t = Math.floor((range.from + off) / step) * step - off; t < range.to && out.length < MAX_BUCKETS; t += step) out.push(t);
  return out;
}

/** Bucket starts of the range in the zone; computed by ClickHouse when the zone's offset changes in the range, so zone rules (DST) are the engine's. */
export async function bucketStarts(ch: ClickHouse, range: ResolvedRange, interval: IntervalName, tz: string): Promise<number[]> {
  const fixed = fixedOffsetBucketStarts(range, interval, tz);
  if (fixed) return fixed;
  const [n, unit] = UNITS[interval];
  const step = Math.min(INTERVALS[interval], 3600);
  const count = Math.min(MAX_BUCKETS, Math.ceil((range.to - range.from) / 1000 / step) + 1);
  const rs = await ch.client.query({
    query: `SELECT DISTINCT toUnixTimestamp(toStartOfInterval(fromUnixTimestamp64Milli({from:Int64}) + toIntervalSecond(number * {step:UInt32}), INTERVAL {n:UInt32} ${unit}, {tz:String})) * 1000 AS t
            FROM numbers({count:UInt32}) ORDER BY t`,
    query_params: { from: range.from, step, n, tz, count },
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ t: string | number }>();
  return rows.map((r) => Number(r.t)).filter((t) => t < range.to);
}
