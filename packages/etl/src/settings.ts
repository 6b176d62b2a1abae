import { z } from 'zod';
import { configFields, configSchema, type Config } from '@tidemark/core';

const { envBool, positiveInt, url, optional } = configFields;

/**
 * This role's settings (the ETL: its sources file and the demo business source), by environment variable name, with a
 * comment per key. The CLI composes every role's slice with core's into the
 * platform schema (packages/cli/src/config.ts), parsed once at start.
 */
export const etlSettings = z.object({
  /** Path of the ETL's own YAML/JSON file (sources, tables, modes, schedules; see docs/etl.md). Unset: no configured sources. */
  ETL_CONFIG: optional(z.string().min(1)),
  /** Runs the demo business source (customers, orders, service records, users, organizations, roles, products) with its change generator, synced into the biz_<table> tables. */
  ETL_DEMO: envBool.default(false),
  /** Postgres URL of the demo business source. Unset: the metadata Postgres (embedded PGlite or META_DATABASE_URL), in schema tidemark_demo. */
  ETL_DEMO_SOURCE_URL: optional(url),
  /** Number of demo customers created on first start (orders are 10x, service records 3x, users 2x). */
  ETL_DEMO_CUSTOMERS: positiveInt.default(2_000),
  /** Changes per second the demo generator keeps making (inserts, updates, deletes); 0 stops it. */
  ETL_DEMO_CHANGES_PER_SECOND: z.coerce.number().min(0).max(10_000).default(5),
});

/** The configuration this role runs with: core's settings and its own. */
export const etlRoleConfigSchema = configSchema.extend(etlSettings.shape);
export type EtlRoleConfig = Config & z.output<typeof etlSettings>;
