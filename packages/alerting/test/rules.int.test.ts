/**
 * Rule loading and validation against real ClickHouse, the built-in rules
 * against the migrated schema (and the ETL's biz_* tables), the API's rule
 * CRUD and preview, and tenant isolation of every service function.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKeyValueStore, createMetricsRegistry, Lifecycle } from '@tidemark/core';
import { alertingRole, AlertingService, backtest, builtinRuleFile, builtinRuleNames, loadRuleSources, readRuleDir, ruleSchema, syncRuleFiles } from '../src';
import { startTestEnv, uniqueName, type TestEnv } from './support/env';

let env: TestEnv;
let dir: string;
const T = Date.UTC(2026, 2, 2, 10, 0, 0);
const iso = (t: number): string => new Date(t).toISOString().replace('T', ' ').replace('Z', '');

/** The biz tables as the ETL creates them (project_id first, ReplacingMergeTree with is_deleted and _version). */
const BIZ_TABLES = [
  `CREATE TABLE IF NOT EXISTS biz_orders_v1 (project_id LowCardinality(String), order_id String, customer_id String, status LowCardinality(String), service_type LowCardinality(String),
     product_category LowCardinality(String), amount Decimal(18, 2), created_at DateTime64(6, 'UTC'), updated_at DateTime64(6, 'UTC'),
     is_deleted UInt8, _version UInt64) ENGINE = ReplacingMergeTree(_version, is_deleted) ORDER BY (project_id, order_id)`,
  `CREATE TABLE IF NOT EXISTS biz_service_records_v1 (project_id LowCardinality(String), record_id String, status LowCardinality(String), priority LowCardinality(String), assignee String,
     due_at DateTime64(6, 'UTC'), resolved_at Nullable(DateTime64(6, 'UTC')), created_at DateTime64(6, 'UTC'), updated_at DateTime64(6, 'UTC'),
     is_deleted UInt8, _version UInt64) ENGINE = ReplacingMergeTree(_version, is_deleted) ORDER BY (project_id, record_id)`,
  `CREATE TABLE IF NOT EXISTS biz_products_v1 (project_id LowCardinality(String), product_id String, name String, category LowCardinality(String), stock Int64, reorder_level Int64,
     updated_at DateTime64(6, 'UTC'), is_deleted UInt8, _version UInt64) ENGINE = ReplacingMergeTree(_version, is_deleted) ORDER BY (project_id, product_id)`,
];

beforeAll(async () => {
  env = await startTestEnv('rules');
  for (const ddl of BIZ_TABLES) await env.rw.command(ddl);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-alert-rules-'));
});

afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await env?.stop();
});

function sync(source: 'file' | 'builtin', files: ReturnType<typeof readRuleDir>, overrides: Record<string, unknown> = {}) {
  return syncRuleFiles({ meta: env.pool, readonly: env.ro, config: env.config(overrides), logger: env.logger, now: T }, source, files);
}

