import { InternalError } from '@tidemark/core';
import type { TimeseriesRequest } from './schema';

/** A time-series statement's result rows: checked, and read as points and dimension values. */

export type Row = Record<string, string | number | null>;

/**
 * Checks that every result value is text, a number or null, as JSONEachRow
 * gives the plan's columns. A loop, not a zod schema: results have
 * thousands of rows and zod's per-value cost showed in every request.
 */
export function checkedRows(rows: unknown): Row[] {
  if (!Array.isArray(rows)) throw new InternalError('time series: ClickHouse did not answer with rows');
  for (const r of rows) {
    if (typeof r !== 'object' || r === null) throw new InternalError('time series: a result row is not an object');
    for (const v of Object.values(r)) {
      if (v !== null && typeof v !== 'string' && typeof v !== 'number') throw new InternalError(`time series: unexpected result value ${JSON.stringify(v)}`);
    }
  }
  return rows as Row[];
}

export type Group = { dims: Record<string, string>; byT: Map<number, Record<string, number | null>>; total: number };

/** A row's measures by alias: numbers, or null (no value, or not finite). */
export function pointOf(r: Row, names: string[]): Record<string, number | null> {
  const point: Record<string, number | null> = {};
  names.forEach((a, i) => {
    const v = r[`m${i}`];
    point[a] = v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? null : Number(v);
  });
  return point;
}

export function dimsOf(r: Row, req: TimeseriesRequest): Record<string, string> {
  const dims: Record<string, string> = {};
  req.dimensions.forEach((d, i) => (dims[d] = String(r[`d${i}`] ?? '')));
  return dims;
}
