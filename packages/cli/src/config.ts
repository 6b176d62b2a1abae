import { alertingSettings } from '@tidemark/alerting';
import { apiSettings } from '@tidemark/api';
import { collectorSettings } from '@tidemark/collector';
import { configSchema, parseConfig, type ConfigOf } from '@tidemark/core';
import { etlSettings } from '@tidemark/etl';
import { monitorSettings } from '@tidemark/monitor';

/**
 * Each role's settings slice, as it owns it (packages/<role>/src/settings.ts).
 * Core's slice (packages/core/src/config/schema.ts) holds what every process
 * reads: engines, stores, Kafka's address, the listeners' ports.
 */
export const SETTINGS_SLICES = {
  collector: collectorSettings,
  monitor: monitorSettings,
  etl: etlSettings,
  alerting: alertingSettings,
  api: apiSettings,
} as const;

// Invariant: no key is defined twice; a role redefining a core or another role's key would silently override it.
const owner = new Map<string, string>(Object.keys(configSchema.shape).map((k) => [k, 'core']));
for (const [role, slice] of Object.entries(SETTINGS_SLICES)) {
  for (const key of Object.keys(slice.shape)) {
    const first = owner.get(key);
    if (first) throw new Error(`setting ${key} is defined by both ${first} and ${role}`);
    owner.set(key, role);
  }
}

/** Every setting of the platform: core's and every role's, by environment variable name. */
export const platformConfigSchema = configSchema
  .extend(collectorSettings.shape)
  .extend(monitorSettings.shape)
  .extend(etlSettings.shape)
  .extend(alertingSettings.shape)
  .extend(apiSettings.shape);

/** The configuration `tidemark start` runs with; every role's RoleContext config is a view of it. */
export type PlatformConfig = ConfigOf<typeof platformConfigSchema>;
/** Names of every environment variable the platform reads. */
export const PLATFORM_CONFIG_KEYS: string[] = [...owner.keys()];
/** Which slice owns a setting ('core' or a role name). */
export const settingOwner = (key: string): string | undefined => owner.get(key);

/**
 * Parses the platform's configuration once: the TIDEMARK_CONFIG file, then the
 * environment, then `overrides` (command-line flags); every bad key named.
 */
export function loadPlatformConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<string, unknown>> = {}): PlatformConfig {
  return parseConfig(platformConfigSchema, env, overrides);
}
