import type { Pool } from 'pg';
import { z } from 'zod';
import type { ClickHouse, Logger } from '@tidemark/core';
import { route, type AnyRoute } from '../http/route';
import { EtlMetadataReader, quarantinedRowSchema, sourceStatusSchema, tableStatusSchema } from './etl-reader';

/** A target name is used as an identifier: only plain ones (the ETL's own rule for targets) reach SQL. */
const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,200}$/;
const ROWS = z.object({ target: z.string(), rows: z.coerce.number() });

const statusResponse = z.object({
  generatedAt: z.string(),
  tables: z.array(tableStatusSchema.extend({ rows: z.number().nullable().describe('Current rows of the target in ClickHouse (null before it exists)') })),
  sources: z.array(sourceStatusSchema),
});

const quarantineQuery = z.object({
  table: z
    .string()
    .min(1)
    .max(500)
    .optional()
    .describe('One synced table (<source>.<schema>.<table>, as `table` in the status); default: every table of the project'),
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Rows at most (1..1000), most recently seen first'),
});

const quarantineResponse = z.object({ rows: z.array(quarantinedRowSchema) });

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
 *
 * The ETL's metadata is read through EtlMetadataReader (etl-reader.ts), the
 * API's own typed reader of the tables the etl role writes: the API does not
 * depend on the etl role's package (issue 17).
 */
export function etlRoutes(deps: { meta: Pool; clickhouse?: ClickHouse; logger?: Logger }): AnyRoute[] {
  const log = deps.logger?.child({ component: 'api.etl' });
  const reader = new EtlMetadataReader(deps.meta);
  async function currentRows(project: string, targets: string[]): Promise<Map<string, number>> {
    const plain = [...new Set(targets)].filter((t) => IDENT.test(t));
    if (!deps.clickhouse || plain.length === 0) return new Map();
    const sql = plain
      .map((t) => `SELECT '${t}' AS target, count() AS rows FROM ${t}_v1 FINAL WHERE project_id = {project:String} AND is_deleted = 0`)
      .join(' UNION ALL ');
    try {
      const rs = await deps.clickhouse.client.query({ query: sql, query_params: { project }, format: 'JSONEachRow' });
      return new Map(
        z
          .array(ROWS)
          .parse(await rs.json())
          .map((r) => [r.target, r.rows]),
      );
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
      summary:
        "Sync status of the project's business tables: phase, state (ok, stalled, error, ...), lag, rows (current) and row versions landed, last error, reconciliation; and their CDC sources",
      tag: 'etl',
      auth: 'read',
      response: statusResponse,
      async handler({ principal }) {
        const status = await reader.syncStatus(principal.projectId);
        const rows = await currentRows(
          principal.projectId,
          status.tables.map((t) => t.target),
        );
        return { ...status, tables: status.tables.map((t) => ({ ...t, rows: rows.get(t.target) ?? null })) };
      },
    }),
    route({
      method: 'get',
      path: '/api/analytics-monitoring/etl/quarantine',
      summary:
        "Rows of the project's synced tables held in the ETL's per-row quarantine (a value that cannot land in ClickHouse, e.g. a numeric too large for its Decimal): table, key, reason, first and last seen; retried every run",
      tag: 'etl',
      auth: 'read',
      query: quarantineQuery,
      response: quarantineResponse,
      async handler({ principal, query }) {
        return { rows: await reader.quarantinedRows(principal.projectId, { table: query.table, limit: query.limit }) };
      },
    }),
  ];
}