test('rule files: a bad rule is reported with file, field and the ClickHouse error; the others load; removal and unreadable files', async () => {
  const project = await env.createProject();
  const good = path.join(dir, 'good.yaml');
  const bad = path.join(dir, 'bad.yml');
  fs.writeFileSync(
    good,
    `project: ${project}
rules:
  - name: Good1
    sql: SELECT 'a' AS host, 1.5 AS value
    condition: { op: '>', threshold: 1 }
  - name: Good2
    sql: SELECT 'b' AS host, 0.5 AS value
    condition: { op: '>', threshold: 1 }
channels:
  - { name: ops-wecom, type: wecom, key: '\${OPS_WECOM}' }
routes:
  - { matchers: ['severity="CRITICAL"'], channels: [ops-wecom] }
`,
  );
  fs.writeFileSync(
    bad,
    `project: ${project}
rules:
  - name: BadTable
    sql: SELECT host, value FROM no_such_table_xyz
    condition: { op: '>', threshold: 1 }
  - name: BadColumn
    sql: SELECT nope AS host, 1 AS value
  - name: BadType
    sql: SELECT 1 AS value
    condition: { op: '>', threshold: high }
    for: 5 minutes
  - name: TwoNumbers
    sql: SELECT 1 AS a, 2 AS b
    condition: { op: '>', threshold: 1 }
  - name: NoTenantFilter
    sql: SELECT count() AS value FROM system.tables
  - name: Sneaky
    sql: SELECT 1 AS value SETTINGS max_execution_time = 0
`,
  );
  fs.writeFileSync(path.join(dir, 'broken.yaml'), `project: ${project}\nrules:\n  - name: [unclosed\n`);
  const report = await sync('file', readRuleDir(dir), { ALERTING_SECRETS: JSON.stringify({ OPS_WECOM: 'k' }) });
  expect(report.created).toBe(2);
  const byRule = (name: string) => report.problems.filter((p) => p.rule === name).map((p) => `${path.basename(p.file)} ${p.field}: ${p.message}`);
  expect(byRule('BadTable')).toEqual([
    expect.stringMatching(/^bad\.yml rules\[0\]\.sql: ClickHouse rejected the query \(UNKNOWN_TABLE\): .*no_such_table_xyz/),
  ]);
  expect(byRule('BadColumn')).toEqual([expect.stringMatching(/^bad\.yml rules\[1\]\.sql: ClickHouse rejected the query \(UNKNOWN_IDENTIFIER\): .*nope/)]);
  expect(byRule('BadType')).toEqual([
    'bad.yml rules[2].condition.threshold: Invalid input: expected number, received string',
    'bad.yml rules[2].for: "5 minutes" is not a duration; write e.g. 30s, 5m, 1h30m or 7d',
  ]);
  expect(byRule('TwoNumbers')).toEqual(['bad.yml rules[3].sql: the result has several numeric columns (a, b); name one "value" or set value_column']);
  expect(byRule('NoTenantFilter')).toEqual([expect.stringMatching(/rules\[4\]\.sql: not allowed: sql: system\.tables names the database system/)]);
  expect(byRule('Sneaky')).toEqual(['bad.yml rules[5].sql: must not have a SETTINGS clause: the engine sets time and row limits']);
  expect(report.problems.find((p) => p.file.endsWith('broken.yaml'))?.message).toMatch(/^not valid YAML: /);

  const service = new AlertingService({ meta: env.pool, readonly: env.ro, config: env.config(), logger: env.logger });
  expect((await service.listRules(project)).map((r) => [r.name, r.source, path.basename(r.sourceFile ?? '')])).toEqual([
    ['Good1', 'file', 'good.yaml'],
    ['Good2', 'file', 'good.yaml'],
  ]);
  // Stored per project; a file that is not even YAML has no known project, so it is only reported and logged.
  expect((await service.listRuleProblems(project)).length).toBe(report.problems.filter((p) => !p.file.endsWith('broken.yaml')).length);
  expect((await service.getPolicy(project)).effective).toEqual({ channels: ['log', 'ops-wecom'], routes: ['file-route-0', 'default'] });
  await expect(service.updateRule(project, 'Good1', { name: 'Good1', sql: 'SELECT 1 AS value' })).rejects.toThrow(
    /comes from the file .*good\.yaml; change it there/,
  );
  await expect(service.deleteRule(project, 'Good1')).rejects.toThrow(/remove it there/);

  // A reload with the same files changes nothing.
  expect((await sync('file', readRuleDir(dir), { ALERTING_SECRETS: JSON.stringify({ OPS_WECOM: 'k' }) })).unchanged).toBe(2);
  // A file that cannot be read keeps its stored rules: a YAML typo must not resolve live alerts.
  fs.writeFileSync(good, 'project: [oops\n');
  const typo = await sync('file', readRuleDir(dir));
  expect(typo.deleted).toBe(0);
  expect((await service.listRules(project)).map((r) => r.name)).toEqual(['Good1', 'Good2']);
  // A rule removed from a readable file is deleted.
  fs.writeFileSync(good, `project: ${project}\nrules:\n  - name: Good1\n    sql: SELECT 'a' AS host, 1.5 AS value\n    condition: { op: '>', threshold: 1 }\n`);
  const removed = await sync('file', readRuleDir(dir));
  expect(removed.deleted).toBe(1);
  expect((await service.listRules(project)).map((r) => r.name)).toEqual(['Good1']);
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
  await service.close();
});

