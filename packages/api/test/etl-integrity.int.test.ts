/**
 * Data-integrity views on the query API, over the real stack (chDB over
 * HTTP, Postgres): the ETL's per-row quarantine (issue 15) and the ETL
 * status read through the API's own metadata reader (issue 17: no import of
 * the etl role), and the collector's acknowledgement audit (issue 12). A
 * read key sees its own project's rows only; naming another project's table
 * gives nothing.
 *
 * The metadata tables are written with the etl role's own code
 * (ensureQuarantineSchema, recordContent) and the status is compared with
 * the etl role's getSyncStatus: the API's reader must read what the writer
 * writes.
 */
import { getSyncStatus } from '../../etl/src/status/status';
import { ensureQuarantineSchema } from '../../etl/src/sync/quarantine';
import { recordContent } from '../../etl/src/sync/content';
import { startApi, type ApiEnv } from './helpers';

let env: ApiEnv;
const Q = '/api/analytics-monitoring/etl/quarantine';
const tag = Date.now().toString(36);
const tableA = `a_${tag}.public.orders`;
const tableB = `b_${tag}.public.orders`;
const reason = (table: string, id: number, v: string) =>
  `${table}: row (id) = (${id}): column amount (numeric(38,10)) holds a value that does not fit Decimal(18, 4): ${v}`;

