import { componentLogger, type RoleContext } from '@tidemark/core';
import { readonlyClickHouse } from '../role';
import type { AlertingRoleConfig } from '../settings';
import { AlertingService } from './service';

/**
 * What the query API may call on alerting, as narrow interfaces (Prometheus's
 * rulesRetriever pattern): the API package depends on these types only and
 * never builds the service or its ClickHouse client; the platform wiring
 * (packages/cli/src/roles.ts) injects `createAlertsApi`.
 *
 * AlertsApi: tenant-scoped reads and writes; every method takes the caller's
 * project first and scopes every statement by it.
 */
export type AlertsApi = Pick<
  AlertingService,
  | 'listActiveAlerts'
  | 'history'
  | 'acknowledge'
  | 'createSilence'
  | 'listSilences'
  | 'getSilence'
  | 'updateSilence'
  | 'expireSilence'
  | 'deleteSilence'
  | 'createMaintenanceWindow'
  | 'listMaintenanceWindows'
  | 'deleteMaintenanceWindow'
  | 'listRules'
  | 'getRule'
  | 'validateRule'
  | 'createRule'
  | 'updateRule'
  | 'deleteRule'
  | 'listRuleProblems'
  | 'getPolicy'
  | 'putPolicy'
  | 'listNotifications'
  | 'listAttempts'
  | 'testSend'
  | 'preview'
>;

/** Delivery verdicts from SMS/WhatsApp providers (signature-checked, not tenant-scoped: the provider is the caller). */
export type ProviderCallbacks = Pick<AlertingService, 'whatsappWebhookVerify' | 'whatsappWebhook' | 'twilioStatusCallback'>;

/**
 * Builds the alerting service the API serves, on the role's context: its own
 * read-only ClickHouse client (rule checks and previews get
 * ALERTING_QUERY_TIMEOUT_MS, not the SQL console's limits), closed with the
 * lifecycle. It needs no engine: `--role api` alone serves alert state from
 * the metadata Postgres.
 */
export function createAlertsApi(ctx: RoleContext<AlertingRoleConfig>): AlertsApi & ProviderCallbacks {
  const readonly = readonlyClickHouse(ctx.config, ctx.clickhouse.options.url);
  ctx.lifecycle.onStop('api-alerting-readonly-clickhouse', () => readonly.close());
  const service = new AlertingService({ meta: ctx.meta, readonly, config: ctx.config, logger: componentLogger(ctx.logger, 'alerting-api') });
  ctx.lifecycle.onStop('api-alerting-service', () => service.close());
  return service;
}