test('built-in rules: all pass validation against the migrated schema and are off unless configured', async () => {
  const project = await env.createProject();
  expect(builtinRuleNames()).toEqual([
    'HighCpuUsage',
    'HighMemoryUsage',
    'HighHttpErrorRate',
    'HighLatencyP95',
    'DatabaseDown',
    'OrderVolumeDrop',
    'OverdueServiceRecords',
    'LowStock',
    'EtlTableDiverged',
    'EtlRowsQuarantined',
    'IngestAcknowledgedRowsLost',
  ]);
  const off = await loadRuleSources({ meta: env.pool, readonly: env.ro, config: env.config({ ALERTING_BUILTIN_PROJECT: project }), logger: env.logger });
  expect(off.builtin).toEqual({ created: 0, updated: 0, unchanged: 0, deleted: 0, problems: [] });
  const on = await loadRuleSources({
    meta: env.pool,
    readonly: env.ro,
    config: env.config({ ALERTING_BUILTIN_PROJECT: project, ALERTING_BUILTIN_RULES: 'all' }),
    logger: env.logger,
  });
  expect(on.builtin.problems).toEqual([]);
  expect(on.builtin.created).toBe(11);
  const some = await sync('builtin', [builtinRuleFile('LowStock, DatabaseDown, NoSuchRule', project)]);
  expect(some.deleted).toBe(9);
  expect(some.problems).toEqual([
    { file: 'ALERTING_BUILTIN_RULES', field: 'NoSuchRule', message: expect.stringMatching(/^no built-in rule named "NoSuchRule"; built-ins: HighCpuUsage, /) },
  ]);
});

/** Metric samples every 15 s over [from, to). */
function samples(project: string, name: string, labels: Record<string, string>, from: number, to: number, value: (t: number) => number) {
  const rows = [];
  const key = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
  for (let t = from; t < to; t += 15_000)
    rows.push({ project_id: project, name, type: 'gauge', labels, labels_key: key, value: value(t), timestamp: iso(t), received_at: iso(t) });
  return rows;
}

