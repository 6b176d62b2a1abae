/**
 * AI-assistant analytics (/api/analytics-monitoring/ai/...) and quality
 * audits (/api/analytics-monitoring/quality/...): token usage and cost per
 * model with built-in, configured and project prices; the quota cycle; the
 * ROI cost model; audit records created, reviewed, paged and summarised.
 * Expected numbers are computed here; the other project's tokens, settings,
 * prices and audits never show or change ours.
 */
import { comfortableZone, localDate, localMidnight, pct, round2, shiftDate, startApi, type ApiEnv } from './helpers';
import { DAY } from './fixtures/biz';

let env: ApiEnv;
const NOW = Date.now();
const TZ = comfortableZone(NOW);
const T0 = localMidnight(NOW, TZ);
const TODAY = localDate(NOW, TZ);
const AI = '/api/analytics-monitoring/ai';
const Q = '/api/analytics-monitoring/quality';

/** Prices per million tokens the test expects: built-in, configured (deepseek-chat), the project's own (my-local-llm). */
const PRICE: Record<string, [number, number]> = {
  'gpt-4o': [2.5, 10],
  'gpt-4o-mini': [0.15, 0.6],
  'claude-3-5-sonnet': [3, 15],
  'deepseek-chat': [1, 2],
  'my-local-llm': [0.5, 0.5],
  default: [1, 3],
};
const priceKey = (model: string) =>
  Object.keys(PRICE)
    .filter((k) => k !== 'default' && model.startsWith(k))
    .sort((a, b) => b.length - a.length)[0] ?? 'default';

interface Tok {
  name: string;
  timestamp: number;
  properties: Record<string, unknown>;
}
const MODELS = ['gpt-4o-2024-08-06', 'gpt-4o-mini-2024-07-18', 'claude-3-5-sonnet-20241022', 'deepseek-chat', 'my-local-llm', 'unknown-model', ''];
const tokens: Tok[] = [];
// Today (in TZ): one call per model and kind; 40 days ago: calls outside the quota cycle.
for (const [i, model] of MODELS.entries()) {
  const at = T0 + (i + 1) * 60_000;
  const m = model ? { model } : {};
  tokens.push({ name: 'llm.usage', timestamp: at, properties: { ...m, prompt_tokens: 1000 * (i + 1), completion_tokens: 300 * (i + 1) } });
  tokens.push({ name: 'message.ai', timestamp: at, properties: { ...m, tokens: 500 + i, response_time: 120 } });
  tokens.push({ name: 'message.ai', timestamp: at, properties: { ...m, total_tokens: 70, tokens: 9999 } });
  tokens.push({ name: 'llm.usage', timestamp: NOW - 40 * DAY - i * 1000, properties: { ...m, prompt_tokens: 50_000, completion_tokens: 5_000 } });
}
// Not token events: no token fields, or another name.
tokens.push({ name: 'message.ai', timestamp: T0 + 1000, properties: { model: 'gpt-4o', response_time: 100 } });
tokens.push({ name: 'chat.other', timestamp: T0 + 1000, properties: { model: 'gpt-4o', prompt_tokens: 1e6 } });

function split(t: Tok) {
  const p = t.properties as Record<string, number>;
  const hasSplit = 'prompt_tokens' in p || 'completion_tokens' in p;
  return { prompt: p.prompt_tokens ?? 0, completion: p.completion_tokens ?? 0, other: hasSplit ? 0 : (p.total_tokens ?? p.tokens ?? 0) };
}
const isToken = (t: Tok) =>
  ['llm.usage', 'message.ai'].includes(t.name) && ['prompt_tokens', 'completion_tokens', 'total_tokens', 'tokens'].some((k) => k in t.properties);
const costOf = (t: Tok) => {
  const [inp, out] = PRICE[priceKey(String(t.properties.model ?? ''))]!;
  const s = split(t);
  return (s.prompt * inp + (s.completion + s.other) * out) / 1e6;
};

const sessionsToday = 200;
const transfersToday = 38;

