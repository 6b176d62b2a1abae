/**
 * The AI analytics' figures, computed from rows already read: token usage
 * and cost per model and day, the quota cycle and where it stands, the ROI
 * estimate. No I/O: the routes (../ai.ts) read and hand the rows in.
 */
import { addMonths, percent, round, type DateRange } from '../../analytics/dates';
import type { TokenRow } from '../../analytics/events';
import type { EffectiveSettings, PriceBook } from '../../analytics/pricing';

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

/** Where the current quota cycle stands: tokens used against the quota (0 = none), and when it resets. */
export function quotaFigures(s: EffectiveSettings, cycle: { start: string; next: string }, used: { total_tokens: number; estimated_cost: number }) {
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
export function roiFigures(i: {
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
