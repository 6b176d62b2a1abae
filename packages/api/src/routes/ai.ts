import type { RouterContext } from '@koa/router';
import { NotFoundError, type ClickHouse } from '@tidemark/core';
import type { Pool } from 'pg';
import { z } from 'zod';
import { cached, TTL } from '../analytics/cached';
import { addMonths, dateParam, percent, resolveRange, round, timezoneParam, todayIn, type DateRange } from '../analytics/dates';
import { dailyEvents, tokenUsage, type TokenRow } from '../analytics/events';
import type { AnalyticsOptions } from '../analytics/options';
import {
  deleteModelPrice,
  effectiveSettings,
  loadPriceBook,
  loadProjectSettings,
  saveModelPrice,
  saveProjectSettings,
  SETTING_COLUMNS,
  type EffectiveSettings,
  type PriceBook,
  type ProjectSettingsRow,
} from '../analytics/pricing';
import { route, type AnyRoute } from '../http/route';
import type { QueryCache } from '../query/cache';

/**
 * AI-assistant analytics of the requirements (/api/analytics-monitoring/ai/...):
 * token usage and estimated cost per model, the monthly quota, the ROI
 * estimate, and the project's settings and prices behind them.
 */

const money = (v: number): number => round(v, 4);

/** The quota cycle containing `today`: from the last reset day (inclusive) to the next (exclusive). */
export function quotaCycle(today: string, resetDay: number): { start: string; next: string } {
  const day = Number(today.slice(8, 10));
  let start = `${today.slice(0, 8)}${String(resetDay).padStart(2, '0')}`;
  if (day < resetDay) start = addMonths(start, -1);
  return { start, next: addMonths(start, 1) };
}

interface ModelUsage {
  model: string;
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  other_tokens: number;
  total_tokens: number;
  estimated_cost: number;
  price: { matched: string; input_per_million: number; output_per_million: number; source: string };
}

/** Sums token rows per model and per day, priced with the project's price book. */
export function summarizeTokens(rows: TokenRow[], book: PriceBook) {
  const models = new Map<string, Omit<ModelUsage, 'estimated_cost' | 'price' | 'total_tokens'>>();
  const days = new Map<string, { date: string; calls: number; total_tokens: number; cost: number }>();
  let cost = 0;
  for (const r of rows) {
    const m = models.get(r.model) ?? { model: r.model, calls: 0, prompt_tokens: 0, completion_tokens: 0, other_tokens: 0 };
    m.calls += r.calls;
    m.prompt_tokens += r.prompt_tokens;
    m.completion_tokens += r.completion_tokens;
    m.other_tokens += r.other_tokens;
    models.set(r.model, m);
    const c = book.cost(r.model, r);
    cost += c;
    const d = days.get(r.day) ?? { date: r.day, calls: 0, total_tokens: 0, cost: 0 };
    d.calls += r.calls;
    d.total_tokens += r.prompt_tokens + r.completion_tokens + r.other_tokens;
    d.cost += c;
    days.set(r.day, d);
  }
  const byModel: ModelUsage[] = [...models.values()]
    .map((m) => {
      const p = book.priceOf(m.model);
      return {
        ...m,
        total_tokens: m.prompt_tokens + m.completion_tokens + m.other_tokens,
        estimated_cost: money(book.cost(m.model, m)),
        price: { matched: p.model, input_per_million: p.input_per_million, output_per_million: p.output_per_million, source: p.source },
      };
    })
    .sort((a, b) => b.total_tokens - a.total_tokens || a.model.localeCompare(b.model));
  const sum = (k: 'calls' | 'prompt_tokens' | 'completion_tokens' | 'other_tokens' | 'total_tokens') => byModel.reduce((n, m) => n + m[k], 0);
  return {
    totals: {
      calls: sum('calls'),
      prompt_tokens: sum('prompt_tokens'),
      completion_tokens: sum('completion_tokens'),
      other_tokens: sum('other_tokens'),
      total_tokens: sum('total_tokens'),
      estimated_cost: money(cost),
    },
    models: byModel,
    daily: [...days.values()]
      .sort((a, b) => a.date.localeCompare(b.date))
      .map((d) => ({ date: d.date, calls: d.calls, total_tokens: d.total_tokens, estimated_cost: money(d.cost) })),
  };
}

