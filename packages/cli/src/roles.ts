import type { Role } from '@tidemark/core';
import { alertingRole, createAlertsApi } from '@tidemark/alerting';
import { createApiRole } from '@tidemark/api';
import { collectorRole, consumerRole } from '@tidemark/collector';
import { etlRole } from '@tidemark/etl';
import { monitorRole } from '@tidemark/monitor';
import type { PlatformConfig } from './config';

export type { Role, RoleContext, Endpoint } from '@tidemark/core';

/**
 * Every role the platform has. `RoleName` lists them and `ROLES` must have
 * an entry for each, so a role that is named but not wired (or wired but not
 * named) is a compile error, and `tidemark start` always runs all of them.
 * Order matters: roles start in this order and stop in reverse.
 */
export type RoleName = 'consumer' | 'collector' | 'monitor' | 'etl' | 'alerting' | 'api';

export const ROLES: { [N in RoleName]: Role<N, PlatformConfig> } = {
  consumer: consumerRole,
  collector: collectorRole,
  monitor: monitorRole,
  etl: etlRole,
  alerting: alertingRole,
  // The API reads alerting through narrow interfaces; the service is built here, not imported by the API.
  api: createApiRole<PlatformConfig>({ alerts: createAlertsApi }),
};
