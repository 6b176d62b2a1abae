/**
 * Alerts and ETL status on the query API, over the real stack (chDB over
 * HTTP, Postgres): a rule created through the API, evaluated by the real
 * alert engine on ingested events, listed, acknowledged and silenced through
 * the API; rule validation against ClickHouse; preview; and tenant
 * isolation (another project's key sees nothing and changes nothing, and
 * gets 404 rather than 403 so it learns nothing of what exists).
 */
import { evaluateRules, startApi, type ApiEnv } from './helpers';

let env: ApiEnv;
const MIN = 60_000;
/** Unique per test run: the rule names live in one Postgres schema, but keep them apart from any other run. */
const uniqueRule = (prefix: string): string => `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
const BASE = '/api/analytics-monitoring/alerts';

/** A rule over the project's real events: failed checkouts in the hour before {now}. */
const failedCheckouts = (name: string) => ({
  name,
  description: 'too many failed checkouts',
  sql: `SELECT name, toFloat64(count()) AS value FROM events_raw_v1
        WHERE project_id = {project_id:String} AND name = 'checkout.failed'
          AND timestamp > {now:DateTime64(3, 'UTC')} - INTERVAL 1 HOUR AND timestamp <= {now:DateTime64(3, 'UTC')}
        GROUP BY name`,
  condition: { op: '>', threshold: 2 },
  severity: 'CRITICAL',
  no_data: { state: 'ok' },
  annotations: { summary: '{{ value }} failed checkouts in the last hour' },
});

let ruleA: string;
let fingerprintA: string;
const eventsAt = Date.now() - 10 * MIN;

beforeAll(async () => {
  env = await startApi();
  // Project A: 5 failed checkouts 10 minutes ago; project B: 7, which A's rule must not count.
  const failed = (n: number, who: string) =>
    Array.from({ length: n }, (_, i) => ({
      name: 'checkout.failed',
      timestamp: eventsAt + i * 1000,
      distinct_id: `${who}${i}`,
      properties: { amount: 10 + i },
    }));
  await env.ingest(env.stack.project, failed(5, 'a'));
  await env.ingest(env.other.project, failed(7, 'b'));

  ruleA = uniqueRule('CheckoutFailures');
  // Critical alerts go to the built-in log channel at once (the default route waits 30 s to group).
  const policy = await env.call('PUT', `${BASE}/policy`, env.stack.keys.admin, {
    routes: [{ name: 'page', matchers: ['severity="CRITICAL"'], channels: ['log'], group_wait: '0s' }],
  });
  expect(policy.status).toBe(200);
  expect(policy.json.effective).toEqual({ channels: ['log'], routes: ['page', 'default'] });
  const created = await env.call('POST', `${BASE}/rules`, env.stack.keys.admin, { ...failedCheckouts(ruleA), interval: '1s' });
  expect(created.status).toBe(201);
  // The real engine (as the alerting role runs it, on the system clock): the rule is due at its
  // first slot (interval 1s, evaluations not spread), evaluated once, and fires.
  expect(await evaluateRules({ config: env.config(), meta: env.stack.meta, readonly: env.deps.readonlyClickhouse, logger: env.deps.logger })).toBe(1);
}, 120_000);

afterAll(async () => {
  await env?.close();
});

describe('active alerts', () => {
  test('a rule evaluated by the engine is listed with its value, labels, severity and rendered annotations', async () => {
    const r = await env.get(`${BASE}/active`);
    expect(r.status).toBe(200);
    expect(r.json.items).toHaveLength(1);
    const a = r.json.items[0];
    expect(a).toMatchObject({
      rule: ruleA,
      kind: 'alert',
      state: 'firing',
      severity: 'CRITICAL',
      value: 5,
      labels: { name: 'checkout.failed', alertname: ruleA, severity: 'CRITICAL' },
      annotations: { summary: '5 failed checkouts in the last hour' },
      acknowledged: null,
      mutedBy: null,
    });
    expect(a.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    fingerprintA = a.fingerprint;
    // Filters: by state and severity.
    expect((await env.get(`${BASE}/active?state=pending,recovering`)).json.items).toEqual([]);
    expect((await env.get(`${BASE}/active?state=firing&severity=CRITICAL&rule=${ruleA}`)).json.items).toHaveLength(1);
    expect((await env.get(`${BASE}/active?severity=INFO`)).json.items).toEqual([]);
    const bad = await env.get(`${BASE}/active?state=burning&limit=0`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.context.issues.map((i: any) => i.path).sort()).toEqual(['query.limit', 'query.state.0']);
  });

  test('acknowledge: admin only; visible on the alert and in the history', async () => {
    const path = `${BASE}/active/${ruleA}/${fingerprintA}/acknowledge`;
    expect((await env.call('POST', path, env.stack.keys.read, { by: 'alice' })).status).toBe(403);
    const noBy = await env.call('POST', path, env.stack.keys.admin, {});
    expect(noBy.status).toBe(400);
    expect(noBy.json.error.context.issues[0].path).toBe('body.by');
    const badFp = await env.call('POST', `${BASE}/active/${ruleA}/not-a-fingerprint/acknowledge`, env.stack.keys.admin, { by: 'alice' });
    expect(badFp.status).toBe(400);
    expect(badFp.json.error.context.issues[0].path).toBe('params.fingerprint');

    const ack = await env.call('POST', path, env.stack.keys.admin, { by: 'alice', comment: 'looking at the payment provider' });
    expect(ack.status).toBe(200);
    expect(ack.json).toMatchObject({
      rule: ruleA,
      fingerprint: fingerprintA,
      state: 'firing',
      acknowledged: { by: 'alice', comment: 'looking at the payment provider' },
    });
    expect(Date.now() - Date.parse(ack.json.acknowledged.at)).toBeLessThan(60_000);

    const listed = await env.get(`${BASE}/active`);
    expect(listed.json.items[0].acknowledged).toEqual(ack.json.acknowledged);

    const history = await env.get(`${BASE}/history?rule=${ruleA}`);
    expect(history.status).toBe(200);
    // Newest first: the acknowledgement, then the firing transition of the evaluation.
    expect(history.json.items.map((h: any) => [h.from, h.to, h.detail])).toEqual([
      ['firing', 'firing', 'acknowledged by alice: looking at the payment provider'],
      ['inactive', 'firing', null],
    ]);
    expect(history.json.items[1]).toMatchObject({ fingerprint: fingerprintA, value: 5, severity: 'CRITICAL', episode: 1 });
    const page = await env.get(`${BASE}/history?rule=${ruleA}&limit=1&before_id=${history.json.items[0].id}`);
    expect(page.json.items.map((h: any) => h.id)).toEqual([history.json.items[1].id]);

    // An alert that is not active (unknown fingerprint) is 404.
    const gone = await env.call('POST', `${BASE}/active/${ruleA}/${'0'.repeat(32)}/acknowledge`, env.stack.keys.admin, { by: 'alice' });
    expect(gone.status).toBe(404);
    expect(gone.json.error.code).toBe('NOT_FOUND');
  });

  test('notifications of the firing alert are listed; policy; a test send', async () => {
    const r = await env.get(`${BASE}/notifications`);
    expect(r.status).toBe(200);
    expect(r.json.items.map((n: any) => [n.channel, n.status, n.isTest])).toEqual([['log', 'sent', false]]);
    expect(r.json.items[0].payload.alerts.map((a: any) => [a.rule, a.status, a.value])).toEqual([[ruleA, 'firing', 5]]);
    const attempts = await env.get(`${BASE}/notifications/${r.json.items[0].id}/attempts`);
    expect(attempts.json.items.map((a: any) => [a.attempt, a.outcome])).toEqual([[1, 'ok']]);
    expect((await env.get(`${BASE}/notifications?status=failed`)).json.items).toEqual([]);

    // The policy as stored (as written) and a test send through the real send path.
    expect((await env.get(`${BASE}/policy`, env.stack.keys.read)).status).toBe(403);
    expect((await env.get(`${BASE}/policy`, env.stack.keys.admin)).json.api.routes[0]).toMatchObject({ name: 'page', channels: ['log'], group_wait: 0 });
    const test = await env.call('POST', `${BASE}/test-send`, env.stack.keys.admin, { channel: 'log', message: 'hello from the API test' });
    expect(test.status).toBe(200);
    expect(test.json).toMatchObject({ ok: true, error: null, attempts: [{ attempt: 1, outcome: 'ok' }] });
    expect((await env.call('POST', `${BASE}/test-send`, env.stack.keys.admin, { channel: 'nope' })).status).toBe(404);
  });
});

describe('silences', () => {
  test('create, list by state, mute the alert, expire, delete', async () => {
    const bad = await env.call('POST', `${BASE}/silences`, env.stack.keys.admin, {
      matchers: [],
      ends_at: new Date(Date.now() + 3600_000).toISOString(),
      created_by: 'bob',
      comment: 'deploy',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.context.issues[0]).toEqual({ path: 'body.matchers', message: 'a silence needs at least one matcher' });
    expect((await env.call('POST', `${BASE}/silences`, env.stack.keys.read, {})).status).toBe(403);

    const endsAt = new Date(Date.now() + 3600_000).toISOString();
    const created = await env.call('POST', `${BASE}/silences`, env.stack.keys.admin, {
      matchers: [`alertname="${ruleA}"`],
      ends_at: endsAt,
      created_by: 'bob',
      comment: 'payment provider maintenance',
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      matchers: [{ name: 'alertname', op: '=', value: ruleA }],
      endsAt,
      createdBy: 'bob',
      comment: 'payment provider maintenance',
      state: 'active',
    });
    const id = created.json.id;

    expect((await env.get(`${BASE}/silences?state=active`)).json.items.map((s: any) => s.id)).toEqual([id]);
    expect((await env.get(`${BASE}/silences/${id}`)).json.id).toBe(id);
    // The alert stays active (and listed) but is muted by the silence.
    expect((await env.get(`${BASE}/active`)).json.items[0].mutedBy).toBe(`silence ${id}`);

    const later = new Date(Date.now() + 7200_000).toISOString();
    const updated = await env.call('PUT', `${BASE}/silences/${id}`, env.stack.keys.admin, {
      matchers: [`alertname="${ruleA}"`],
      ends_at: later,
      created_by: 'bob',
      comment: 'extended',
    });
    expect(updated.json).toMatchObject({ id, endsAt: later, comment: 'extended', state: 'active' });

    const expired = await env.call('POST', `${BASE}/silences/${id}/expire`, env.stack.keys.admin);
    expect(expired.status).toBe(200);
    expect(expired.json.state).toBe('expired');
    expect((await env.get(`${BASE}/silences?state=active`)).json.items).toEqual([]);
    expect((await env.get(`${BASE}/silences?state=expired`)).json.items.map((s: any) => s.id)).toEqual([id]);
    expect((await env.get(`${BASE}/active`)).json.items[0].mutedBy).toBeNull();

    expect((await env.call('DELETE', `${BASE}/silences/${id}`, env.stack.keys.admin)).json).toEqual({ deleted: id });
    expect((await env.get(`${BASE}/silences/${id}`)).status).toBe(404);
    expect((await env.get(`${BASE}/silences/not-a-uuid`)).json.error.context.issues[0].path).toBe('params.id');
  });

  test('maintenance windows: create, list, delete', async () => {
    const name = `deploy ${Date.now().toString(36)}`;
    const created = await env.call('POST', `${BASE}/maintenance-windows`, env.stack.keys.admin, {
      name,
      matchers: ['severity="WARNING"'],
      recurrence: { weekdays: [6, 7], start: '02:00', end: '04:00', timezone: 'Asia/Shanghai' },
      created_by: 'ops',
    });
    expect(created.status).toBe(201);
    expect(
      (
        await env.call('POST', `${BASE}/maintenance-windows`, env.stack.keys.admin, {
          name,
          recurrence: { start: '02:00', end: '04:00', timezone: 'UTC' },
          created_by: 'ops',
        })
      ).status,
    ).toBe(409);
    const listed = await env.get(`${BASE}/maintenance-windows`);
    expect(listed.json.items.map((w: any) => [w.name, w.recurrence])).toEqual([
      [name, { weekdays: [6, 7], start: '02:00', end: '04:00', timezone: 'Asia/Shanghai' }],
    ]);
    expect((await env.call('DELETE', `${BASE}/maintenance-windows/${created.json.id}`, env.stack.keys.admin)).status).toBe(200);
    expect((await env.get(`${BASE}/maintenance-windows`)).json.items).toEqual([]);
  });
});

describe('rules', () => {
  test('validate: bad SQL is a 400 naming body.sql and the ClickHouse error; a schema error names its field; a good rule is valid', async () => {
    const badSql = await env.call('POST', `${BASE}/rules/validate`, env.stack.keys.read, {
      name: uniqueRule('Bad'),
      sql: 'SELECT value FROM no_such_table_here',
    });
    expect(badSql.status).toBe(400);
    expect(badSql.json.error.code).toBe('VALIDATION_FAILED');
    expect(badSql.json.error.context.issues).toEqual([
      { path: 'body.sql', message: expect.stringMatching(/^ClickHouse rejected the query \(UNKNOWN_TABLE\): .*no_such_table_here/) },
    ]);
    expect(badSql.json.error.message).toMatch(/body\.sql: ClickHouse rejected the query \(UNKNOWN_TABLE\)/);

    const badColumn = await env.call('POST', `${BASE}/rules/validate`, env.stack.keys.read, {
      name: uniqueRule('Bad'),
      sql: 'SELECT nope AS host, 1 AS value',
    });
    expect(badColumn.json.error.context.issues[0].message).toMatch(/\(UNKNOWN_IDENTIFIER\).*nope/);

    const tenantless = await env.call('POST', `${BASE}/rules/validate`, env.stack.keys.read, {
      name: uniqueRule('Bad'),
      sql: 'SELECT name, toFloat64(count()) AS value FROM events_raw_v1 GROUP BY name',
    });
    // No placeholder needed: the engine scopes the read to the key's project.
    expect([tenantless.status, tenantless.json.valid]).toEqual([200, true]);
    const escape = await env.call('POST', `${BASE}/rules/validate`, env.stack.keys.read, {
      name: uniqueRule('Bad'),
      sql: 'SELECT count() AS value FROM system.tables',
    });
    expect(escape.status).toBe(400);
    expect(escape.json.error.context.issues[0].message).toMatch(/not allowed: sql: system\.tables names the database system/);

    const badSchema = await env.call('POST', `${BASE}/rules/validate`, env.stack.keys.read, {
      name: uniqueRule('Bad'),
      sql: 'SELECT 1 AS value',
      condition: { op: '>', threshold: 'high' },
      for: '5 minutes',
    });
    expect(badSchema.status).toBe(400);
    expect(badSchema.json.error.context.issues.map((i: any) => i.path).sort()).toEqual(['body.condition.threshold', 'body.for']);

    const good = await env.call('POST', `${BASE}/rules/validate`, env.stack.keys.read, failedCheckouts(uniqueRule('Good')));
    expect(good.status).toBe(200);
    expect(good.json).toEqual({ valid: true, problems: [] });
  });

  test('create, list, get, conflict, update, delete; writes need admin', async () => {
    const name = uniqueRule('Crud');
    const rule = { name, sql: "SELECT 'web' AS channel, toFloat64(3) AS value", condition: { op: '>', threshold: 1 }, interval: '5m', for: '10m' };
    expect((await env.call('POST', `${BASE}/rules`, env.stack.keys.read, rule)).status).toBe(403);
    const created = await env.call('POST', `${BASE}/rules`, env.stack.keys.admin, rule);
    expect(created.status).toBe(201);
    // Stored as written: durations stay as the author wrote them.
    expect(created.json).toMatchObject({ name, source: 'api', version: 1, enabled: true, spec: { interval: '5m', for: '10m' } });
    expect((await env.call('POST', `${BASE}/rules`, env.stack.keys.admin, rule)).status).toBe(409);

    const bad = await env.call('POST', `${BASE}/rules`, env.stack.keys.admin, { name: uniqueRule('Bad'), sql: 'SELECT value FROM nowhere_at_all' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.context.issues).toEqual([{ path: 'body.sql', message: expect.stringMatching(/^ClickHouse rejected the query \(UNKNOWN_TABLE\)/) }]);

    const listed = await env.get(`${BASE}/rules`);
    expect(listed.json.items.map((r: any) => r.name).sort()).toEqual([ruleA, name].sort());
    expect((await env.get(`${BASE}/rules/${name}`)).json.spec.sql).toBe(rule.sql);

    const updated = await env.call('PUT', `${BASE}/rules/${name}`, env.stack.keys.admin, { ...rule, condition: { op: '>', threshold: 5 } });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ version: 2, spec: { condition: { op: '>', threshold: 5 } } });
    const renamed = await env.call('PUT', `${BASE}/rules/${name}`, env.stack.keys.admin, { ...rule, name: `${name}_x` });
    expect(renamed.status).toBe(400);
    expect(renamed.json.error.context.issues[0].path).toBe('body.name');

    expect((await env.call('DELETE', `${BASE}/rules/${name}`, env.stack.keys.admin)).json).toEqual({ deleted: name });
    expect((await env.get(`${BASE}/rules/${name}`)).status).toBe(404);
    expect((await env.call('DELETE', `${BASE}/rules/${name}`, env.stack.keys.admin)).status).toBe(404);
  });

  test('preview backtests a definition, or a stored rule, over real data; nothing is stored', async () => {
    const to = Date.now();
    const from = to - 180 * MIN;
    const body = { rule: failedCheckouts(uniqueRule('Preview')), from: new Date(from).toISOString(), to: new Date(to).toISOString(), step_ms: 30 * MIN };
    const r = await env.call('POST', `${BASE}/rules/preview`, env.stack.keys.read, body);
    expect(r.status).toBe(200);
    expect(r.json.evaluations).toBe(7);
    expect(r.json.errors).toEqual([]);
    // Only the last step's hour holds the 5 failed checkouts (10 minutes ago).
    expect(r.json.episodes).toEqual([
      expect.objectContaining({
        kind: 'alert',
        labels: expect.objectContaining({ name: 'checkout.failed' }),
        firedAt: new Date(to).toISOString(),
        resolvedAt: null,
      }),
    ]);
    expect(r.json.transitions.map((t: any) => [t.from, t.to, t.value])).toEqual([['inactive', 'firing', 5]]);
    expect((await env.get(`${BASE}/rules`)).json.items.map((x: any) => x.name)).toEqual([ruleA]);

    const stored = await env.call('POST', `${BASE}/rules/preview`, env.stack.keys.read, { name: ruleA, from: body.from, to: body.to, step_ms: 30 * MIN });
    expect(stored.json.transitions.map((t: any) => [t.from, t.to, t.value])).toEqual([['inactive', 'firing', 5]]);

    const both = await env.call('POST', `${BASE}/rules/preview`, env.stack.keys.read, { ...body, name: ruleA });
    expect(both.status).toBe(400);
    const tooMany = await env.call('POST', `${BASE}/rules/preview`, env.stack.keys.read, { ...body, step_ms: 1000 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.message).toMatch(/at most 500: shorten the window or raise the step/);
  });
});

describe('tenant isolation', () => {
  test("project B's keys see none of A's alerts, silences, rules, notifications; changing them is 404", async () => {
    const silence = await env.call('POST', `${BASE}/silences`, env.stack.keys.admin, {
      matchers: [`alertname="${ruleA}"`],
      ends_at: new Date(Date.now() + 3600_000).toISOString(),
      created_by: 'a',
      comment: 'A only',
    });
    expect(silence.status).toBe(201);
    const b = env.other;
    for (const path of ['active', 'history', 'silences', 'rules', 'notifications', 'maintenance-windows', 'rule-problems']) {
      const r = await env.get(`${BASE}/${path}`, b.read);
      expect({ path, status: r.status, items: r.json.items }).toEqual({ path, status: 200, items: [] });
    }
    // A's objects are not found for B: the same 404 as for objects that do not exist.
    const ack = await env.call('POST', `${BASE}/active/${ruleA}/${fingerprintA}/acknowledge`, b.admin, { by: 'mallory' });
    expect(ack.status).toBe(404);
    // The message names only the caller's own project.
    expect(ack.json.error.message).toBe(`no active alert ${ruleA}/${fingerprintA} in project ${b.project}`);
    expect((await env.get(`${BASE}/silences/${silence.json.id}`, b.read)).status).toBe(404);
    expect((await env.call('POST', `${BASE}/silences/${silence.json.id}/expire`, b.admin)).status).toBe(404);
    expect((await env.call('DELETE', `${BASE}/silences/${silence.json.id}`, b.admin)).status).toBe(404);
    expect((await env.get(`${BASE}/rules/${ruleA}`, b.read)).status).toBe(404);
    expect((await env.call('PUT', `${BASE}/rules/${ruleA}`, b.admin, failedCheckouts(ruleA))).status).toBe(404);
    expect((await env.call('DELETE', `${BASE}/rules/${ruleA}`, b.admin)).status).toBe(404);
    expect(
      (
        await env.call('POST', `${BASE}/rules/preview`, b.read, {
          name: ruleA,
          from: new Date(Date.now() - 3600_000).toISOString(),
          to: new Date().toISOString(),
        })
      ).status,
    ).toBe(404);

    // Nothing of A changed.
    const mine = await env.get(`${BASE}/active`);
    expect(mine.json.items.map((a: any) => [a.rule, a.acknowledged?.by])).toEqual([[ruleA, 'alice']]);
    expect((await env.get(`${BASE}/silences/${silence.json.id}`)).json.state).toBe('active');
    expect((await env.get(`${BASE}/rules/${ruleA}`)).json.version).toBe(1);

    // B's own copy of the rule only ever counts B's events (7), never A's (5).
    const preview = await env.call('POST', `${BASE}/rules/preview`, b.read, {
      rule: failedCheckouts(ruleA),
      from: new Date(Date.now() - 60_000).toISOString(),
      to: new Date().toISOString(),
      step_ms: 60_000,
    });
    expect(preview.json.transitions.map((t: any) => t.value)).toEqual([7]);
  });
});

describe('ETL status', () => {
  test("a key sees its own project's synced tables and their CDC source, not another project's", async () => {
    const meta = env.stack.meta;
    const tag = Date.now().toString(36);
    await meta.query(
      `INSERT INTO etl_tables (table_key, source, source_schema, source_table, target_table, mode, phase, rows_synced, lag_seconds, last_success_at, project)
       VALUES ($1, $2, 'public', 'orders', 'biz_orders', 'cdc', 'incremental', 1234, 0.8, now(), $3),
              ($4, $5, 'public', 'orders', 'biz_orders', 'cursor', 'snapshot', 10, NULL, NULL, $6)`,
      [`a_${tag}.public.orders`, `a_${tag}`, env.stack.project, `b_${tag}.public.orders`, `b_${tag}`, env.other.project],
    );
    await meta.query(
      `INSERT INTO etl_sources (source, slot_name, publication, slot_status, slot_lag_bytes) VALUES ($1, $2, 'pub', 'active', 2048), ($3, $4, 'pub', 'active', 99)`,
      [`a_${tag}`, `slot_a_${tag}`, `b_${tag}`, `slot_b_${tag}`],
    );
    const a = await env.get('/api/analytics-monitoring/etl/status');
    expect(a.status).toBe(200);
    // lagSeconds is now the watermark's age (null without a watermark); the stored run lag is lastRunLagSeconds.
    expect(a.json.tables.map((t: any) => [t.table, t.project, t.mode, t.phase, t.state, t.rowsSynced, t.lastRunLagSeconds])).toEqual([
      [`a_${tag}.public.orders`, env.stack.project, 'cdc', 'incremental', 'ok', 1234, 0.8],
    ]);
    expect(a.json.sources.map((s: any) => [s.source, s.slot, s.slotLagBytes])).toEqual([[`a_${tag}`, `slot_a_${tag}`, 2048]]);
    const b = await env.get('/api/analytics-monitoring/etl/status', env.other.read);
    expect(b.json.tables.map((t: any) => [t.table, t.state])).toEqual([[`b_${tag}.public.orders`, 'snapshot']]);
    expect(b.json.sources.map((s: any) => s.source)).toEqual([`b_${tag}`]);
    expect(b.text).not.toContain(`a_${tag}`);
    expect((await env.call('GET', '/api/analytics-monitoring/etl/status', undefined)).status).toBe(401);
  });

  test('rows are the current rows of the target (row versions and deletes do not count), per project', async () => {
    const ch = env.stack.ch;
    await ch.command(`CREATE TABLE IF NOT EXISTS biz_orders_v1 (project_id LowCardinality(String), order_id Int64, status LowCardinality(String), amount Decimal(14, 2),
       created_at DateTime64(6, 'UTC'), _version UInt64, is_deleted UInt8) ENGINE = ReplacingMergeTree(_version) ORDER BY (project_id, order_id)`);
    const a = env.stack.project;
    const t = '2026-01-01 00:00:00';
    // Project A: order 1 in three versions, order 2 once, order 3 created then deleted: 2 current rows, 5 versions landed.
    const values = [
      { project_id: a, order_id: 1, status: 'pending', amount: '1', created_at: t, _version: 1, is_deleted: 0 },
      { project_id: a, order_id: 1, status: 'paid', amount: '1', created_at: t, _version: 2, is_deleted: 0 },
      { project_id: a, order_id: 1, status: 'refunded', amount: '1', created_at: t, _version: 3, is_deleted: 0 },
      { project_id: a, order_id: 2, status: 'paid', amount: '2', created_at: t, _version: 1, is_deleted: 0 },
      { project_id: a, order_id: 3, status: 'paid', amount: '3', created_at: t, _version: 1, is_deleted: 0 },
      { project_id: a, order_id: 3, status: 'paid', amount: '3', created_at: t, _version: 2, is_deleted: 1 },
      { project_id: env.other.project, order_id: 1, status: 'paid', amount: '9', created_at: t, _version: 1, is_deleted: 0 },
    ];
    for (const v of values) await ch.client.insert({ table: 'biz_orders_v1', values: [v], format: 'JSONEachRow' });
    const mine = await env.get('/api/analytics-monitoring/etl/status');
    for (const table of mine.json.tables) expect([table.target, table.rows]).toEqual(['biz_orders', 2]);
    const theirs = await env.get('/api/analytics-monitoring/etl/status', env.other.read);
    for (const table of theirs.json.tables) expect([table.target, table.rows]).toEqual(['biz_orders', 1]);
    expect(mine.json.tables.length + theirs.json.tables.length).toBeGreaterThan(0);
  });
});

test('the OpenAPI document lists the alert and ETL routes with their parameters and bodies', async () => {
  const doc = (await env.call('GET', '/openapi.json', undefined)).json;
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining([
      `${BASE}/active`,
      `${BASE}/active/{rule}/{fingerprint}/acknowledge`,
      `${BASE}/history`,
      `${BASE}/silences`,
      `${BASE}/silences/{id}`,
      `${BASE}/silences/{id}/expire`,
      `${BASE}/rules`,
      `${BASE}/rules/{name}`,
      `${BASE}/rules/validate`,
      `${BASE}/rules/preview`,
      `${BASE}/notifications`,
      '/api/analytics-monitoring/etl/status',
    ]),
  );
  expect(doc.paths[`${BASE}/active`].get.parameters.map((p: any) => p.name)).toEqual(['state', 'rule', 'severity', 'limit']);
  expect(doc.paths[`${BASE}/rules`].post.requestBody.content['application/json'].schema.properties.sql).toBeDefined();
  expect(doc.paths[`${BASE}/silences`].post.requestBody.content['application/json'].schema.required).toEqual(
    expect.arrayContaining(['matchers', 'ends_at', 'created_by', 'comment']),
  );
  expect(doc.paths[`${BASE}/rules`].post.description).toMatch(/admin/);
});
