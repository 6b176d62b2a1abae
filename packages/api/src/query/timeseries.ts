import { ValidationError, type ClickHouse } from '@tidemark/core';
import { checkedRows, dimsOf, pointOf, type Group, type Row } from './rows';
import { bucketStarts, chooseGranularity, GRANULARITY_MS, UNITS, type Granularity, type ResolvedRange } from './range';
import { INTERVALS, type Filter, type IntervalName, type LeafFilter, type Measure, type TimeseriesRequest } from './schema';

export {
  autoInterval,
  bucketStarts,
  chooseGranularity,
  fixedOffsetBucketStarts,
  MAX_RANGE_MS,
  resolveRange,
  tzOffsetMs,
  zoneOffsets,
  type ResolvedRange,
} from './range';

/**
 * The generic time-series query: plans which table answers (the coarsest
 * rollup that answers exactly, the raw table only when it must), builds
 * parameterized SQL (every value and user-named key is a `{pN:Type}`
 * parameter; identifiers come from fixed lists), runs it and shapes series.
 */

const QUANTILES: Record<string, number> = { p50: 1, p90: 2, p95: 3, p99: 4 };
const EVENT_ROLLUP_DIMS = new Set(['name', 'product', 'channel', 'os', 'app_version']);

export interface Plan {
  table: string;
  granularity: Granularity | 'raw';
  sql: string;
  params: Record<string, unknown>;
  /** Counts and sums are exact; uniques and quantiles from rollups are sketches. */
  approximate: string[];
  /**
   * Where each group's figure over the whole range (Series.total) comes from:
   * - 'rows': the statement itself, `GROUP BY GROUPING SETS ((t, dims), (dims))`: its rows with g = 1
   *   (the states are read once for both; each measure is aggregated over the group's rows as one
   *   bucket, exactly as a statement of its own would);
   * - 'counts': every measure is a count: the sum of the group's bucket counts (integers, exact), no statement;
   * - 'whole': a second statement, plan(..., { whole: true }), beside this one (see projectionCovers);
   * - 'none': this plan is that second statement.
   */
  totals: 'rows' | 'counts' | 'whole' | 'none';
}

/** Rows of each grouping set a statement returns at most (the series' buckets x groups; the totals' groups). */
const ROW_LIMIT = 200_000;

function family(req: TimeseriesRequest): 'events' | 'measures' | 'metrics' | 'raw' {
  const filterFields: string[] = [];
  const walk = (f: Filter | undefined): void => {
    if (!f) return;
    if ('and' in f) f.and.forEach(walk);
    else if ('or' in f) f.or.forEach(walk);
    else filterFields.push(f.field);
  };
  walk(req.filter);
  if (req.signal === 'metrics') {
    const ok = (d: string): boolean => d === 'name' || d.startsWith('labels.');
    return req.measures.every((m) => m.type !== 'unique_users' && m.type !== 'unique_sessions' && (m.field === undefined || m.field === 'value')) &&
      req.dimensions.every(ok) &&
      filterFields.every(ok)
      ? 'metrics'
      : 'raw';
  }
  if (
    req.measures.every((m) => ['count', 'unique_users', 'unique_sessions'].includes(m.type) && m.field === undefined) &&
    [...req.dimensions, ...filterFields].every((d) => EVENT_ROLLUP_DIMS.has(d))
  ) {
    return 'events';
  }
  if (
    req.measures.every((m) => m.field !== undefined && m.type !== 'unique_users' && m.type !== 'unique_sessions' && m.type !== 'last') &&
    [...req.dimensions, ...filterFields].every((d) => d === 'name')
  ) {
    return 'measures';
  }
  return 'raw';
}