test('built-in rules fire on the data they are written for (backtest over the migrated tables)', async () => {
  const project = await env.createProject();
  const other = await env.createProject();
  const M = 60_000;
  const metrics = [
    ...samples(project, 'system_cpu_percent', { host: 'web-1' }, T - 10 * M, T + 20 * M, () => 97),
    ...samples(project, 'system_cpu_percent', { host: 'web-2' }, T - 10 * M, T + 20 * M, () => 40),
    // Another project's hot CPU must not reach this project's rule.
    ...samples(other, 'system_cpu_percent', { host: 'web-9' }, T - 10 * M, T + 20 * M, () => 99),
    ...samples(project, 'system_memory_percent', { host: 'web-1' }, T - 10 * M, T + 20 * M, () => 88),
    ...samples(
      project,
      'http_requests_total',
      { method: 'GET', route: '/api/orders', status: '200', service: 'shop' },
      T - 10 * M,
      T + 20 * M,
      (t) => (t - T + 10 * M) / 150,
    ),
    ...samples(
      project,
      'http_requests_total',
      { method: 'GET', route: '/api/orders', status: '500', service: 'shop' },
      T - 10 * M,
      T + 20 * M,
      (t) => (t - T + 10 * M) / 1500,
    ),
    // The labels the SDK's request middleware records: two methods and statuses of one route merge.
    ...samples(project, 'http_request_duration_ms', { method: 'POST', route: '/api/pay', status: '200', service: 'shop' }, T - 10 * M, T + 20 * M, () => 3000),
    ...samples(project, 'http_request_duration_ms', { method: 'GET', route: '/api/pay', status: '500', service: 'shop' }, T - 10 * M, T + 20 * M, () => 2500),
    ...samples(project, 'http_request_duration_ms', { method: 'GET', route: '/api/fast', status: '200', service: 'shop' }, T - 10 * M, T + 20 * M, () => 20),
    ...samples(project, 'db_up', { db: 'postgres' }, T - 10 * M, T + 20 * M, () => 0),
    ...samples(project, 'db_up', { db: 'redis' }, T - 10 * M, T + 20 * M, () => 1),
  ];
  await env.rw.client.insert({ table: 'metrics_raw_v1', values: metrics, format: 'JSONEachRow' });
  const orders = [];
  // Last week 100 orders an hour; this week 20 an hour.
  for (let t = T - 7 * 24 * 60 * M - 2 * 60 * M; t < T - 7 * 24 * 60 * M + 60 * M; t += 36_000) orders.push(t);
  for (let t = T - 2 * 60 * M; t < T + 60 * M; t += 180_000) orders.push(t);
  await env.rw.client.insert({
    table: 'biz_orders_v1',
    values: orders.map((t, i) => ({
      project_id: project,
      order_id: `o${i}`,
      customer_id: 'c',
      status: 'paid',
      service_type: 'delivery',
      product_category: 'fruit',
      amount: '9.90',
      created_at: iso(t),
      updated_at: iso(t),
      is_deleted: 0,
      _version: 1,
    })),
    format: 'JSONEachRow',
  });
  await env.rw.client.insert({
    table: 'biz_service_records_v1',
    values: Array.from({ length: 12 }, (_, i) => ({
      project_id: project,
      record_id: `r${i}`,
      status: 'open',
      priority: 'high',
      assignee: 'x',
      due_at: iso(T - 60 * M),
      resolved_at: null,
      created_at: iso(T - 120 * M),
      updated_at: iso(T - 120 * M),
      is_deleted: 0,
      _version: 1,
    })),
    format: 'JSONEachRow',
  });
  await env.rw.client.insert({
    table: 'biz_products_v1',
    values: [
      { project_id: project, product_id: 'p1', name: '草莓', category: 'fruit', stock: 2, reorder_level: 10, updated_at: iso(T), is_deleted: 0, _version: 1 },
      { project_id: project, product_id: 'p2', name: '苹果', category: 'fruit', stock: 200, reorder_level: 10, updated_at: iso(T), is_deleted: 0, _version: 1 },
      { project_id: project, product_id: 'p3', name: '香蕉', category: 'fruit', stock: 1, reorder_level: 10, updated_at: iso(T), is_deleted: 1, _version: 2 },
    ],
    format: 'JSONEachRow',
  });

  // ETL status (the etl role's mirror): one table whose last reconciliation found 3 rows different
  // (1 missing key is its quarantined row and does not count), one clean table, and another project's diverged table
  // (table keys are unique across projects: <source>.<schema>.<table>, the etl role's key in Postgres too).
  const status = (p: string, table: string, fig: { missing: number; changed: number; quarantined: number }) => ({
    table_key: `src.public.${table}`,
    project_id: p,
    source: 'src',
    target_table: `biz_${table}`,
    mode: 'cursor',
    phase: 'incremental',
    state: 'ok',
    last_success_at: iso(T - M),
    last_error: '',
    consecutive_failures: 0,
    lag_seconds: 1,
    rows_synced: 100,
    stall_after_seconds: 300,
    recon_at: iso(T - 2 * M),
    recon_source_rows: 100,
    recon_target_rows: 100,
    recon_missing: fig.missing,
    recon_extra: 0,
    recon_repaired: fig.changed,
    content_at: iso(T - 2 * M),
    content_changed: fig.changed,
    content_repaired: fig.changed,
    content_remaining: 0,
    content_changed_total: fig.changed,
    content_repaired_total: fig.changed,
    quarantined_rows: fig.quarantined,
    quarantined_since: fig.quarantined ? iso(T - 60 * M) : null,
    slot_lag_bytes: null,
    updated_at: iso(T - M),
  });
  await env.rw.client.insert({
    table: 'etl_sync_status_v1',
    values: [
      status(project, 'orders', { missing: 1, changed: 3, quarantined: 1 }),
      status(project, 'customers', { missing: 0, changed: 0, quarantined: 0 }),
      status(other, 'other_orders', { missing: 9, changed: 9, quarantined: 9 }),
    ],
    format: 'JSONEachRow',
  });
  // Acknowledgement audit runs: 5 acknowledged events lost in the run at +2m; the runs stop after +3m.
  const audit = (p: string, signal: string, at: number, acknowledged: number, landed: number) => ({
    project_id: p,
    signal,
    checked_at: iso(at),
    from_minute: iso(at - 65 * M).slice(0, 16) + ':00',
    to_minute: iso(at - 5 * M).slice(0, 16) + ':00',
    grace_seconds: 300,
    acknowledged,
    landed,
    lost: Math.max(0, acknowledged - landed),
    unacknowledged: Math.max(0, landed - acknowledged),
    differing_minutes: acknowledged === landed ? 0 : 1,
    collector: 'c1',
  });
  await env.rw.client.insert({
    table: 'ingest_audit_v1',
    values: [
      audit(project, 'events', T, 100, 100),
      audit(project, 'logs', T, 7, 7),
      audit(project, 'events', T + 2 * M, 105, 100),
      audit(project, 'events', T + 3 * M, 105, 100),
      audit(other, 'metrics', T + 2 * M, 50, 1),
    ],
    format: 'JSONEachRow',
  });

  const file = builtinRuleFile('all', project);
  const fired: Record<string, string[]> = {};
  for (const r of file.rules) {
    const res = await backtest(env.ro, r.spec, project, { from: T, to: T + 16 * M, stepMs: M, queryTimeoutCapMs: 10_000, maxRows: 10_000 });
    expect([r.spec.name, res.errors]).toEqual([r.spec.name, []]);
    fired[r.spec.name] = res.episodes
      .filter((e) => e.firedAt)
      .map(
        (e) =>
          `${Object.entries(e.labels)
            .filter(([k]) => !['alertname', 'severity', 'team'].includes(k))
            .map(([k, v]) => `${k}=${v}`)
            .join(',')} ${e.peakSeverity} +${(Date.parse(e.firedAt as string) - T) / M}m`,
      );
  }
  expect(fired).toEqual({
    HighCpuUsage: ['host=web-1 CRITICAL +5m'],
    HighMemoryUsage: ['host=web-1 WARNING +5m'],
    HighHttpErrorRate: [' CRITICAL +5m'],
    HighLatencyP95: ['service=shop,route=/api/pay WARNING +5m'],
    DatabaseDown: ['db=postgres CRITICAL +1m'],
    OrderVolumeDrop: [' WARNING +15m'],
    OverdueServiceRecords: [' WARNING +0m'],
    LowStock: ['product_id=p1,product=草莓 WARNING +1m'],
    EtlTableDiverged: ['table=src.public.orders,target=biz_orders WARNING +0m'],
    EtlRowsQuarantined: ['table=src.public.orders,target=biz_orders WARNING +0m'],
    IngestAcknowledgedRowsLost: ['signal=events CRITICAL +2m'],
  });
});