beforeAll(async () => {
  env = await startApi({ analytics: { tokenPrices: { 'deepseek-chat': [1, 2] }, currency: 'USD' } });
  await env.ingest(env.stack.project, [
    ...tokens,
    ...Array.from({ length: sessionsToday }, (_, i) => ({ name: 'session.start', timestamp: T0 + i * 1000, session_id: `s${i}` })),
    ...Array.from({ length: transfersToday }, (_, i) => ({ name: 'session.transfer', timestamp: T0 + i * 1000, session_id: `s${i}` })),
  ]);
  await env.ingest(env.other.project, [
    { name: 'llm.usage', timestamp: T0 + 1000, properties: { model: 'secret_b_model', prompt_tokens: 777_777, completion_tokens: 1 } },
    { name: 'session.start', timestamp: T0 + 1000 },
  ]);
  // The project's own price of one model; the other project prices gpt-4o absurdly (must not apply to us).
  expect(
    (await env.call('PUT', `${AI}/prices`, env.stack.keys.admin, { prices: [{ model: 'my-local-llm', input_per_million: 0.5, output_per_million: 0.5 }] }))
      .status,
  ).toBe(200);
  expect(
    (await env.call('PUT', `${AI}/prices`, env.other.admin, { prices: [{ model: 'gpt-4o', input_per_million: 1e5, output_per_million: 1e5 }] })).status,
  ).toBe(200);
  expect((await env.call('PUT', `${AI}/settings`, env.other.admin, { monthly_token_quota: 5, cost_per_human_conversation: 1000 })).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await env?.close();
});

describe('token usage and cost', () => {
  test('per model with the longest matching price, per day, totals; only token events of the range', async () => {
    const start = shiftDate(TODAY, -45);
    const res = await env.get(`${AI}/usage?start_date=${start}&end_date=${TODAY}&timezone=${encodeURIComponent(TZ)}`);
    expect(res.status).toBe(200);
    const sel = tokens.filter(isToken);
    const models = [...new Set(sel.map((t) => String(t.properties.model ?? '')))].map((model) => {
      const mine = sel.filter((t) => String(t.properties.model ?? '') === model);
      const sum = (k: 'prompt' | 'completion' | 'other') => mine.reduce((n, t) => n + split(t)[k], 0);
      const key = priceKey(model);
      return {
        model,
        calls: mine.length,
        prompt_tokens: sum('prompt'),
        completion_tokens: sum('completion'),
        other_tokens: sum('other'),
        total_tokens: sum('prompt') + sum('completion') + sum('other'),
        estimated_cost: mine.reduce((n, t) => n + costOf(t), 0),
        price: {
          matched: key,
          input_per_million: PRICE[key]![0],
          output_per_million: PRICE[key]![1],
          source: key === 'deepseek-chat' ? 'config' : key === 'my-local-llm' ? 'project' : 'builtin',
        },
      };
    });
    models.sort((a, b) => b.total_tokens - a.total_tokens || a.model.localeCompare(b.model));
    // Costs are rounded to 4 decimals after float sums: compared to 1e-4, everything else exactly.
    const noCost = <T extends { estimated_cost: number }>(x: T) => ({ ...x, estimated_cost: 0 });
    expect(res.json.models.map(noCost)).toEqual(models.map(noCost));
    res.json.models.forEach((m: { estimated_cost: number }, i: number) => expect(m.estimated_cost).toBeCloseTo(models[i]!.estimated_cost, 4));
    expect(noCost(res.json.totals)).toEqual({
      calls: sel.length,
      prompt_tokens: models.reduce((n, m) => n + m.prompt_tokens, 0),
      completion_tokens: models.reduce((n, m) => n + m.completion_tokens, 0),
      other_tokens: models.reduce((n, m) => n + m.other_tokens, 0),
      total_tokens: models.reduce((n, m) => n + m.total_tokens, 0),
      estimated_cost: 0,
    });
    expect(res.json.totals.estimated_cost).toBeCloseTo(
      sel.reduce((n, t) => n + costOf(t), 0),
      4,
    );
    expect(res.json.totals.estimated_cost).toBeGreaterThan(0.1);
    expect(res.json.daily.map((d: { date: string }) => d.date).sort()).toEqual([...new Set(sel.map((t) => localDate(t.timestamp, TZ)))].sort());
    expect(res.json).toMatchObject({ project_id: env.stack.project, currency: 'USD', start_date: start, end_date: TODAY });
    expect(res.text).not.toContain('secret_b');
    // A range of today only leaves out the calls of 40 days ago.
    const todayOnly = await env.get(`${AI}/usage?start_date=${TODAY}&timezone=${encodeURIComponent(TZ)}`);
    expect(todayOnly.json.totals.calls).toBe(sel.filter((t) => t.timestamp >= T0).length);
  });

  test('prices: built-in, configured and the project’s own; admins set and remove them', async () => {
    const res = await env.get(`${AI}/prices`);
    const byModel = Object.fromEntries(res.json.prices.map((p: { model: string }) => [p.model, p]));
    expect(byModel['my-local-llm']).toEqual({ model: 'my-local-llm', input_per_million: 0.5, output_per_million: 0.5, source: 'project' });
    expect(byModel['deepseek-chat'].source).toBe('config');
    expect(byModel['gpt-4o']).toEqual({ model: 'gpt-4o', input_per_million: 2.5, output_per_million: 10, source: 'builtin' });
    expect(res.json.prices[res.json.prices.length - 1].model).toBe('default');
    expect((await env.call('PUT', `${AI}/prices`, env.stack.keys.read, { prices: [{ model: 'x', input_per_million: 1, output_per_million: 1 }] })).status).toBe(
      403,
    );
    const bad = await env.call('PUT', `${AI}/prices`, env.stack.keys.admin, { prices: [{ model: 'x', input_per_million: -1, output_per_million: 1 }] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.context.issues[0].path).toBe('body.prices.0.input_per_million');
    expect(
      (await env.call('PUT', `${AI}/prices`, env.stack.keys.admin, { prices: [{ model: 'tmp-model', input_per_million: 1, output_per_million: 1 }] })).status,
    ).toBe(200);
    expect((await env.call('DELETE', `${AI}/prices?model=tmp-model`, env.stack.keys.admin)).status).toBe(200);
    expect((await env.call('DELETE', `${AI}/prices?model=tmp-model`, env.stack.keys.admin)).status).toBe(404);
    // The other project's gpt-4o price is its own.
    const theirs = await env.get(`${AI}/prices`, env.other.read);
    expect(theirs.json.prices.find((p: { model: string }) => p.model === 'gpt-4o').input_per_million).toBe(1e5);
  });

  test('quota: used tokens of the current cycle, percent, remaining, reset date; settings fall back to defaults', async () => {
    const none = await env.get(`${AI}/quota`);
    expect(none.json).toMatchObject({ tokens_total: null, usage_percent: null, remaining: null, over_quota: false, reset_day: 1, timezone: 'UTC' });
    const day = Math.min(Number(TODAY.slice(8, 10)), 28);
    const put = await env.call('PUT', `${AI}/settings`, env.stack.keys.admin, { monthly_token_quota: 50_000, quota_reset_day: day, quota_timezone: TZ });
    expect(put.status).toBe(200);
    expect(put.json.project).toMatchObject({ monthly_token_quota: 50_000, quota_reset_day: day, quota_timezone: TZ, cost_per_human_conversation: null });
    expect(put.json.effective).toMatchObject({ monthly_token_quota: 50_000, cost_per_human_conversation: 2, agent_monthly_cost: 4000, currency: 'USD' });
    const res = await env.get(`${AI}/quota`);
    expect(res.status).toBe(200);
    const cycleStart = `${TODAY.slice(0, 8)}${String(day).padStart(2, '0')}`;
    const next = new Date(Date.UTC(Number(TODAY.slice(0, 4)), Number(TODAY.slice(5, 7)), day)).toISOString().slice(0, 10);
    const inCycle = tokens.filter((t) => isToken(t) && localDate(t.timestamp, TZ) >= cycleStart);
    const used = inCycle.reduce((n, t) => n + split(t).prompt + split(t).completion + split(t).other, 0);
    expect(res.json.estimated_cost).toBeCloseTo(
      inCycle.reduce((n, t) => n + costOf(t), 0),
      4,
    );
    expect({ ...res.json, estimated_cost: 0 }).toEqual({
      tokens_used: used,
      tokens_total: 50_000,
      usage_percent: round2((used / 50_000) * 100),
      remaining: Math.max(0, 50_000 - used),
      over_quota: used > 50_000,
      cycle_start: cycleStart,
      reset_date: next,
      reset_day: day,
      timezone: TZ,
      estimated_cost: 0,
      currency: 'USD',
    });
    expect(used).toBeGreaterThan(0);
    const bad = await env.call('PUT', `${AI}/settings`, env.stack.keys.admin, { quota_reset_day: 29 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.context.issues[0].path).toBe('body.quota_reset_day');
    expect((await env.call('PUT', `${AI}/settings`, env.stack.keys.admin, { quota: 1 })).status).toBe(400);
    expect((await env.call('PUT', `${AI}/settings`, env.stack.keys.read, { monthly_token_quota: 1 })).status).toBe(403);
  });

  test('ROI: auto-resolved conversations, saved cost net of token cost, equivalent headcount with the project’s cost model', async () => {
    await env.call('PUT', `${AI}/settings`, env.stack.keys.admin, { cost_per_human_conversation: 3, agent_monthly_cost: 4500 });
    const res = await env.get(`${AI}/roi?start_date=${TODAY}&end_date=${TODAY}&timezone=${encodeURIComponent(TZ)}`);
    expect(res.status).toBe(200);
    const auto = sessionsToday - transfersToday;
    const aiCost = tokens.filter((t) => isToken(t) && t.timestamp >= T0).reduce((n, t) => n + costOf(t), 0);
    expect(res.json.ai_cost).toBeCloseTo(aiCost, 4);
    expect(res.json.saved_cost).toBeCloseTo(auto * 3 - aiCost, 4);
    expect({ ...res.json, ai_cost: 0, saved_cost: 0 }).toEqual({
      start_date: TODAY,
      end_date: TODAY,
      days: 1,
      timezone: TZ,
      currency: 'USD',
      sessions: sessionsToday,
      transferred: transfersToday,
      auto_resolved: auto,
      auto_resolve_rate: pct(auto, sessionsToday),
      gross_saving: auto * 3,
      ai_cost: 0,
      saved_cost: 0,
      equivalent_headcount: round2((auto / (4500 / 3)) * 30),
      cost_model: { cost_per_human_conversation: 3, agent_monthly_cost: 4500, agent_monthly_capacity: 1500 },
    });
    // null returns a setting to the platform default.
    const reset = await env.call('PUT', `${AI}/settings`, env.stack.keys.admin, { cost_per_human_conversation: null });
    expect(reset.json.effective.cost_per_human_conversation).toBe(2);
    expect(reset.json.project.agent_monthly_cost).toBe(4500);
  });
});

describe('quality audits', () => {
  const created: string[] = [];
  const post = (body: Record<string, unknown>, key = env.stack.keys.ingest) => env.call('POST', `${Q}/records`, key, body);

  beforeAll(async () => {
    const specs = [
      { score: 95, agent_id: 'a1', issues: [] },
      { score: 88, agent_id: 'a1', issues: ['slow reply'] },
      { score: 60, agent_id: 'a2', issues: ['wrong answer', { type: 'slow reply', severity: 'low' }] },
      { score: 72, agent_id: 'a2', issues: ['wrong answer'], status: 'failed' },
      { score: 79, agent_id: 'a3', issues: [{ type: 'rude', detail: 'tone', severity: 'high' }] },
      { score: 100, agent_id: 'a3', issues: [], audit_type: 'manual' },
    ];
    for (const [i, s] of specs.entries()) {
      const res = await post({
        session_id: `sess-${i}`,
        agent_name: `Agent ${s.agent_id}`,
        customer_name: 'John Doe',
        session_type: 'battery range',
        audited_at: new Date(NOW - (10 - i) * 60_000).toISOString(),
        ...s,
      });
      expect(res.status).toBe(201);
      created.push(res.json.id);
    }
    // An older audit (3 days ago) and the other project's.
    created.push((await post({ session_id: 'old', score: 50, issues: ['wrong answer'], audited_at: new Date(NOW - 3 * DAY).toISOString() })).json.id);
    await post({ session_id: 'secret_b_session', score: 1, issues: ['secret_b_issue'] }, env.other.ingest);
  });

  test('create: status from the pass score (80) unless given; issues normalised; validation names the field; roles', async () => {
    const list = await env.get(`${Q}/records?size=100`);
    const byId = new Map(list.json.items.map((x: { id: string }) => [x.id, x]));
    expect(created.map((id) => (byId.get(id) as { status: string }).status)).toEqual([
      'passed',
      'passed',
      'pending_review',
      'failed',
      'pending_review',
      'passed',
      'pending_review',
    ]);
    expect(byId.get(created[2]!)).toMatchObject({
      session_id: 'sess-2',
      agent_id: 'a2',
      agent: 'Agent a2',
      customer: 'John Doe',
      type: 'battery range',
      score: 60,
      final_score: null,
      effective_score: 60,
      audit_type: 'auto',
      issues: [{ type: 'wrong answer' }, { type: 'slow reply', severity: 'low' }],
    });
    const bad = await post({ session_id: 'x', score: 101 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.context.issues[0].path).toBe('body.score');
    const extra = await post({ session_id: 'x', score: 50, colour: 'red' });
    expect(extra.status).toBe(400);
    expect(extra.json.error.message).toMatch(/colour/);
    expect((await post({ session_id: 'x', score: 50 }, env.stack.keys.read)).status).toBe(403);
  });

  test('manual review sets the final score and status; only within the project; admin only', async () => {
    const id = created[2]!;
    expect((await env.call('POST', `${Q}/records/${id}/review`, env.stack.keys.read, { reviewer_id: 'r', final_score: 90 })).status).toBe(403);
    expect((await env.call('POST', `${Q}/records/${id}/review`, env.other.admin, { reviewer_id: 'r', final_score: 90 })).status).toBe(404);
    const res = await env.call('POST', `${Q}/records/${id}/review`, env.stack.keys.admin, {
      reviewer_id: 'lead-1',
      final_score: 85,
      comment: 'fine after all',
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id,
      score: 60,
      final_score: 85,
      effective_score: 85,
      status: 'passed',
      reviewed_by: 'lead-1',
      review_comment: 'fine after all',
    });
    expect(Date.parse(res.json.reviewed_at)).toBeGreaterThan(NOW - 60_000);
    const fail = await env.call('POST', `${Q}/records/${created[4]!}/review`, env.stack.keys.admin, { reviewer_id: 'lead-1', final_score: 70 });
    expect(fail.json.status).toBe('failed');
    const badId = await env.call('POST', `${Q}/records/not-a-uuid/review`, env.stack.keys.admin, { reviewer_id: 'r', final_score: 1 });
    expect(badId.status).toBe(400);
    expect(badId.json.error.context.issues[0].path).toBe('params.id');
  });

  test('paged list: newest first, page and size, filters', async () => {
    const p1 = await env.get(`${Q}/records?page=1&size=3`);
    const p3 = await env.get(`${Q}/records?page=3&size=3`);
    expect(p1.json).toMatchObject({ total: 7, page: 1, size: 3, pages: 3 });
    expect(p1.json.items.map((x: { session_id: string }) => x.session_id)).toEqual(['sess-5', 'sess-4', 'sess-3']);
    expect(p3.json.items.map((x: { session_id: string }) => x.session_id)).toEqual(['old']);
    expect((await env.get(`${Q}/records?agent_id=a2`)).json.items.map((x: { session_id: string }) => x.session_id)).toEqual(['sess-3', 'sess-2']);
    expect((await env.get(`${Q}/records?status=pending_review`)).json.total).toBe(1);
    const start = localDate(NOW - 3 * DAY, 'UTC');
    expect((await env.get(`${Q}/records?start_date=${start}&end_date=${start}`)).json.items.map((x: { session_id: string }) => x.session_id)).toEqual(['old']);
    expect((await env.get(`${Q}/records?size=101`)).status).toBe(400);
    expect((await env.get(`${Q}/records?status=great`)).json.error.context.issues[0].path).toBe('query.status');
    expect((await env.get(`${Q}/records?size=100`)).text).not.toContain('secret_b');
  });

  test('summary: pass rate of decided audits, pending reviews, average effective score, top issues', async () => {
    const res = await env.get(`${Q}/summary`);
    expect(res.status).toBe(200);
    // After the reviews: passed 95, 88, 85 (reviewed), 100; failed 72, 70 (reviewed); pending 50.
    expect(res.json).toEqual({
      audited_count: 7,
      passed: 4,
      failed: 2,
      pending_review: 1,
      reviewed: 2,
      by_audit_type: { auto: 6, manual: 1 },
      pass_rate: pct(4, 6),
      avg_score: round2((95 + 88 + 85 + 72 + 70 + 100 + 50) / 7),
      pass_score: 80,
      top_issues: [
        { type: 'wrong answer', count: 3 },
        { type: 'slow reply', count: 2 },
        { type: 'rude', count: 1 },
      ],
    });
    const today = await env.get(`${Q}/summary?start_date=${localDate(NOW, 'UTC')}`);
    expect(today.json.audited_count).toBe(6);
    const theirs = await env.get(`${Q}/summary`, env.other.read);
    expect(theirs.json.top_issues).toEqual([{ type: 'secret_b_issue', count: 1 }]);
  });
});
