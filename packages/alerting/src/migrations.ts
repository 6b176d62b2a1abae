import path from 'node:path';

/**
 * This role's metadata Postgres migrations (alert rules, state, notifications; versions 01xx), shipped with
 * this package so the role owns its tables. They share one version sequence
 * with core's and the other roles' (see migratePostgres): the platform
 * (packages/cli) applies them together.
 */
export const ALERTING_POSTGRES_MIGRATIONS_DIR = path.resolve(__dirname, '..', 'sql', 'postgres');