class Params {
  readonly values: Record<string, unknown> = {};
  private n = 0;
  add(type: string, value: unknown): string {
    const name = `p${this.n++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }
}

function measureAlias(m: Measure, i: number): string {
  return m.alias ?? (m.field ? `${m.type}_${m.field.replace(/[^A-Za-z0-9_]/g, '_')}`.toLowerCase().slice(0, 40) : m.type) + (i > 0 && !m.alias ? '' : '');
}

export function aliases(measures: Measure[]): string[] {
  const seen = new Map<string, number>();
  return measures.map((m, i) => {
    const a = measureAlias(m, i);
    const n = seen.get(a) ?? 0;
    seen.set(a, n + 1);
    return n === 0 ? a : `${a}_${n + 1}`;
  });
}

function dimExpr(fam: string, d: string, p: Params): string {
  if (d.startsWith('properties.')) return `trim(BOTH '"' FROM JSONExtractRaw(properties, ${p.add('String', d.slice(11))}))`;
  if (d.startsWith('labels.')) return `labels[${p.add('String', d.slice(7))}]`;
  if (fam === 'metrics' && d !== 'name') throw new ValidationError(`dimension ${d} does not exist for metrics`);
  return d; // a fixed identifier from the schema's list
}

function filterSql(fam: string, f: Filter, p: Params): string {
  if ('and' in f) return `(${f.and.map((x) => filterSql(fam, x, p)).join(' AND ')})`;
  if ('or' in f) return `(${f.or.map((x) => filterSql(fam, x, p)).join(' OR ')})`;
  const leaf: LeafFilter = f;
  const e = dimExpr(fam, leaf.field, p);
  const v = leaf.value;
  switch (leaf.op) {
    case 'is':
      return `${e} = ${p.add('String', String(v))}`;
    case 'is_not':
      return `${e} != ${p.add('String', String(v))}`;
    case 'contains':
      return `positionCaseInsensitiveUTF8(${e}, ${p.add('String', String(v))}) > 0`;
    case 'in':
      return `${e} IN ${p.add('Array(String)', (Array.isArray(v) ? v : [v]).map(String))}`;
    default: {
      const num = Number(Array.isArray(v) ? v[0] : v);
      if (!Number.isFinite(num)) throw new ValidationError(`filter on ${leaf.field}: ${leaf.op} needs a number`);
      const op = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[leaf.op];
      return `toFloat64OrNull(toString(${e})) ${op} ${p.add('Float64', num)}`;
    }
  }
}

function measureSql(fam: string, m: Measure, p: Params, raw: boolean): string {
  const q = QUANTILES[m.type];
  if (fam === 'events') {
    if (raw) return { count: 'count()', unique_users: 'uniqExact(distinct_id)', unique_sessions: 'uniqExact(session_id)' }[m.type as 'count'] ?? 'count()';
    return { count: 'sum(events)', unique_users: 'uniqMerge(users)', unique_sessions: 'uniqMerge(sessions)' }[m.type as 'count'] ?? 'sum(events)';
  }
  if (fam === 'measures') {
    const f = p.add('String', m.field);
    if (raw) {
      const has = `mapContains(measures, ${f})`;
      const val = `measures[${f}]`;
      if (q) return `quantileExactIf(${[0.5, 0.9, 0.95, 0.99][q - 1]})(${val}, ${has})`;
      return {
        count: `countIf(${has})`,
        sum: `sumIf(${val}, ${has})`,
        avg: `avgIf(${val}, ${has})`,
        min: `minIf(${val}, ${has})`,
        max: `maxIf(${val}, ${has})`,
      }[m.type as 'sum'];
    }
    const is = `measure = ${f}`;
    if (q) return `arrayElement(quantilesTDigestMergeIf(0.5, 0.9, 0.95, 0.99)(quantiles, ${is}), ${q})`;
    return {
      count: `sumIf(count, ${is})`,
      sum: `sumIf(sum, ${is})`,
      avg: `sumIf(sum, ${is}) / nullIf(sumIf(count, ${is}), 0)`,
      min: `minIf(min, ${is})`,
      max: `maxIf(max, ${is})`,
    }[m.type as 'sum'];
  }
  // metrics
  if (raw) {
    if (q) return `quantileExact(${[0.5, 0.9, 0.95, 0.99][q - 1]})(value)`;
    return { count: 'count()', sum: 'sum(value)', avg: 'avg(value)', min: 'min(value)', max: 'max(value)', last: 'argMax(value, timestamp)' }[m.type as 'sum'];
  }
  if (q) return `arrayElement(quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(quantiles), ${q})`;
  return { count: 'sum(count)', sum: 'sum(sum)', avg: 'sum(sum) / nullIf(sum(count), 0)', min: 'min(min)', max: 'max(max)', last: 'argMaxMerge(last)' }[
    m.type as 'sum'
  ];
}

/**
 * Whether events_1h_v1's by_name projection (clickhouse/0004_rollup_projections.sql) answers the
 * plan: grouped and filtered by nothing but the event name. ClickHouse reads no projection for
 * GROUPING SETS, so such a plan keeps its totals as a second statement: measured on bench-query's
 * 2M events, the 30-day hourly uniques by name took 315 ms as one GROUPING SETS statement over
 * the full rollup against 171 ms as two statements over the projection.
 */
function projectionCovers(table: string, req: TimeseriesRequest, filterFields: string[]): boolean {
  return table === 'events_1h_v1' && [...req.dimensions, ...filterFields].every((d) => d === 'name');
}

function filterFieldsOf(f: Filter | undefined, out: string[] = []): string[] {
  if (!f) return out;
  if ('and' in f) f.and.forEach((x) => filterFieldsOf(x, out));
  else if ('or' in f) f.or.forEach((x) => filterFieldsOf(x, out));
  else out.push(f.field);
  return out;
}

/** Plans and writes the SQL for one period (with its range totals unless `whole`: then it is the range as one bucket). */
export function plan(req: TimeseriesRequest, projectId: string, range: ResolvedRange, interval: IntervalName, opts: { whole?: boolean } = {}): Plan {
  const fam0 = family(req);
  const g = fam0 === 'raw' ? undefined : chooseGranularity(range, interval, req.timezone);
  const raw = g === undefined;
  const fam = fam0 === 'raw' ? (req.signal === 'metrics' ? 'metrics' : req.measures.every((m) => m.field === undefined) ? 'events' : 'raw-mixed') : fam0;
  const p = new Params();
  const [n, unit] = UNITS[interval];
  const names = aliases(req.measures);
  let table: string;
  let timeCol: string;
  if (raw) {
    table = req.signal === 'metrics' ? 'metrics_raw_v1' : 'events_raw_v1';
    timeCol = 'timestamp';
  } else {
    table = { events: 'events', measures: 'event_measures', metrics: 'metrics' }[fam as 'events'] + `_${g}_v1`;
    timeCol = 'bucket';
  }
  // A rollup read at its own granularity needs no re-bucketing: chooseGranularity only picks it when
  // the zone's offsets are whole multiples of it, so toStartOfInterval would return the bucket itself
  // (and costs a zone conversion per row on the widest reads, e.g. 30 days of the hourly rollup).
  const bucket =
    !raw && INTERVALS[interval] * 1000 === GRANULARITY_MS[g]
      ? timeCol
      : `toStartOfInterval(${timeCol}, INTERVAL ${p.add('UInt32', n)} ${unit}, ${p.add('String', req.timezone)})`;
  // whole: one bucket for the range, so every measure is computed over the range itself (sketches merged, distinct
  // values counted once), not combined from per-interval results (a mean of p95s is not the p95 of the range).
  const select: string[] = [opts.whole ? `${p.add('Int64', range.from)} AS t` : `toUnixTimestamp(${bucket}) * 1000 AS t`];
  const dims = req.dimensions.map((d, i) => {
    select.push(`${dimExpr(req.signal === 'metrics' ? 'metrics' : 'events', d, p)} AS d${i}`);
    return `d${i}`;
  });
  req.measures.forEach((m, i) => {
    const f = fam === 'raw-mixed' ? (m.field === undefined ? 'events' : 'measures') : fam;
    select.push(`${measureSql(f, m, p, raw)} AS m${i}`);
  });
  const where = [`project_id = ${p.add('String', projectId)}`];
  if (raw) {
    where.push(`${timeCol} >= fromUnixTimestamp64Milli(${p.add('Int64', range.from)})`, `${timeCol} < fromUnixTimestamp64Milli(${p.add('Int64', range.to)})`);
  } else {
    const gm = GRANULARITY_MS[g];
    const to = range.openEnd ? Math.ceil(range.to / gm) * gm : range.to;
    where.push(
      `${timeCol} >= toDateTime(${p.add('UInt32', Math.floor(range.from / 1000))})`,
      `${timeCol} < toDateTime(${p.add('UInt32', Math.floor(to / 1000))})`,
    );
  }
  if (!raw && fam === 'measures') where.push(`measure IN ${p.add('Array(String)', [...new Set(req.measures.map((m) => m.field!))])}`);
  if (req.filter) where.push(filterSql(req.signal === 'metrics' ? 'metrics' : 'events', req.filter, p));
  const totals: Plan['totals'] = opts.whole
    ? 'none'
    : req.measures.every((m) => m.type === 'count')
      ? 'counts'
      : projectionCovers(table, req, filterFieldsOf(req.filter))
        ? 'whole'
        : 'rows';
  const from = `FROM ${table} WHERE ${where.join(' AND ')}`;
  // g = 1 marks a group's row over the whole range (grouping(t): t is not in its set; pinned to the SQL standard's
  // meaning by force_grouping_standard_compatibility in planRows). Each set keeps the row limit a statement had.
  const sql =
    totals === 'rows'
      ? `SELECT ${select.join(', ')}, toUInt8(grouping(t)) AS g ${from} GROUP BY GROUPING SETS ((t${dims.map((d) => `, ${d}`).join('')}), (${dims.join(', ')})) ORDER BY g, t LIMIT ${ROW_LIMIT} BY g`
      : `SELECT ${select.join(', ')} ${from} GROUP BY t${dims.map((d) => `, ${d}`).join('')} ORDER BY t LIMIT ${ROW_LIMIT}`;
  const approximate = raw ? [] : req.measures.flatMap((m, i) => (m.type.startsWith('unique') || QUANTILES[m.type] ? [names[i]!] : []));
  return { table, granularity: g ?? 'raw', sql, params: p.values, approximate, totals };
}

/** A point: `t` (bucket start, ms), each measure's value, and `partial: true` on a bucket still filling (it ends after now). */
export type Point = { [measure: string]: number | null | true | undefined; t: number; partial?: true };

export interface Series {
  dimensions: Record<string, string>;
  points: Point[];
  /** Each measure over the whole range, computed as one bucket (percentiles from the merged sketches, uniques counted once). */
  total?: Record<string, number | null>;
}

async function planRows(ch: ClickHouse, pl: Plan): Promise<Row[]> {
  const rs = await ch.client.query({
    query: pl.sql,
    query_params: pl.params,
    format: 'JSONEachRow',
    // grouping() is 1 where its argument is not in the row's grouping set (the standard's meaning; pinned, as the old meaning was the opposite).
    clickhouse_settings: { max_execution_time: 30, ...(pl.totals === 'rows' ? { force_grouping_standard_compatibility: 1 } : {}) },
  });
  return checkedRows(await rs.json());
}

/** Groups the rows of the series by dimension combination. */
function groupRows(req: TimeseriesRequest, rows: Row[]): Map<string, Group> {
  const names = aliases(req.measures);
  const groups = new Map<string, Group>();
  for (const r of rows) {
    const dims = dimsOf(r, req);
    const key = JSON.stringify(dims);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { dims, byT: new Map(), total: 0 }));
    const point = pointOf(r, names);
    g.total += point[names[0]!] ?? 0;
    g.byT.set(Number(r.t), point);
  }
  if (groups.size === 0 && req.dimensions.length === 0) groups.set('{}', { dims: {}, byT: new Map(), total: 0 });
  return groups;
}

/** The top `limit` groups by the first measure, as series (filled with the range's buckets when asked). */
async function toSeries(ch: ClickHouse, req: TimeseriesRequest, groups: Map<string, Group>, range: ResolvedRange, interval: IntervalName): Promise<Series[]> {
  const names = aliases(req.measures);
  const top = [...groups.values()].sort((a, b) => b.total - a.total).slice(0, req.limit);
  const fillWith = (): Record<string, number | null> =>
    Object.fromEntries(req.measures.map((m, i) => [names[i], ['count', 'unique_users', 'unique_sessions', 'sum'].includes(m.type) ? 0 : null]));
  const starts = req.fill ? await bucketStarts(ch, range, interval, req.timezone) : undefined;
  return top.map((g) => ({
    dimensions: g.dims,
    points: (starts ?? [...g.byT.keys()].sort((a, b) => a - b)).map((t) => ({ t, ...(g.byT.get(t) ?? fillWith()) })),
  }));
}

/**
 * Marks the buckets that are still filling: those that end after `now`
 * (the last bucket of an open-ended range), so no chart or alert reads a
 * half-counted interval as a drop.
 */
export function markPartial(series: Series[], interval: IntervalName, now: number): void {
  const step = INTERVALS[interval] * 1000;
  for (const sr of series) for (const pt of sr.points) if (pt.t + step > now) pt.partial = true;
}

/**
 * Runs a plan and sets each series' `total`: each measure over the whole range, computed as one
 * bucket (percentiles from the merged sketches, uniques counted once, not combined from the
 * buckets' figures). How, the plan says (Plan.totals): mostly in the same statement as the series
 * (GROUPING SETS: the rollup's states are read once; on bench-query's 7-day daily uniques by OS,
 * a second statement beside the series cost as much as the series itself on two cores), sums of
 * the bucket counts when every measure is a count, and a second statement run beside the series
 * where a projection answers the series but not GROUPING SETS.
 */
export async function runWithTotals(
  ch: ClickHouse,
  req: TimeseriesRequest,
  pl: Plan,
  projectId: string,
  range: ResolvedRange,
  interval: IntervalName,
): Promise<Series[]> {
  const names = aliases(req.measures);
  const wholeTotals = async (): Promise<Map<string, Record<string, number | null>>> => {
    const rows = await planRows(ch, plan(req, projectId, range, interval, { whole: true }));
    return new Map(rows.map((r) => [JSON.stringify(dimsOf(r, req)), pointOf(r, names)]));
  };
  let groups: Map<string, Group>;
  let totals: Map<string, Record<string, number | null>>;
  if (pl.totals === 'whole') {
    const [rows, whole] = await Promise.all([planRows(ch, pl), wholeTotals()]);
    groups = groupRows(req, rows);
    totals = whole;
  } else {
    const rows = await planRows(ch, pl);
    const own = pl.totals === 'rows' ? rows.filter((r) => r.g === 0) : rows;
    groups = groupRows(req, own);
    if (pl.totals === 'rows') {
      totals = new Map(rows.filter((r) => r.g === 1).map((r) => [JSON.stringify(dimsOf(r, req)), pointOf(r, names)]));
    } else if (own.length < ROW_LIMIT) {
      // Counts only: a group's count over the range is the sum of its bucket counts (integers, so exactly the same).
      totals = new Map(
        [...groups].map(([key, g]) => {
          const sum: Record<string, number | null> = Object.fromEntries(names.map((a) => [a, 0]));
          for (const pt of g.byT.values()) for (const a of names) sum[a] = (sum[a] as number) + (pt[a] ?? 0);
          return [key, sum];
        }),
      );
    } else {
      // The series were cut at the row limit: their buckets do not add up to the range.
      totals = await wholeTotals();
    }
  }
  // A group without rows (the one empty series of a request without dimensions) has no figure over the range.
  for (const [key, g] of groups) if (g.byT.size === 0) totals.delete(key);
  const series = await toSeries(ch, req, groups, range, interval);
  for (const sr of series) {
    const pt = totals.get(JSON.stringify(sr.dimensions));
    sr.total = Object.fromEntries(names.map((a) => [a, typeof pt?.[a] === 'number' ? (pt[a] as number) : null]));
  }
  return series;
}
