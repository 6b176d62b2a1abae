export { createApiRole, type ApiRoleDeps } from './role';
export { createApiApp, apiRoutes, type ApiDeps } from './app';
export { route, type AnyRoute, type RouteDef } from './http/route';
export { timeseries } from './routes/timeseries';
export { timeseriesRequest, type TimeseriesRequest } from './query/schema';
export { parseLogQuery, logQuerySql } from './logs/query-language';
export { SqlConsole } from './sql/console';
export { latestMetrics } from './routes/monitoring';
export { analyticsOptionsFromConfig, BUILTIN_TOKEN_PRICES, DEFAULT_ANALYTICS_OPTIONS, type AnalyticsOptions } from './analytics/options';