test('API rules: validation names the field and the ClickHouse error; CRUD; preview; duplicate label sets and row limits are Errors', async () => {
  const project = await env.createProject();
  const service = new AlertingService({ meta: env.pool, readonly: env.ro, config: env.config({ ALERTING_MAX_ROWS: 5 }), logger: env.logger });
  await expect(service.createRule(project, { name: 'Bad', sql: 'SELECT value FROM nowhere_at_all' })).rejects.toThrow(
    /^rule: sql: ClickHouse rejected the query \(UNKNOWN_TABLE\)/,
  );
  await expect(service.createRule(project, { name: 'Bad', sql: 'SELECT 1 AS value; SELECT 2 AS value' })).rejects.toThrow(
    /sql: must be exactly one statement \(found 2\)/,
  );
  await expect(
    service.createRule(project, { name: 'Bad', sql: 'SELECT 1 AS value', condition: { op: '>', thresholds: { WARNING: 90, CRITICAL: 80 } } }),
  ).rejects.toThrow(/condition\.thresholds\.CRITICAL: CRITICAL \(80\) must be at least WARNING \(90\) for op >/);
  await expect(service.createRule(project, { name: 'Bad', sql: 'SELECT {x:String} AS host, 1 AS value' })).rejects.toThrow(
    /unknown query parameter \{x:\.\.\.\}/,
  );
  await expect(service.createRule(project, { name: 'bad name!', sql: 'SELECT 1 AS value' })).rejects.toThrow(/name: must start with a letter/);
  await expect(
    service.createRule(project, { name: 'Rel', sql: 'SELECT 1 AS value', condition: { op: '<', threshold: -50, change: { offset: '7d' } } }),
  ).rejects.toThrow(/condition\.change: a relative-change rule must select its window with \{now:DateTime64/);

  const rule = { name: 'Dup', sql: `SELECT arrayJoin(['a', 'a', 'b']) AS host, toFloat64(1) AS value`, condition: { op: '>', threshold: 0 }, interval: '1m' };
  const created = await service.createRule(project, rule);
  expect(created).toMatchObject({ name: 'Dup', source: 'api', version: 1, enabled: true });
  await expect(service.createRule(project, rule)).rejects.toThrow(/already exists/);
  const dup = await service.preview(project, { name: 'Dup', from: new Date(T), to: new Date(T + 120_000) });
  expect(dup.evaluations).toBe(3);
  expect(dup.errors[0]?.message).toBe('rows 1 and 2 have the same label set {host="a"}; each row must have its own (add a column or GROUP BY it)');
  expect(dup.episodes.map((e) => [e.kind, e.firedAt])).toEqual([['error', new Date(T).toISOString()]]);

  const many = await service.preview(project, {
    rule: { name: 'Many', sql: 'SELECT toString(number) AS n, toFloat64(number) AS value FROM numbers(10)' },
    from: new Date(T),
    to: new Date(T + 60_000),
  });
  expect(many.errors[0]?.message).toMatch(/Limit for result exceeded, max rows: 5/);
  await expect(service.preview(project, { name: 'Dup', from: new Date(T), to: new Date(T + 10 * 24 * 3600_000), step_ms: 1000 })).rejects.toThrow(
    /at most 500/,
  );

  const updated = await service.updateRule(project, 'Dup', { ...rule, enabled: false });
  expect(updated.version).toBe(2);
  await expect(service.updateRule(project, 'Dup', { ...rule, name: 'Other' })).rejects.toThrow(/cannot be renamed/);
  await service.deleteRule(project, 'Dup');
  expect(await service.listRules(project)).toEqual([]);
  await service.close();
});

test("tenant isolation: a project never sees or changes another project's rules, alerts, silences or notifications", async () => {
  const a = await env.createProject();
  const b = await env.createProject();
  const service = new AlertingService({ meta: env.pool, readonly: env.ro, config: env.config(), logger: env.logger });
  await service.createRule(a, { name: 'OnlyA', sql: `SELECT 'h' AS host, toFloat64(1) AS value`, condition: { op: '>', threshold: 0 } });
  const silence = await service.createSilence(a, { matchers: ['host="h"'], ends_at: new Date(Date.now() + 3600_000), created_by: 'a-admin', comment: 'mine' });
  await env.pool.query(
    `INSERT INTO alert_instances (project_id, rule_name, fingerprint, kind, labels, state, severity, peak_severity, episode, last_eval_at, updated_at)
     VALUES ($1, 'OnlyA', $2, 'alert', '{"host":"h"}', 'firing', 'WARNING', 'WARNING', 1, now(), now())`,
    [a, 'a'.repeat(32)],
  );
  expect(await service.listRules(b)).toEqual([]);
  await expect(service.getRule(b, 'OnlyA')).rejects.toThrow(/no rule OnlyA in project/);
  await expect(service.deleteRule(b, 'OnlyA')).rejects.toThrow(/no rule OnlyA/);
  expect(await service.listActiveAlerts(b)).toEqual([]);
  expect((await service.listActiveAlerts(a)).map((x) => x.rule)).toEqual(['OnlyA']);
  await expect(service.acknowledge(b, { rule: 'OnlyA', fingerprint: 'a'.repeat(32), by: 'b-admin' })).rejects.toThrow(/no active alert/);
  expect(await service.listSilences(b)).toEqual([]);
  await expect(service.getSilence(b, silence.id)).rejects.toThrow(/no silence/);
  await expect(service.expireSilence(b, silence.id)).rejects.toThrow(/no silence/);
  await expect(service.deleteSilence(b, silence.id)).rejects.toThrow(/no silence/);
  expect(await service.history(b)).toEqual([]);
  expect(await service.listNotifications(b)).toEqual([]);
  await expect(service.preview(b, { name: 'OnlyA', from: new Date(T), to: new Date(T + 60_000) })).rejects.toThrow(/no rule OnlyA/);
  await expect(service.listRules('Not A Project')).rejects.toThrow(/project: must be a project id/);
  // Rule SQL is scoped too: {project_id} is always the rule's own project.
  const sql = `SELECT labels['host'] AS host, max(value) AS value FROM metrics_raw_v1 WHERE project_id = {project_id:String} AND name = 'iso_metric' GROUP BY host`;
  await env.rw.client.insert({ table: 'metrics_raw_v1', values: samples(a, 'iso_metric', { host: 'mine' }, T, T + 60_000, () => 5), format: 'JSONEachRow' });
  const seenByB = await service.preview(b, { rule: { name: 'Iso', sql, no_data: { state: 'ok' } }, from: new Date(T + 60_000), to: new Date(T + 120_000) });
  expect(seenByB.episodes).toEqual([]);
  const seenByA = await service.preview(a, { rule: { name: 'Iso', sql }, from: new Date(T + 60_000), to: new Date(T + 120_000) });
  expect(seenByA.episodes.map((e) => e.labels.host)).toEqual(['mine']);
  await service.close();
});

test('the rule schema is the same for files and the API (a stored API rule parses back identically)', async () => {
  const project = await env.createProject();
  const service = new AlertingService({ meta: env.pool, readonly: env.ro, config: env.config(), logger: env.logger });
  const input = {
    name: uniqueName('R').replace(/[^A-Za-z0-9_]/g, '_'),
    sql: 'SELECT 1 AS value',
    for: '5m',
    condition: { op: '>=' as const, threshold: 1 },
    annotations: { summary: '{{ value }}' },
  };
  await service.createRule(project, input);
  const stored = await service.getRule(project, input.name);
  expect(ruleSchema.parse(stored.spec)).toEqual(ruleSchema.parse(input));
  await service.close();
});

test('alertingRole starts (built-ins loaded, the scheduler ticking the engine) and stops through the lifecycle', async () => {
  const project = await env.createProject();
  const config = env.config({
    ALERTING_BUILTIN_RULES: 'OverdueServiceRecords,LowStock',
    ALERTING_BUILTIN_PROJECT: project,
    ALERTING_TICK_MS: 100,
    ALERTING_REPLICA_ID: 'role-test',
  });
  const lifecycle = new Lifecycle(env.logger, 10_000);
  // The platform user's client (the role's own queries); user SQL goes through env.ro.
  const clickhouse = env.rw;
  const kv = createKeyValueStore(undefined);
  // A fast API rule shows the engine ticking (the 5-minute built-ins run at their first slot, up to 5 minutes away).
  const service = new AlertingService({ meta: env.pool, readonly: env.ro, config, logger: env.logger });
  await service.createRule(project, { name: 'Ticker', sql: 'SELECT 1 AS value', interval: '1s', no_data: { state: 'ok' } });
  await service.close();
  const endpoints = await alertingRole.start({ config, logger: env.logger, lifecycle, clickhouse, meta: env.pool, kv, metrics: createMetricsRegistry() });
  expect(endpoints).toEqual([]);
  expect((await env.pool.query(`SELECT name, source FROM alert_rules WHERE project_id = $1 ORDER BY name`, [project])).rows).toEqual([
    { name: 'LowStock', source: 'builtin' },
    { name: 'OverdueServiceRecords', source: 'builtin' },
    { name: 'Ticker', source: 'api' },
  ]);
  const evaluated = async () =>
    Number(
      (
        await env.pool.query<{ n: string }>(
          `SELECT evaluations AS n FROM alert_rule_schedule WHERE project_id = $1 AND rule_name = 'Ticker' AND last_owner LIKE 'role-test/%'`,
          [project],
        )
      ).rows[0]?.n ?? 0,
    );
  const deadline = Date.now() + 10_000;
  while ((await evaluated()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(await evaluated()).toBeGreaterThanOrEqual(2);
  await lifecycle.stop('test');
  const after = (await env.pool.query<{ n: string }>(`SELECT sum(evaluations) AS n FROM alert_rule_schedule WHERE project_id = $1`, [project])).rows[0]?.n;
  await new Promise((r) => setTimeout(r, 500));
  const later = (await env.pool.query<{ n: string }>(`SELECT sum(evaluations) AS n FROM alert_rule_schedule WHERE project_id = $1`, [project])).rows[0]?.n;
  expect(later).toBe(after);
  await kv.close();
});
