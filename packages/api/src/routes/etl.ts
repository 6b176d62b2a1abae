import type { Pool } from 'pg';
import { getSyncStatus } from '@tidemark/etl';
import { route, type AnyRoute } from '../http/route';

/**
 * ETL sync status (/api/analytics-monitoring/etl/status). Every synced table
 * belongs to a project (its source's `project`, the project_id its rows
 * carry in ClickHouse), so a read key sees its own project's tables and the
 * CDC sources (replication slots) feeding them, and nothing of another
 * project's: no admin-only platform view is needed here (operators have the
 * Prometheus gauges and etl_sync_status_v1 for the whole platform).
 */
export function etlRoutes(deps: { meta: Pool }): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/analytics-monitoring/etl/status',
      summary: "Sync status of the project's business tables: phase, state (ok, stalled, error, ...), lag, rows, last error, reconciliation; and their CDC sources",
      tag: 'etl',
      auth: 'read',
      async handler({ principal }) {
        return getSyncStatus(deps.meta, { project: principal.projectId });
      },
    }),
  ];
}
