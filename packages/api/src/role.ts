import type { AddressInfo } from 'node:net';
import { ClickHouse, createGracefulServer, pgExec, type Role, type RoleContext } from '@tidemark/core';
import type { ApiRoleConfig } from './settings';
import type { AlertsApi, ProviderCallbacks } from '@tidemark/alerting';
import { analyticsOptionsFromConfig } from './analytics/options';
import { createApiApp } from './app';
import { locateDashboard } from './http/static';

/** What the API role is given instead of importing other roles: narrow interfaces, built on the role's context. */
export interface ApiRoleDeps<C extends ApiRoleConfig = ApiRoleConfig> {
  /** The alerting service behind /api/analytics-monitoring/alerts/... and the provider callbacks. */
  alerts(ctx: RoleContext<C>): AlertsApi & ProviderCallbacks;
}

/** The query API and the dashboard (packages/web, served at /) on API_PORT. */
export const createApiRole = <C extends ApiRoleConfig>(deps: ApiRoleDeps<C>): Role<'api', C> => ({
  name: 'api',
  description: 'Query API: time series, business statistics, monitoring, alerts, log search, SQL console',
  async start(ctx) {
    const { config, logger, lifecycle } = ctx;
    const readonlyClickhouse = new ClickHouse({
      ...ctx.clickhouse.options,
      username: config.CLICKHOUSE_READONLY_USER,
      password: config.CLICKHOUSE_READONLY_PASSWORD,
      application: 'tidemark-sql-console',
    });
    lifecycle.onStop('api-readonly-clickhouse', () => readonlyClickhouse.close());
    const alerting = deps.alerts(ctx);
    const app = createApiApp({
      clickhouse: ctx.clickhouse,
      readonlyClickhouse,
      database: config.CLICKHOUSE_DATABASE,
      meta: ctx.meta,
      kv: ctx.kv,
      logger,
      metrics: ctx.metrics,
      alerting,
      dashboardDir: locateDashboard(config.API_DASHBOARD_DIR),
      analytics: analyticsOptionsFromConfig(config),
      ready: async () => {
        if (!(await ctx.clickhouse.ping())) throw new Error('ClickHouse does not answer');
        await pgExec(ctx.meta, 'SELECT 1');
      },
    });
    // Stops taking requests at the signal (503, Connection: close); in-flight ones finish.
    const server = createGracefulServer(app.callback(), { name: 'api', lifecycle, logger });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.API_PORT, config.TIDEMARK_HOST, () => resolve());
    });
    const url = `http://${config.TIDEMARK_HOST}:${(server.address() as AddressInfo).port}`;
    logger.info({ url }, 'query API listening');
    return [{ name: 'Query API (OpenAPI at /openapi.json)', url }];
  },
});