// Answers (response schemas): what the handlers below return, documented in /openapi.json.
const n = z.number();
const nn = z.number().nullable();
const priceEntry = z.object({ model: z.string(), input_per_million: n, output_per_million: n, source: z.enum(['builtin', 'config', 'project']) });
const pricesResponse = z.object({ currency: z.string(), prices: z.array(priceEntry) });
const settingsResponse = z.object({
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
const usageResponse = z.object({
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

const rangeQuery = z.object({
  start_date: dateParam.optional().describe('first day (YYYY-MM-DD, in timezone); default the 1st of the current month'),
  end_date: dateParam.optional().describe('last day, inclusive; default today'),
  timezone: timezoneParam,
});

/** start_date defaults to the 1st of end_date's month ("this month"). */
function monthRange(q: z.output<typeof rangeQuery>): DateRange {
  const end = q.end_date ?? todayIn(q.timezone);
  return resolveRange({ start_date: q.start_date ?? `${end.slice(0, 8)}01`, end_date: q.end_date }, { tz: q.timezone, defaultDays: 31, maxDays: 400 });
}

const settingsBody = z
  .object({
    monthly_token_quota: z.number().int().min(0).max(1e15).nullable().optional().describe('tokens per cycle; 0 = no quota; null = the platform default'),
    quota_reset_day: z.number().int().min(1).max(28).nullable().optional().describe('day of month (1-28) the cycle starts; null = default'),
    quota_timezone: timezoneParam.unwrap().nullable().optional().describe('zone of the reset day; null = UTC'),
    cost_per_human_conversation: z.number().min(0).max(1e9).nullable().optional().describe('ROI: cost of a conversation a human handles; null = default'),
    agent_monthly_cost: z.number().positive().max(1e12).nullable().optional().describe('ROI: monthly cost of one human agent; null = default'),
  })
  .strict();

const priceItem = z.object({
  model: z.string().min(1).max(200).describe('model name or prefix; "default" prices every model without a match'),
  input_per_million: z.number().min(0).max(1e6),
  output_per_million: z.number().min(0).max(1e6),
});

const quotaResponse = z.object({
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
const roiResponse = z.object({
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

/** Where the current quota cycle stands: tokens used against the quota (0 = none), and when it resets. */
function quotaFigures(s: EffectiveSettings, cycle: { start: string; next: string }, used: { total_tokens: number; estimated_cost: number }) {
  const quota = s.monthly_token_quota > 0 ? s.monthly_token_quota : null;
  return {
    tokens_used: used.total_tokens,
    tokens_total: quota,
    usage_percent: quota === null ? null : round((used.total_tokens / quota) * 100),
    remaining: quota === null ? null : Math.max(0, quota - used.total_tokens),
    over_quota: quota !== null && used.total_tokens > quota,
    cycle_start: cycle.start,
    reset_date: cycle.next,
    reset_day: s.quota_reset_day,
    timezone: s.quota_timezone,
    estimated_cost: used.estimated_cost,
    currency: s.currency,
  };
}

/** The ROI estimate: sessions the AI resolved without a transfer, the human cost they saved net of the token cost, and the headcount that equals. */
function roiFigures(i: {
  range: DateRange;
  timezone: string;
  activity: { sessions: number; transfers: number }[];
  aiCost: number;
  settings: EffectiveSettings;
}) {
  const { range: r, activity, aiCost, settings: s } = i;
  const sessions = activity.reduce((n, d) => n + d.sessions, 0);
  const transferred = activity.reduce((n, d) => n + d.transfers, 0);
  const autoResolved = Math.max(0, sessions - transferred);
  const gross = autoResolved * s.cost_per_human_conversation;
  const capacity = s.cost_per_human_conversation > 0 ? s.agent_monthly_cost / s.cost_per_human_conversation : null;
  return {
    start_date: r.start,
    end_date: r.end,
    days: r.days,
    timezone: i.timezone,
    currency: s.currency,
    sessions,
    transferred,
    auto_resolved: autoResolved,
    auto_resolve_rate: percent(autoResolved, sessions),
    gross_saving: money(gross),
    ai_cost: aiCost,
    saved_cost: money(gross - aiCost),
    equivalent_headcount: capacity === null ? null : round((autoResolved / capacity) * (30 / r.days)),
    cost_model: {
      cost_per_human_conversation: s.cost_per_human_conversation,
      agent_monthly_cost: s.agent_monthly_cost,
      agent_monthly_capacity: capacity === null ? null : round(capacity),
    },
  };
}

type AiDeps = { clickhouse: ClickHouse; meta: Pool; cache: QueryCache; options: AnalyticsOptions };
const base = '/api/analytics-monitoring/ai';

/** What both groups of AI routes read: token rows (cached per window) and the project's settings. */
function aiContext(deps: AiDeps) {
  const tokens = tokenUsage(deps.clickhouse);
  const daily = dailyEvents(deps.clickhouse);
  const tokenRows = (ctx: RouterContext, project: string, tz: string, start: string, end: string) =>
    cached(deps.cache, ctx, project, 'ai.tokens', { tz, start, end }, TTL.ai, () => tokens({ project, tz, start, end }));

  const settingsOut = async (projectId: string) => {
    const row = await loadProjectSettings(deps.meta, projectId);
    return { effective: effectiveSettings(row, deps.options), project: row };
  };

  return { tokenRows, settingsOut, daily };
}

export function aiRoutes(deps: AiDeps): AnyRoute[] {
  const c = aiContext(deps);
  return [...aiStatisticsRoutes(deps, c), ...aiSettingsRoutes(deps, c)];
}

/** Token usage and cost, the quota of the current cycle, the ROI estimate. */
function aiStatisticsRoutes(deps: AiDeps, { tokenRows, settingsOut, daily }: ReturnType<typeof aiContext>): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: `${base}/usage`,
      summary: 'Token usage and estimated cost of the project per model and per day (message.ai / llm.usage events)',
      tag: 'ai',
      auth: 'read',
      response: usageResponse,
      query: rangeQuery,
      async handler({ query, principal, ctx }) {
        const r = monthRange(query);
        const [rows, book] = await Promise.all([
          tokenRows(ctx, principal.projectId, query.timezone, r.start, r.end),
          loadPriceBook(deps.meta, principal.projectId, deps.options),
        ]);
        return {
          project_id: principal.projectId,
          start_date: r.start,
          end_date: r.end,
          timezone: query.timezone,
          currency: deps.options.currency,
          ...summarizeTokens(rows, book),
        };
      },
    }),
    route({
      method: 'get',
      path: `${base}/quota`,
      summary: 'Token quota of the current cycle: used, total, usage percent, remaining, reset date',
      tag: 'ai',
      auth: 'read',
      response: quotaResponse,
      async handler({ principal, ctx }) {
        const [{ effective: s }, book] = await Promise.all([settingsOut(principal.projectId), loadPriceBook(deps.meta, principal.projectId, deps.options)]);
        const today = todayIn(s.quota_timezone);
        const cycle = quotaCycle(today, s.quota_reset_day);
        const rows = await tokenRows(ctx, principal.projectId, s.quota_timezone, cycle.start, today);
        return quotaFigures(s, cycle, summarizeTokens(rows, book).totals);
      },
    }),
    route({
      method: 'get',
      path: `${base}/roi`,
      summary: 'ROI estimate: conversations the AI resolved without a human, saved cost net of token cost, equivalent headcount (configurable cost model)',
      tag: 'ai',
      auth: 'read',
      response: roiResponse,
      query: rangeQuery,
      async handler({ query, principal, ctx }) {
        const r = monthRange(query);
        const args = { project: principal.projectId, tz: query.timezone, start: r.start, end: r.end };
        const [activity, rows, book, { effective: s }] = await Promise.all([
          cached(deps.cache, ctx, principal.projectId, 'ai.roi.activity', args, TTL.ai, async () => [...(await daily.activity(args)).values()]),
          tokenRows(ctx, principal.projectId, query.timezone, r.start, r.end),
          loadPriceBook(deps.meta, principal.projectId, deps.options),
          settingsOut(principal.projectId),
        ]);
        return roiFigures({ range: r, timezone: query.timezone, activity, aiCost: summarizeTokens(rows, book).totals.estimated_cost, settings: s });
      },
    }),
  ];
}

/** The project's quota and ROI settings and its own token prices. */
function aiSettingsRoutes(deps: AiDeps, { settingsOut }: ReturnType<typeof aiContext>): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: `${base}/settings`,
      summary: "The project's quota and ROI settings: the values in force and the project's own (null = platform default)",
      tag: 'ai',
      auth: 'read',
      response: settingsResponse,
      async handler({ principal }) {
        return settingsOut(principal.projectId);
      },
    }),
    route({
      method: 'put',
      path: `${base}/settings`,
      summary: "Sets the project's quota and ROI settings; omitted fields stay, null returns a field to the platform default",
      tag: 'ai',
      auth: 'admin',
      response: settingsResponse,
      body: settingsBody,
      async handler({ body, principal }) {
        const row = await loadProjectSettings(deps.meta, principal.projectId);
        const next: ProjectSettingsRow = { ...row };
        for (const k of SETTING_COLUMNS) if (body[k] !== undefined) Object.assign(next, { [k]: body[k] });
        await saveProjectSettings(deps.meta, principal.projectId, next);
        return settingsOut(principal.projectId);
      },
    }),
    route({
      method: 'get',
      path: `${base}/prices`,
      summary: 'Token prices in force for the project (built-in, configured, the project’s own), per million tokens',
      tag: 'ai',
      auth: 'read',
      response: pricesResponse,
      async handler({ principal }) {
        const book = await loadPriceBook(deps.meta, principal.projectId, deps.options);
        return { currency: deps.options.currency, prices: book.list() };
      },
    }),
    route({
      method: 'put',
      path: `${base}/prices`,
      summary: "Sets the project's price of models (per million prompt and completion tokens)",
      tag: 'ai',
      auth: 'admin',
      response: pricesResponse,
      body: z.object({ prices: z.array(priceItem).min(1).max(100) }),
      async handler({ body, principal }) {
        for (const p of body.prices) await saveModelPrice(deps.meta, principal.projectId, p);
        const book = await loadPriceBook(deps.meta, principal.projectId, deps.options);
        return { currency: deps.options.currency, prices: book.list() };
      },
    }),
    route({
      method: 'delete',
      path: `${base}/prices`,
      summary: "Removes the project's own price of a model (the configured or built-in price applies again)",
      tag: 'ai',
      auth: 'admin',
      response: z.object({ deleted: z.string() }),
      query: z.object({ model: z.string().min(1).max(200) }),
      async handler({ query, principal }) {
        if (!(await deleteModelPrice(deps.meta, principal.projectId, query.model)))
          throw new NotFoundError(`the project has no price of its own for model ${JSON.stringify(query.model)}`);
        return { deleted: query.model };
      },
    }),
  ];
}
