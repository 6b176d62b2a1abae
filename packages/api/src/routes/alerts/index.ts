import type { AlertsApi } from '@tidemark/alerting';
import type { AnyRoute } from '../../http/route';
import { alertInstanceRoutes } from './instances';
import { notificationRoutes } from './notifications';
import { ruleCheckRoutes, ruleRoutes } from './rules';
import { maintenanceWindowRoutes, silenceRoutes } from './silences';

/**
 * Alerts on the query API (/api/analytics-monitoring/alerts/...): thin
 * handlers over @tidemark/alerting's AlertsApi (the AlertingService), which scopes every
 * statement by the project passed first; here that is always the key's
 * project, so another project's alert, silence or rule is simply not found
 * (404, the same answer as for one that does not exist: no existence leak).
 *
 * Request validation reuses the service's own zod schemas (inputs.*), so
 * the API, the OpenAPI document and the service cannot disagree. Roles:
 * `read` for everything that changes nothing (including validating and
 * previewing a rule: read-only SQL as the read-only ClickHouse user, as
 * the SQL console already allows a read key), `admin` for every change
 * (acknowledge, silences, maintenance windows, rules, policy, test sends)
 * and for the policy, whose channel settings may hold addresses and keys.
 */
export function alertRoutes(deps: { alerting: AlertsApi }): AnyRoute[] {
  const svc = deps.alerting;
  return [
    ...alertInstanceRoutes(svc),
    ...silenceRoutes(svc),
    ...maintenanceWindowRoutes(svc),
    ...ruleRoutes(svc),
    ...ruleCheckRoutes(svc),
    ...notificationRoutes(svc),
  ];
}
