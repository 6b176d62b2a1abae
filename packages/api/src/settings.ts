import { z } from 'zod';
import { configFields, configSchema, type Config } from '@tidemark/core';

const { jsonEnv, optional } = configFields;

/**
 * This role's settings (the query API: AI cost and quota, ROI model, quality audits, business currency, the dashboard build), by environment variable name, with a
 * comment per key. The CLI composes every role's slice with core's into the
 * platform schema (packages/cli/src/config.ts), parsed once at start.
 */
export const apiSettings = z.object({
  /** AI cost estimate (ai/usage, ai/quota, ai/roi): token prices as JSON {"model": [input, output]}, in API_AI_CURRENCY per million prompt and completion tokens. A model takes the price of its longest listed prefix; the key "default" prices every other model. Entries add to or replace the built-in USD table (docs/api.md); a project overrides single models with PUT /api/analytics-monitoring/ai/prices. */
  API_AI_TOKEN_PRICES: jsonEnv(
    z.record(z.string().min(1).max(200), z.tuple([z.number().min(0), z.number().min(0)]), {
      error: 'must be a JSON object of "model": [input, output] prices per million tokens',
    }),
  ).default({}),
  /** Currency (ISO 4217) of token prices and of the ROI cost model. The built-in token prices are USD: set API_AI_TOKEN_PRICES too when you change it. */
  API_AI_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD or CNY')
    .default('USD'),
  /** Monthly token quota of a project that has none of its own (PUT /api/analytics-monitoring/ai/settings); 0 = no quota. */
  API_AI_MONTHLY_TOKEN_QUOTA: z.coerce.number().int().min(0).default(0),
  /** Day of the month (1-28) token quotas reset on, for projects that set none of their own. */
  API_AI_QUOTA_RESET_DAY: z.coerce.number().int().min(1).max(28).default(1),
  /** ROI cost model: what one conversation handled by a human agent costs, in API_AI_CURRENCY; each conversation the AI resolves alone saves this (projects may override). */
  API_ROI_COST_PER_HUMAN_CONVERSATION: z.coerce.number().min(0).default(2),
  /** ROI cost model: monthly cost of one human agent in API_AI_CURRENCY; divided by the cost per conversation it is an agent's monthly capacity, which gives the equivalent headcount (projects may override). */
  API_ROI_AGENT_MONTHLY_COST: z.coerce.number().positive().default(4000),
  /** Quality audits: score (0-100) at or above which an audit created or reviewed without an explicit status passes. */
  API_QUALITY_PASS_SCORE: z.coerce.number().int().min(0).max(100).default(80),
  /** Currency (ISO 4217) of the business tables' order amounts (biz_orders_v1.amount). The ETL copies amounts without a currency, so the API names this one with every amount it answers and the dashboard shows it; USD only because most demo and test data is priced in it — set the currency your source database records. */
  BUSINESS_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD or CNY')
    .default('USD'),
  /** Order statuses that count as net revenue (money actually received): comma-separated, matched exactly against biz_orders_v1.status. Gross revenue counts every order whatever its status; net excludes pending, cancelled and refunded orders. */
  BUSINESS_NET_ORDER_STATUSES: z
    .string()
    .default('paid,completed')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    )
    .pipe(z.array(z.string().max(200)).min(1, 'must list at least one order status')),
  /** Directory of the dashboard build the API serves at / (index.html and assets/). Unset: the dist/ of the installed @tidemark/web package (npm run build makes it). */
  API_DASHBOARD_DIR: optional(z.string().min(1)),
});

/** The configuration this role runs with: core's settings and its own. */
export const apiRoleConfigSchema = configSchema.extend(apiSettings.shape);
export type ApiRoleConfig = Config & z.output<typeof apiSettings>;
