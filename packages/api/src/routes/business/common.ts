import type { ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import type { AnalyticsOptions } from '../../analytics/options';
import { dateParam, timezoneParam } from '../../analytics/dates';
import type { QueryCache } from '../../query/cache';

/** What the business statistics' route modules share: their dependencies, path prefix, query parameters and answer pieces. */

export interface BusinessDeps {
  clickhouse: ClickHouse;
  cache: QueryCache;
  options?: Pick<AnalyticsOptions, 'businessCurrency' | 'netOrderStatuses'>;
}

export const BASE = '/api/analytics-monitoring/analytics';

export const rangeQuery = {
  start_date: dateParam.optional().describe('first day (YYYY-MM-DD, in timezone); default: see the endpoint'),
  end_date: dateParam.optional().describe('last day, inclusive (YYYY-MM-DD); default today'),
  timezone: timezoneParam,
};

// Answers (response schemas): what the handlers return, documented in /openapi.json.
export const n = z.number();
export const nn = z.number().nullable();
export const share = z.object({ value: z.string(), count: z.number(), percent: z.number().nullable() });
export const partial = z.literal(true).optional().describe('the window cuts this period, or it contains today (still filling)');
