/** Request and response schemas of the AI routes (../ai.ts), and the date range their queries resolve to. */
import { z } from 'zod';
import { dateParam, resolveRange, timezoneParam, todayIn, type DateRange } from '../../analytics/dates';

// Answers (response schemas): what the handlers of ../ai.ts return, documented in /openapi.json.
const n = z.number();
const nn = z.number().nullable();
const priceEntry = z.object({ model: z.string(), input_per_million: n, output_per_million: n, source: z.enum(['builtin', 'config', 'project']) });
export const pricesResponse = z.object({ currency: z.string(), prices: z.array(priceEntry) });
export const settingsResponse = z.object({
  effective: z.object({
    currency: z.string(),
    monthly_token_quota: n,
    quota_reset_day: n,
    quota_timezone: z.string(),
    cost_per_human_conversation: n,
    agent_monthly_cost: n,
  }),
  project: z
    .object({ monthly_token_quota: nn, quota_reset_day: nn, quota_timezone: z.string().nullable(), cost_per_human_conversation: nn, agent_monthly_cost: nn })
    .describe("the project's own values; null: the platform default"),
});
export const usageResponse = z.object({
  project_id: z.string(),
  start_date: z.string(),
  end_date: z.string(),
  timezone: z.string(),
  currency: z.string(),
  totals: z.object({ calls: n, prompt_tokens: n, completion_tokens: n, other_tokens: n, total_tokens: n, estimated_cost: n }),
  models: z.array(
    z.object({
      model: z.string(),
      calls: n,
      prompt_tokens: n,
      completion_tokens: n,
      other_tokens: n,
      total_tokens: n,
      estimated_cost: n,
      price: z.object({ matched: z.string(), input_per_million: n, output_per_million: n, source: z.string() }),
    }),
  ),
  daily: z.array(z.object({ date: z.string(), calls: n, total_tokens: n, estimated_cost: n })),
});

export const rangeQuery = z.object({
  start_date: dateParam.optional().describe('first day (YYYY-MM-DD, in timezone); default the 1st of the current month'),
  end_date: dateParam.optional().describe('last day, inclusive; default today'),
  timezone: timezoneParam,
});

export const settingsBody = z
  .object({
    monthly_token_quota: z.number().int().min(0).max(1e15).nullable().optional().describe('tokens per cycle; 0 = no quota; null = the platform default'),
    quota_reset_day: z.number().int().min(1).max(28).nullable().optional().describe('day of month (1-28) the cycle starts; null = default'),
    quota_timezone: timezoneParam.unwrap().nullable().optional().describe('zone of the reset day; null = UTC'),
    cost_per_human_conversation: z.number().min(0).max(1e9).nullable().optional().describe('ROI: cost of a conversation a human handles; null = default'),
    agent_monthly_cost: z.number().positive().max(1e12).nullable().optional().describe('ROI: monthly cost of one human agent; null = default'),
  })
  .strict();

export const priceItem = z.object({
  model: z.string().min(1).max(200).describe('model name or prefix; "default" prices every model without a match'),
  input_per_million: z.number().min(0).max(1e6),
  output_per_million: z.number().min(0).max(1e6),
});

export const quotaResponse = z.object({
  tokens_used: n,
  tokens_total: nn.describe('null: no quota'),
  usage_percent: nn,
  remaining: nn,
  over_quota: z.boolean(),
  cycle_start: z.string(),
  reset_date: z.string(),
  reset_day: n,
  timezone: z.string(),
  estimated_cost: n,
  currency: z.string(),
});
export const roiResponse = z.object({
  start_date: z.string(),
  end_date: z.string(),
  days: n,
  timezone: z.string(),
  currency: z.string(),
  sessions: n,
  transferred: n,
  auto_resolved: n,
  auto_resolve_rate: nn,
  gross_saving: n,
  ai_cost: n,
  saved_cost: n,
  equivalent_headcount: nn,
  cost_model: z.object({ cost_per_human_conversation: n, agent_monthly_cost: n, agent_monthly_capacity: nn }),
});

/** start_date defaults to the 1st of end_date's month ("this month"). */
export function monthRange(q: z.output<typeof rangeQuery>): DateRange {
  const end = q.end_date ?? todayIn(q.timezone);
  return resolveRange({ start_date: q.start_date ?? `${end.slice(0, 8)}01`, end_date: q.end_date }, { tz: q.timezone, defaultDays: 31, maxDays: 400 });
}