beforeAll(async () => {
  env = await startApi();
  const meta = env.stack.meta;
  await meta.query(
    `INSERT INTO etl_tables (table_key, source, source_schema, source_table, target_table, mode, phase, rows_synced, last_success_at, project,
                             recon_at, recon_source_rows, recon_target_rows, recon_missing, recon_extra, recon_repaired, recon_ok)
     VALUES ($1, $2, 'public', 'orders', 'biz_orders', 'cursor', 'incremental', 500, now(), $3, now(), 501, 500, 1, 0, 2, true),
            ($4, $5, 'public', 'orders', 'biz_orders', 'cursor', 'incremental', 10, now(), $6, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
    [tableA, `a_${tag}`, env.stack.project, tableB, `b_${tag}`, env.other.project],
  );
  // The etl role creates its quarantine table on first use; the API only ever reads it.
  await ensureQuarantineSchema(meta);
  await meta.query(
    `INSERT INTO etl_row_quarantine (table_key, row_key, key_values, reason, first_seen_at, last_seen_at, attempts) VALUES
       ($1, '["501"]', '{501}', $2, now() - interval '2 hours', now() - interval '1 minute', 7),
       ($1, '["502"]', '{502}', $3, now() - interval '1 hour', now(), 1),
       ($4, '["9"]', '{9}', $5, now() - interval '1 hour', now(), 2)`,
    [tableA, reason(tableA, 501, '100000000000000'), reason(tableA, 502, '0.00001'), tableB, reason(tableB, 9, '1e20')],
  );
  await recordContent(meta, tableA, { ranges: 4096, differingRanges: 2, rowsCompared: 500, changed: 2, repaired: 2, remaining: 0, seconds: 0.2 });
});

afterAll(async () => {
  await env?.close();
});

describe('ETL quarantine', () => {
  test("a read key lists its project's quarantined rows (key, column, reason, first and last seen), newest first, never another project's", async () => {
    const a = await env.get(Q);
    expect(a.status).toBe(200);
    expect(a.json.rows.map((r: any) => [r.table, r.target, r.key, r.column, r.attempts])).toEqual([
      [tableA, 'biz_orders', ['502'], 'amount', 1],
      [tableA, 'biz_orders', ['501'], 'amount', 7],
    ]);
    expect(a.json.rows[1].reason).toBe(reason(tableA, 501, '100000000000000'));
    expect(Date.parse(a.json.rows[1].firstSeenAt)).toBeLessThan(Date.parse(a.json.rows[1].lastSeenAt));
    expect(a.text).not.toContain(tableB);

    const b = await env.get(Q, env.other.read);
    expect(b.json.rows.map((r: any) => [r.table, r.key])).toEqual([[tableB, ['9']]]);
    expect(b.text).not.toContain(tableA);
  });

  test("table narrows to one table; another project's table named explicitly gives nothing; limit caps; bad input and keys are refused", async () => {
    expect((await env.get(`${Q}?table=${encodeURIComponent(tableA)}&limit=1`)).json.rows.map((r: any) => r.key)).toEqual([['502']]);
    expect((await env.get(`${Q}?table=${encodeURIComponent(tableB)}`)).json.rows).toEqual([]);
    expect((await env.get(`${Q}?limit=0`)).status).toBe(400);
    expect((await env.get(`${Q}?limit=1001`)).status).toBe(400);
    expect((await env.call('GET', Q, undefined)).status).toBe(401);
    // Ingest keys write; reading the quarantine needs a read (or admin) key.
    expect((await env.call('GET', Q, env.stack.keys.ingest)).status).toBe(403);
    expect((await env.get(Q, env.stack.keys.admin)).json.rows).toHaveLength(2);
  });

  test("the status read by the API equals the etl role's own status for the project, with the quarantine and divergence figures", async () => {
    const api = await env.get('/api/analytics-monitoring/etl/status');
    expect(api.status).toBe(200);
    const own = await getSyncStatus(env.stack.meta, { project: env.stack.project });
    expect(api.json.tables.map(({ rows: _rows, ...t }: any) => t)).toEqual(JSON.parse(JSON.stringify(own.tables)));
    const [t] = api.json.tables;
    expect([t.table, t.quarantinedRows, t.reconciliation.missing, t.reconciliation.repaired, t.content.changed, t.content.repaired]).toEqual([
      tableA,
      2,
      1,
      2,
      2,
      2,
    ]);
    const b = await env.get('/api/analytics-monitoring/etl/status', env.other.read);
    expect(b.json.tables.map((x: any) => [x.table, x.quarantinedRows, x.content])).toEqual([[tableB, 1, null]]);
  });

  test('the OpenAPI document describes the quarantine route: its parameters and its answer', async () => {
    const doc = (await env.call('GET', '/openapi.json', undefined)).json;
    const get = doc.paths[Q].get;
    expect(get.parameters.map((p: any) => [p.name, p.required])).toEqual([
      ['table', false],
      ['limit', false],
    ]);
    expect(Object.keys(get.responses[200].content['application/json'].schema.properties.rows.items.properties)).toEqual(
      expect.arrayContaining(['table', 'key', 'column', 'reason', 'firstSeenAt', 'lastSeenAt']),
    );
  });
});

describe('ingest audit', () => {
  test("the latest audit run per signal of the caller's project, with the compared window; another project's runs are not seen", async () => {
    const at = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().slice(0, 23).replace('T', ' ');
    const row = (project: string, signal: string, checked: string, acknowledged: number, landed: number) => ({
      project_id: project,
      signal,
      checked_at: checked,
      from_minute: '2026-01-01 10:00:00',
      to_minute: '2026-01-01 11:00:00',
      grace_seconds: 300,
      acknowledged,
      landed,
      lost: Math.max(0, acknowledged - landed),
      unacknowledged: Math.max(0, landed - acknowledged),
      differing_minutes: acknowledged === landed ? 0 : 1,
      collector: 'c1',
    });
    await env.stack.ch.client.insert({
      table: 'ingest_audit_v1',
      format: 'JSONEachRow',
      values: [
        row(env.stack.project, 'events', at(120_000), 100, 100),
        row(env.stack.project, 'events', at(60_000), 137, 100),
        row(env.stack.project, 'logs', at(60_000), 5, 5),
        row(env.other.project, 'events', at(60_000), 9, 0),
      ],
    });
    const a = await env.get('/api/analytics-monitoring/monitoring/health/ingest-audit');
    expect([a.status, a.status === 200 ? '' : a.text]).toEqual([200, '']);
    expect(
      a.json.signals.map((s: any) => [s.signal, s.acknowledged, s.landed, s.lost, s.unacknowledged, s.differingMinutes, s.from, s.to, s.graceSeconds]),
    ).toEqual([
      ['events', 137, 100, 37, 0, 1, '2026-01-01T10:00:00Z', '2026-01-01T11:00:00Z', 300],
      ['logs', 5, 5, 0, 0, 0, '2026-01-01T10:00:00Z', '2026-01-01T11:00:00Z', 300],
    ]);
    expect(Math.abs(Date.parse(a.json.signals[0].checkedAt) - (Date.now() - 60_000))).toBeLessThan(30_000);
    const b = await env.get('/api/analytics-monitoring/monitoring/health/ingest-audit', env.other.read);
    expect(b.json.signals.map((s: any) => [s.signal, s.lost])).toEqual([['events', 9]]);
  });
});
