import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClickHouse, type Role } from '@tidemark/core';
import { analyticsOptionsFromConfig } from './analytics/options';
import { createApiApp } from './app';
import type { AnyRoute } from './http/route';

/** Routes other packages contribute (alerting, ETL status, ...), registered before the API role starts. */
export const extraApiRoutes: AnyRoute[] = [];

/** The query API (and, later, the dashboard) on API_PORT. */
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
    const app = createApiApp({
      clickhouse: ctx.clickhouse,
      readonlyClickhouse,
      database: config.CLICKHOUSE_DATABASE,
      meta: ctx.meta,
      kv: ctx.kv,
      logger,
      metrics: ctx.metrics,
      extraRoutes: extraApiRoutes,
      analytics: analyticsOptionsFromConfig(config),
      ready: async () => {
        if (!(await ctx.clickhouse.ping())) throw new Error('ClickHouse does not answer');
        await ctx.meta.query('SELECT 1');
      },
    });
    const server = http.createServer(app.callback());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.API_PORT, config.TIDEMARK_HOST, () => resolve());
    });
    lifecycle.onStop('api-http', () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }));
    const url = `http://${config.TIDEMARK_HOST}:${(server.address() as AddressInfo).port}`;
    logger.info({ url }, 'query API listening');
    return [{ name: 'Query API (OpenAPI at /openapi.json)', url }];
  },
};
