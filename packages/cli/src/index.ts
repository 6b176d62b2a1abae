export { startPlatform, migrateAll, type Platform } from './platform';
export { ROLES, type Role, type RoleContext, type RoleName, type Endpoint } from './roles';
