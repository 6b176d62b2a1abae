import type { ApiRoleConfig } from '../settings';

/** Token price of a model: currency units per million prompt (input) and completion (output) tokens. */
export type TokenPrice = readonly [input: number, output: number];

/**
 * Built-in token prices in USD per million tokens (list prices of the
 * providers at the time of writing; check yours). `default` prices every
 * model no longer prefix matches. API_AI_TOKEN_PRICES adds to or replaces
 * entries; a project overrides single models in ai_model_prices.
 */
export const BUILTIN_TOKEN_PRICES: Readonly<Record<string, TokenPrice>> = {
  'gpt-4o': [2.5, 10],
  'gpt-4o-mini': [0.15, 0.6],
  'gpt-4.1': [2, 8],
  'gpt-4.1-mini': [0.4, 1.6],
  'claude-3-5-sonnet': [3, 15],
  'claude-sonnet-4': [3, 15],
  'claude-3-5-haiku': [0.8, 4],
  'deepseek-chat': [0.27, 1.1],
  default: [1, 3],
};

/** The analytics settings the query API takes from the config (API_AI_*, API_ROI_*, API_QUALITY_*). */
export interface AnalyticsOptions {
  /** Configured prices (API_AI_TOKEN_PRICES), over the built-in table. */
  tokenPrices: Record<string, TokenPrice>;
  currency: string;
  monthlyTokenQuota: number;
  quotaResetDay: number;
  costPerHumanConversation: number;
  agentMonthlyCost: number;
  qualityPassScore: number;
  /** Currency of business order amounts (BUSINESS_CURRENCY), named next to every amount. */
  businessCurrency: string;
  /** Order statuses counted as net revenue (BUSINESS_NET_ORDER_STATUSES). */
  netOrderStatuses: string[];
}

/** Same values as the config schema's defaults. */
export const DEFAULT_ANALYTICS_OPTIONS: AnalyticsOptions = {
  tokenPrices: {},
  currency: 'USD',
  monthlyTokenQuota: 0,
  quotaResetDay: 1,
  costPerHumanConversation: 2,
  agentMonthlyCost: 4000,
  qualityPassScore: 80,
  businessCurrency: 'USD',
  netOrderStatuses: ['paid', 'completed'],
};

export function analyticsOptionsFromConfig(config: ApiRoleConfig): AnalyticsOptions {
  return {
    tokenPrices: config.API_AI_TOKEN_PRICES,
    currency: config.API_AI_CURRENCY,
    monthlyTokenQuota: config.API_AI_MONTHLY_TOKEN_QUOTA,
    quotaResetDay: config.API_AI_QUOTA_RESET_DAY,
    costPerHumanConversation: config.API_ROI_COST_PER_HUMAN_CONVERSATION,
    agentMonthlyCost: config.API_ROI_AGENT_MONTHLY_COST,
    qualityPassScore: config.API_QUALITY_PASS_SCORE,
    businessCurrency: config.BUSINESS_CURRENCY,
    netOrderStatuses: config.BUSINESS_NET_ORDER_STATUSES,
  };
}
