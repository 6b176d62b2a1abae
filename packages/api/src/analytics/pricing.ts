import { z } from 'zod';
import { pgExec, pgMaybeOne, pgRows, type Queryable } from '@tidemark/core';
import { BUILTIN_TOKEN_PRICES, type AnalyticsOptions, type TokenPrice } from './options';

export type PriceSource = 'builtin' | 'config' | 'project';

export interface PriceEntry {
  model: string;
  input_per_million: number;
  output_per_million: number;
  source: PriceSource;
}

/**
 * The token prices a project pays: the built-in table, overlaid by
 * API_AI_TOKEN_PRICES, overlaid by the project's own rows. A model takes the
 * price of the longest entry its name starts with ("gpt-4o-2024-08-06" →
 * "gpt-4o"); no match (or no model name) takes "default".
 */
export class PriceBook {
  private readonly entries = new Map<string, PriceEntry>();

  constructor(configured: Record<string, TokenPrice>, project: { model: string; input_per_million: number; output_per_million: number }[]) {
    const put = (model: string, [input, output]: TokenPrice, source: PriceSource) =>
      this.entries.set(model, { model, input_per_million: input, output_per_million: output, source });
    for (const [m, p] of Object.entries(BUILTIN_TOKEN_PRICES)) put(m, p, 'builtin');
    for (const [m, p] of Object.entries(configured)) put(m, p, 'config');
    for (const r of project) put(r.model, [r.input_per_million, r.output_per_million], 'project');
  }

  /** Every entry, by model name ("default" last). */
  list(): PriceEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.model === 'default' ? 1 : b.model === 'default' ? -1 : a.model.localeCompare(b.model)));
  }

  /** The entry pricing `model`, and which key matched. */
  priceOf(model: string): PriceEntry {
    let best: PriceEntry | undefined;
    if (model !== '') {
      for (const e of this.entries.values()) {
        if (e.model !== 'default' && model.startsWith(e.model) && (!best || e.model.length > best.model.length)) best = e;
      }
    }
    return best ?? this.entries.get('default') ?? { model: 'default', input_per_million: 0, output_per_million: 0, source: 'builtin' };
  }

  /**
   * Estimated cost of token counts of a model. Tokens without a prompt /
   * completion split (other) are priced as completion tokens: an upper bound.
   */
  cost(model: string, t: { prompt_tokens: number; completion_tokens: number; other_tokens: number }): number {
    const p = this.priceOf(model);
    return (t.prompt_tokens * p.input_per_million + (t.completion_tokens + t.other_tokens) * p.output_per_million) / 1_000_000;
  }
}

const PRICES = {
  name: 'ai.prices',
  sql: 'SELECT model, input_per_million, output_per_million FROM ai_model_prices WHERE project_id = $1',
  // numeric columns arrive as text.
  row: z.object({ model: z.string(), input_per_million: z.coerce.number(), output_per_million: z.coerce.number() }),
};

export async function loadPriceBook(meta: Queryable, projectId: string, opts: AnalyticsOptions): Promise<PriceBook> {
  return new PriceBook(opts.tokenPrices, await pgRows(meta, PRICES, [projectId]));
}

/** A project's settings row; null columns fall back to the config. */
export interface ProjectSettingsRow {
  monthly_token_quota: number | null;
  quota_reset_day: number | null;
  quota_timezone: string | null;
  cost_per_human_conversation: number | null;
  agent_monthly_cost: number | null;
}

export const SETTING_COLUMNS = ['monthly_token_quota', 'quota_reset_day', 'quota_timezone', 'cost_per_human_conversation', 'agent_monthly_cost'] as const;

const nullableNumber = z.union([z.number(), z.string(), z.null()]).transform((v) => (v === null ? null : Number(v)));
const SETTINGS = {
  name: 'ai.project_settings',
  sql: `SELECT ${SETTING_COLUMNS.join(', ')} FROM ai_project_settings WHERE project_id = $1`,
  row: z.object({
    monthly_token_quota: nullableNumber,
    quota_reset_day: nullableNumber,
    quota_timezone: z.string().nullable(),
    cost_per_human_conversation: nullableNumber,
    agent_monthly_cost: nullableNumber,
  }),
};
const NO_SETTINGS: ProjectSettingsRow = {
  monthly_token_quota: null,
  quota_reset_day: null,
  quota_timezone: null,
  cost_per_human_conversation: null,
  agent_monthly_cost: null,
};

/** The project's settings row; all null when it has none. */
export async function loadProjectSettings(meta: Queryable, projectId: string): Promise<ProjectSettingsRow> {
  return (await pgMaybeOne(meta, SETTINGS, [projectId])) ?? { ...NO_SETTINGS };
}

/** Writes every setting column of the project (null: the platform default). */
export async function saveProjectSettings(meta: Queryable, projectId: string, row: ProjectSettingsRow): Promise<void> {
  await pgExec(
    meta,
    `INSERT INTO ai_project_settings (project_id, ${SETTING_COLUMNS.join(', ')}, updated_at) VALUES ($1, $2, $3, $4, $5, $6, now())
     ON CONFLICT (project_id) DO UPDATE SET ${SETTING_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, updated_at = now()`,
    [projectId, ...SETTING_COLUMNS.map((c) => row[c])],
  );
}

/** Sets the project's own price of a model. */
export async function saveModelPrice(
  meta: Queryable,
  projectId: string,
  p: { model: string; input_per_million: number; output_per_million: number },
): Promise<void> {
  await pgExec(
    meta,
    `INSERT INTO ai_model_prices (project_id, model, input_per_million, output_per_million) VALUES ($1, $2, $3, $4)
     ON CONFLICT (project_id, model) DO UPDATE SET input_per_million = EXCLUDED.input_per_million, output_per_million = EXCLUDED.output_per_million, updated_at = now()`,
    [projectId, p.model, p.input_per_million, p.output_per_million],
  );
}

/** Removes the project's own price of a model; whether there was one. */
export async function deleteModelPrice(meta: Queryable, projectId: string, model: string): Promise<boolean> {
  return (await pgExec(meta, 'DELETE FROM ai_model_prices WHERE project_id = $1 AND model = $2', [projectId, model])) > 0;
}

/** The values in force for a project: its own where set, else the config's. */
export function effectiveSettings(row: ProjectSettingsRow, opts: AnalyticsOptions) {
  return {
    currency: opts.currency,
    monthly_token_quota: row.monthly_token_quota ?? opts.monthlyTokenQuota,
    quota_reset_day: row.quota_reset_day ?? opts.quotaResetDay,
    quota_timezone: row.quota_timezone ?? 'UTC',
    cost_per_human_conversation: row.cost_per_human_conversation ?? opts.costPerHumanConversation,
    agent_monthly_cost: row.agent_monthly_cost ?? opts.agentMonthlyCost,
  };
}
export type EffectiveSettings = ReturnType<typeof effectiveSettings>;
