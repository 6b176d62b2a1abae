import { ClickHouse, createLogger, createMetricsRegistry, MemoryStore } from '@tidemark/core';
import type { AlertsApi, ProviderCallbacks } from '@tidemark/alerting';
import type { Pool } from 'pg';
import { apiRoutes, API_INFO } from '../app';
import { openApiDocument, type AnyRoute } from './route';

/**
 * The query API's OpenAPI document built offline from the route table, with
 * no server, database or ClickHouse: what the dashboard's API types are
 * generated from (packages/web/scripts/api-types.mjs) and what the OpenAPI
 * test walks. Building the routes connects to nothing: the ClickHouse client
 * only defines its typed queries (and checks their placeholders); the
 * metadata pool and the alerting service are only held by the handlers,
 * which never run here.
 */
export async function offlineOpenApiDocument(extraRoutes: AnyRoute[] = []): Promise<Record<string, unknown>> {
  const clickhouse = new ClickHouse({ url: 'http://127.0.0.1:9', username: 'default', password: '', database: 'tidemark' });
  try {
    const routes = apiRoutes({
      clickhouse,
      readonlyClickhouse: clickhouse,
      database: 'tidemark',
      meta: {} as Pool,
      kv: new MemoryStore(),
      logger: createLogger({ level: 'silent' }),
      metrics: createMetricsRegistry(),
      alerting: {} as AlertsApi & ProviderCallbacks,
      extraRoutes,
    });
    return openApiDocument(routes, API_INFO);
  } finally {
    await clickhouse.client.close();
  }
}
