import type { AnyRoute } from '../../http/route';
import { customerRoutes } from './customers';
import { orderRoutes } from './orders';
import { peopleRoutes } from './people';
import { serviceRecordRoutes } from './service-records';
import type { BusinessDeps } from './common';

/**
 * Business statistics of the requirements (/api/analytics-monitoring/analytics/...)
 * over the biz_* tables the ETL keeps in ClickHouse. The routes are thin: each
 * domain's statements (SQL and row schema) and the figures computed from
 * their rows live in analytics/business/<domain>.ts.
 */
export function businessRoutes(deps: BusinessDeps): AnyRoute[] {
  return [...customerRoutes(deps), ...orderRoutes(deps), ...serviceRecordRoutes(deps), ...peopleRoutes(deps)];
}
