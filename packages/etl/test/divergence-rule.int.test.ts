/**
 * Issue 15: ETL divergence is alertable. A table that diverges (a backdated
 * update the cursor cannot see) and holds a quarantined row is reconciled,
 * its status is published into etl_sync_status_v1 with its project and the
 * divergence figures, and the built-in rules EtlTableDiverged and
 * EtlRowsQuarantined are evaluated the way the alerting engine evaluates
 * them (backtest: the rule SQL through the tenant read path as the
 * read-only ClickHouse user, then the engine's decide/step): they fire for
 * the table's project and see nothing from another project.
 */
import { backtest, builtinRuleFile, type BacktestResult } from '@tidemark/alerting';
import { ClickHouse } from '@tidemark/core';
import { getSyncStatus, publishStatusToClickHouse } from '../src/status/status';
import { runTable } from '../src/sync/table-sync';
import { sourceConfig, startHarness, tableOf, type Harness } from './support/harness';

let h: Harness;
let ro: ClickHouse;
const PROJECT = 'etl-div-a';
const OTHER = 'etl-div-b';

beforeAll(async () => {
  h = await startHarness('divrule');
  // The alerting engine's client: the read-only user, whose reads the tenant path filters per project.
  ro = new ClickHouse({ url: h.server.url, ...h.server.auth(true), database: h.database });
});

afterAll(async () => {
  await ro?.close();
  await h?.close();
});

/** Evaluates one built-in rule for a project at the present (two steps: a minute ago, and now). */
async function evaluate(rule: string, project: string): Promise<BacktestResult> {
  const spec = builtinRuleFile(rule, project).rules[0]?.spec;
  if (!spec) throw new Error(`no built-in rule ${rule}`);
  const now = Date.now();
  return backtest(ro, spec, project, { from: now - 60_000, to: now, stepMs: 60_000, queryTimeoutCapMs: 10_000, maxRows: 1000 });
}

test('a backdated update and a quarantined row: the status row carries project and figures, EtlTableDiverged and EtlRowsQuarantined fire for that project only', async () => {
  await h.sql(`CREATE TABLE orders (id int PRIMARY KEY, amount numeric(38,10) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  await h.sql(`INSERT INTO orders SELECT g, g * 1.25, now() - interval '1 hour' FROM generate_series(1, 500) g`);
  // Does not fit the Decimal(18, 4) override: held in the quarantine, the rest syncs.
  await h.sql(`INSERT INTO orders VALUES (501, 100000000000000, now() - interval '1 hour')`);
  const s = sourceConfig(
    h,
    [
      {
        name: 'orders',
        target: 'biz_orders',
        mode: 'cursor',
        cursor: { column: 'updated_at', overlap: '2s' },
        reconcile: { every: '1h' },
        types: { amount: 'Decimal(18, 4)' },
      },
    ],
    { project: PROJECT },
  );
  const cfg = tableOf(s, 'orders');
  expect((await runTable(h.deps(s), cfg, { reconcile: 'skip' })).status).toBe('ok');

  // Clean so far: published, neither rule has anything to say about divergence.
  await publishStatusToClickHouse(h.ch, await getSyncStatus(h.meta));
  expect((await evaluate('EtlTableDiverged', PROJECT)).episodes).toEqual([]);

  // Backdated far behind the cursor and its 2 s overlap: only content reconciliation sees it.
  await h.sql(`UPDATE orders SET amount = amount + 17771, updated_at = now() - interval '1 hour' WHERE id IN (42, 43)`);
  const rec = await runTable(h.deps(s), cfg, { reconcile: 'force' });
  expect(rec.reconcile?.content).toMatchObject({ changed: 2, repaired: 2, remaining: 0 });

  const status = await getSyncStatus(h.meta);
  await publishStatusToClickHouse(h.ch, status);
  // recon_missing counts the quarantined row (in the source, not in ClickHouse); the rule takes it off.
  const row = await h.chRows(
    `SELECT project_id, recon_missing, recon_repaired, content_changed, content_repaired, content_remaining, content_changed_total, quarantined_rows, quarantined_since IS NOT NULL AS q_since
       FROM ${h.database}.etl_sync_status_v1 FINAL WHERE table_key = '${cfg.key}'`,
  );
  expect(row).toEqual([
    {
      project_id: PROJECT,
      recon_missing: '1',
      recon_repaired: '2',
      content_changed: '2',
      content_repaired: '2',
      content_remaining: '0',
      content_changed_total: '2',
      quarantined_rows: '1',
      q_since: 1,
    },
  ]);

  const diverged = await evaluate('EtlTableDiverged', PROJECT);
  expect(diverged.errors).toEqual([]);
  // A minute ago the row did not exist yet (no data: ok); now it fires, labelled by table.
  expect(diverged.episodes.map((e) => [e.labels.alertname, e.labels.table, e.labels.target, e.firedAt !== null, e.peakSeverity])).toEqual([
    ['EtlTableDiverged', cfg.key, 'biz_orders', true, 'WARNING'],
  ]);
  expect(diverged.transitions.at(-1)?.value).toBe(2);

  const held = await evaluate('EtlRowsQuarantined', PROJECT);
  expect(held.errors).toEqual([]);
  expect(held.episodes.map((e) => [e.labels.table, e.firedAt !== null])).toEqual([[cfg.key, true]]);
  expect(held.transitions.at(-1)?.value).toBe(1);

  // Another project's rule reads the same table through the same path and sees none of it.
  expect((await evaluate('EtlTableDiverged', OTHER)).episodes).toEqual([]);
  expect((await evaluate('EtlRowsQuarantined', OTHER)).episodes).toEqual([]);

  // The next reconciliation finds the table equal: the divergence alert has nothing left to fire on.
  const again = await runTable(h.deps(s), cfg, { reconcile: 'force' });
  expect(again.reconcile?.content?.changed).toBe(0);
  await publishStatusToClickHouse(h.ch, await getSyncStatus(h.meta));
  const after = await evaluate('EtlTableDiverged', PROJECT);
  expect(after.errors).toEqual([]);
  expect(after.episodes).toEqual([]);
}, 120_000);
