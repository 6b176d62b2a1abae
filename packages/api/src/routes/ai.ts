import type { RouterContext } from '@koa/router';
import { NotFoundError, type ClickHouse } from '@tidemark/core';
import type { Pool } from 'pg';
import { z } from 'zod';
import { cached, TTL } from '../analytics/cached';
import { todayIn } from '../analytics/dates';
import { dailyEvents, tokenUsage } from '../analytics/events';
import type { AnalyticsOptions } from '../analytics/options';
import {
  deleteModelPrice,
  effectiveSettings,
  loadPriceBook,
  loadProjectSettings,
  saveModelPrice,
  saveProjectSettings,
  SETTING_COLUMNS,
  type ProjectSettingsRow,
} from '../analytics/pricing';
import { route, type AnyRoute } from '../http/route';
import type { QueryCache } from '../query/cache';
import { quotaCycle, quotaFigures, roiFigures, summarizeTokens } from './ai/figures';
import { monthRange, priceItem, pricesResponse, quotaResponse, rangeQuery, roiResponse, settingsBody, settingsResponse, usageResponse } from './ai/schemas';

/**
 * AI-assistant analytics of the requirements (/api/analytics-monitoring/ai/...):
 * token usage and estimated cost per model, the monthly quota, the ROI
 * estimate, and the project's settings and prices behind them.
 *
 * This file wires the routes: what each reads and hands to the figures
 * (ai/figures.ts); their request and response schemas are in ai/schemas.ts.
 */

export { quotaCycle, summarizeTokens } from './ai/figures';

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
