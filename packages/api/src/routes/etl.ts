import type { Pool } from 'pg';
import { z } from 'zod';
import type { ClickHouse, Logger } from '@tidemark/core';
import { getSyncStatus } from '@tidemark/etl';
import { route, type AnyRoute } from '../http/route';

/** A target name is used as an identifier: only plain ones (the ETL's own rule for targets) reach SQL. */
const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,200}$/;
const ROWS = z.object({ target: z.string(), rows: z.coerce.number() });

/**
 * ETL sync status (/api/analytics-monitoring/etl/status). Every synced table
 * belongs to a project (its source's `project`, the project_id its rows
 * carry in ClickHouse), so a read key sees its own project's tables and the
 * CDC sources (replication slots) feeding them, and nothing of another
 * project's: no admin-only platform view is needed here (operators have the
 * Prometheus gauges and etl_sync_status_v1 for the whole platform).
 *
 * `rows` is the table's current row count in ClickHouse (`FINAL`, without
 * tombstones): the ETL's own `rowsSynced` counts row versions landed (every
 * update lands a new version), which overstates the table (6,016 "rows" for
 * 2,013 customers), so the dashboard shows `rows`.
 */
export function etlRoutes(deps: { meta: Pool; clickhouse?: ClickHouse; logger?: Logger }): AnyRoute[] {
  const log = deps.logger?.child({ component: 'api.etl' });
  async function currentRows(project: string, targets: string[]): Promise<Map<string, number>> {
    const plain = [...new Set(targets)].filter((t) => IDENT.test(t));
    if (!deps.clickhouse || plain.length === 0) return new Map();
    const sql = plain.map((t) => `SELECT '${t}' AS target, count() AS rows FROM ${t}_v1 FINAL WHERE project_id = {project:String} AND is_deleted = 0`).join(' UNION ALL ');
    try {
      const rs = await deps.clickhouse.client.query({ query: sql, query_params: { project }, format: 'JSONEachRow' });
      return new Map(z.array(ROWS).parse(await rs.json()).map((r) => [r.target, r.rows]));
    } catch (err) {
      // A target the ETL has not created yet (or one without is_deleted) has no row count; the status itself still answers.
      log?.debug({ err }, 'current row counts of the ETL targets not read');
      return new Map();
    }
  }
  return [
    route({
      method: 'get',
      path: '/api/analytics-monitoring/etl/status',
      summary: "Sync status of the project's business tables: phase, state (ok, stalled, error, ...), lag, rows (current) and row versions landed, last error, reconciliation; and their CDC sources",
      tag: 'etl',
      auth: 'read',
      async handler({ principal }) {
        const status = await getSyncStatus(deps.meta, { project: principal.projectId });
        const rows = await currentRows(principal.projectId, status.tables.map((t) => t.target));
        return { ...status, tables: status.tables.map((t) => ({ ...t, rows: rows.get(t.target) ?? null })) };
      },
    }),
  ];
}
