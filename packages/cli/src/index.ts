export { startPlatform, migrateAll, type Platform } from './platform';
export { ROLES, type Role, type RoleContext, type RoleName, type Endpoint } from './roles';
export { loadPlatformConfig, platformConfigSchema, PLATFORM_CONFIG_KEYS, SETTINGS_SLICES, settingOwner, type PlatformConfig } from './config';
