import path from 'node:path';

/**
 * This role's metadata Postgres migrations (AI analytics settings and quality audits; versions 03xx), shipped with
 * this package so the role owns its tables. They share one version sequence
 * with core's and the other roles' (see migratePostgres): the platform
 * (packages/cli) applies them together.
 */
export const API_POSTGRES_MIGRATIONS_DIR = path.resolve(__dirname, '..', 'sql', 'postgres');
