/**
 * @tidemark/alerting: SQL-defined alert rules, durable alert state, and the
 * notification outbox, pipeline and channels. docs/alerting.md describes it.
 */
export { alertingSettings, alertingRoleConfigSchema, type AlertingRoleConfig } from './settings';
export { alertingRole, loadRuleSources, readonlyClickHouse } from './role';
export {
  AlertingService,
  type AlertingServiceOptions,
  type ActiveAlert,
  type HistoryEntry,
  type Silence,
  type NotificationRecord,
  type AttemptRecord,
} from './api/service';
export * as inputs from './api/inputs';
export { createAlertsApi, type AlertsApi, type ProviderCallbacks } from './api/contract';
export { AlertEngine, type AlertEngineOptions, type TickReport } from './engine/engine';
export { startScheduler, type Scheduler } from './engine/scheduler';
export { backtest, type BacktestResult } from './engine/backtest';
export { step, retire } from './engine/state-machine';
export { decide } from './engine/decide';
export { systemClock, ManualClock, type Clock } from './clock';
export { ruleSchema, type RuleInput, type RuleSpec, type RuleProblem, type Severity, SEVERITIES } from './rules/schema';
export { parseRuleFile, readRuleDir, syncRuleFiles, type ParsedFile, type SyncReport } from './rules/load';
export { builtinRuleFile, builtinRuleNames, BUILTIN_RULES_FILE } from './rules/builtin';
export { checkRuleSql } from './rules/validate';
export { policySchema, routeSchema, type PolicyInput, type PolicySpec } from './notify/policy';
export { silenceInputSchema, maintenanceInputSchema, type SilenceInput, type MaintenanceInput } from './notify/mute';
export {
  channels,
  channelConfigSchema,
  signWebhook,
  twilioSignature,
  verifyTwilioSignature,
  recordTwilioStatus,
  statusCallbackUrl,
  metaSignature,
  CHANNEL_TYPES,
  type Channel,
  type ChannelType,
  type ChannelConfig,
  type Notification,
  type NotificationAlert,
} from './channels';
export { compileTemplate } from './util/template';
export { parseMatcher, type Matcher } from './util/matchers';
export { ALERTING_POSTGRES_MIGRATIONS_DIR } from './migrations';
