import type { AddressInfo } from 'node:net';
import { ClickHouse, componentLogger, createGracefulServer, pgExec, type Role } from '@tidemark/core';
import { AlertingService, readonlyClickHouse } from '@tidemark/alerting';
import { analyticsOptionsFromConfig } from './analytics/options';
import { createApiApp } from './app';
import { locateDashboard } from './http/static';

/** The query API and the dashboard (packages/web, served at /) on API_PORT. */
export const apiRole: Role<'api'> = {
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
    // Alerts on the API: the same service the alerting role is built on, with its own read-only
    // client (rule checks and previews get ALERTING_QUERY_TIMEOUT_MS, not the console's limits).
    // It needs no engine here: `--role api` alone serves alert state from the metadata Postgres.
    const alertingReadonly = readonlyClickHouse(config, ctx.clickhouse.options.url);
    lifecycle.onStop('api-alerting-readonly-clickhouse', () => alertingReadonly.close());
    const alerting = new AlertingService({ meta: ctx.meta, readonly: alertingReadonly, config, logger: componentLogger(logger, 'alerting-api') });
    lifecycle.onStop('api-alerting-service', () => alerting.close());
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
};
