import { z } from 'zod';

/** Measures the generic time-series endpoint computes. */
export const MEASURE_TYPES = ['count', 'unique_users', 'unique_sessions', 'sum', 'avg', 'min', 'max', 'p50', 'p90', 'p95', 'p99', 'last'] as const;
export type MeasureType = (typeof MEASURE_TYPES)[number];

/** A property key, label name or measure name as sent by users: bound as a parameter, never spliced. */
const fieldName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : -');

export const measureSchema = z.strictObject({
  type: z.enum(MEASURE_TYPES),
  /** Numeric event property (events) or omitted/`value` (metrics); not used by count and unique_*. */
  field: fieldName.optional(),
  alias: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,39}$/, 'lower-case letters, digits and _')
    .optional(),
});
export type Measure = z.infer<typeof measureSchema>;

/** Built-in dimensions; `properties.<key>` (events) and `labels.<key>` (metrics) name the rest. */
export const EVENT_DIMENSIONS = ['name', 'product', 'channel', 'os', 'app_version', 'distinct_id', 'session_id'] as const;
export const METRIC_DIMENSIONS = ['name'] as const;

export const dimensionSchema = z
  .string()
  .min(1)
  .max(140)
  .regex(
    /^(name|product|channel|os|app_version|distinct_id|session_id|(properties|labels)\.[A-Za-z0-9_.:-]{1,128})$/,
    'a built-in field, properties.<key> or labels.<key>',
  );

const scalar = z.union([z.string().max(1000), z.number().finite(), z.boolean()]);
export const leafFilterSchema = z.strictObject({
  field: dimensionSchema,
  op: z.enum(['is', 'is_not', 'contains', 'in', 'gt', 'gte', 'lt', 'lte']),
  value: z.union([scalar, z.array(scalar).min(1).max(100)]),
});
export type LeafFilter = z.infer<typeof leafFilterSchema>;
export type Filter = LeafFilter | { and: Filter[] } | { or: Filter[] };
export const filterSchema: z.ZodType<Filter> = z.lazy(() =>
  z.union([leafFilterSchema, z.strictObject({ and: z.array(filterSchema).min(1).max(20) }), z.strictObject({ or: z.array(filterSchema).min(1).max(20) })]),
);

export const INTERVALS = { '1m': 60, '5m': 300, '15m': 900, '30m': 1800, '1h': 3600, '6h': 21_600, '12h': 43_200, '1d': 86_400, '1w': 604_800 } as const;
export type IntervalName = keyof typeof INTERVALS;

const timeInput = z.union([z.string().datetime({ offset: true }), z.number().int().positive()]);
export const rangeSchema = z.union([
  z.strictObject({ from: timeInput, to: timeInput }),
  z.strictObject({ last: z.string().regex(/^\d{1,4}[mhdw]$/, 'like 15m, 24h, 7d or 4w') }),
]);

/**
 * Strict at every level: an unknown key (a typo such as `filters` for
 * `filter`) is refused with its name instead of being dropped, which would
 * answer an unfiltered question as if it were the one asked.
 */
export const timeseriesRequest = z.strictObject({
  signal: z.enum(['events', 'metrics']).default('events'),
  measures: z.array(measureSchema).min(1).max(10),
  dimensions: z.array(dimensionSchema).max(3).default([]),
  filter: filterSchema.optional(),
  range: rangeSchema,
  interval: z.union([z.literal('auto'), z.enum(Object.keys(INTERVALS) as [IntervalName, ...IntervalName[]])]).default('auto'),
  timezone: z
    .string()
    .max(64)
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'an IANA time zone such as UTC or Asia/Shanghai')
    .default('UTC'),
  fill: z.boolean().default(true),
  compare: z.enum(['previous_period']).optional(),
  /** Most groups (dimension value combinations) returned, largest first by the first measure. */
  limit: z.number().int().min(1).max(1000).default(50),
});
export type TimeseriesRequest = z.output<typeof timeseriesRequest>;
